package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fixtureInfo is what each capture fixture holds, checked against its
// tshark reference (testdata/captures/X.tshark.txt) and testdata/README.md.
type fixtureInfo struct {
	name   string
	frames int // capinfos "Number of packets" (whole records for truncated.pcap)
	sip    int // tshark sip,stat "Number of SIP messages"
	calls  int
	twice  bool // forwarded RTP captured twice: run with --keep-duplicates too
	warn   []string
	dups   int // duplicates dropped when media is read (flow, calls --json, rtp)
}

// The commands that read SIP only do not check RTP for duplicates, so they
// report no dropped duplicates: the SIP legs of the routed captures appear
// once each (kamailio terminates them). The commands that read media (flow,
// calls --json, rtp) drop the forwarded RTP seen twice: dups.
var fixtures = []fixtureInfo{
	{name: "any-sll2-router.pcap", frames: 462, sip: 14, calls: 1, twice: true, dups: 220},
	{name: "any-sll2.pcap", frames: 227, sip: 7, calls: 1},
	{name: "basic-call.pcap", frames: 231, sip: 7, calls: 1},
	{name: "basic-call.pcap.gz", frames: 231, sip: 7, calls: 1},
	{name: "basic-call.pcap.zst", frames: 231, sip: 7, calls: 1},
	{name: "failures.pcap", frames: 33, sip: 29, calls: 5},
	{name: "fragmented.pcap", frames: 11, sip: 7, calls: 1},
	{name: "ipv6-call.pcap", frames: 231, sip: 7, calls: 1},
	{name: "no-answer.pcap", frames: 7, sip: 5, calls: 1},
	{name: "pcapng-call.pcapng", frames: 462, sip: 14, calls: 1, twice: true, dups: 220},
	{name: "proxy-call.pcap", frames: 20, sip: 14, calls: 1},
	{name: "tcp-call.pcap", frames: 241, sip: 7, calls: 1},
	{name: "truncated.pcap", frames: 119, sip: 5, calls: 1, warn: []string{
		"sipflow: warning: truncated.pcap#120: pcap: file truncated: record 120 at offset 37195 is cut at offset 37241",
	}},
}

// goldenRuns are the command lines whose stdout is kept as a golden file,
// for one fixture.
func goldenRuns(fx fixtureInfo) [][]string {
	f := fx.name // run in testdata/captures, so that outputs name the bare file
	runs := [][]string{
		{"calls", f},
		{"calls", "--json", f},
		{"show", "--tz", "UTC", "--call", "1", "--message", "2", f},
	}
	for i := 1; i <= fx.calls; i++ {
		runs = append(runs, []string{"flow", "--tz", "UTC", "--call", fmt.Sprint(i), "--width", "100", f})
	}
	switch fx.name {
	case "basic-call.pcap", "failures.pcap", "proxy-call.pcap", "ipv6-call.pcap", "pcapng-call.pcapng":
		runs = append(runs,
			[]string{"flow", "--tz", "UTC", "--call", "1", "--ascii", "--width", "80", f},
			[]string{"show", "--tz", "UTC", "--call", "1", f})
	case "no-answer.pcap", "fragmented.pcap":
		runs = append(runs, []string{"show", "--tz", "UTC", "--call", "1", f})
	}
	if fx.name == "basic-call.pcap" {
		runs = append(runs, []string{"rtp", f}, []string{"rtp", "--json", f})
	}
	if fx.twice {
		runs = append(runs,
			[]string{"calls", "--keep-duplicates", f},
			[]string{"calls", "--json", "--keep-duplicates", f},
			[]string{"flow", "--tz", "UTC", "--call", "1", "--width", "100", "--keep-duplicates", f})
	}
	return runs
}

func TestGolden(t *testing.T) {
	t.Chdir(capturesDir)
	for _, fx := range fixtures {
		for _, args := range goldenRuns(fx) {
			name := goldenName(args)
			t.Run(name, func(t *testing.T) {
				r := runCLI(t, args...)
				if r.code != exitOK {
					t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
				}
				golden(t, name, r.stdout)
				// stderr: the warnings, then the summary, and nothing else
				lines := maskTime(r.stderr)
				want := append(append([]string(nil), fx.warn...), summaryLine(fx, args))
				if got := strings.Join(lines, "\n"); got != strings.Join(want, "\n") {
					t.Errorf("stderr:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
				}
			})
		}
	}
}

// summaryLine is the stderr summary expected for a fixture and command line,
// run time masked.
func summaryLine(fx fixtureInfo, args []string) string {
	dups := 0
	if readsMedia(args) && !slices.Contains(args, "--keep-duplicates") {
		dups = fx.dups
	}
	return fmt.Sprintf("sipflow: 1 file, %d frames, %d SIP messages (0 broken), %s, %d duplicates dropped, 0 TLS flows not read (encrypted), T",
		fx.frames, fx.sip, plural(fx.calls, "call"), dups)
}

// readsMedia says whether a command line reads RTP (and so drops RTP
// captured twice).
func readsMedia(args []string) bool {
	switch args[0] {
	case "flow", "rtp":
		return true
	case "calls":
		return slices.Contains(args, "--json")
	}
	return false
}

// mediaFixtures are the captures of testdata/media (see its README).
var mediaFixtures = []fixtureInfo{
	{name: "clean.pcap", frames: 345, sip: 7, calls: 1},
	{name: "dtmf.pcap", frames: 271, sip: 7, calls: 1},
	{name: "jitter.pcap", frames: 345, sip: 7, calls: 1},
	{name: "loss.pcap", frames: 335, sip: 7, calls: 1},
	{name: "noaudio.pcap", frames: 9, sip: 7, calls: 1},
	{name: "oneway.pcap", frames: 178, sip: 7, calls: 1},
	{name: "reinvite.pcap", frames: 350, sip: 10, calls: 1},
}

// TestGoldenMedia keeps the media outputs of every media fixture: the rtp
// table and JSON, the flow with its media lines, calls --json with streams.
func TestGoldenMedia(t *testing.T) {
	t.Chdir(filepath.Join("..", "..", "testdata", "media"))
	for _, fx := range mediaFixtures {
		f := fx.name
		runs := [][]string{
			{"rtp", f},
			{"rtp", "--json", f},
			{"flow", "--tz", "UTC", "--call", "1", "--width", "100", f},
			{"calls", "--json", f},
		}
		if f == "loss.pcap" || f == "dtmf.pcap" || f == "oneway.pcap" {
			// the table and its notes fitted to a terminal's width
			runs = append(runs, []string{"rtp", "--width", "80", f}, []string{"rtp", "--width", "200", f})
		}
		for _, args := range runs {
			name := "media_" + goldenName(args)
			t.Run(name, func(t *testing.T) {
				r := runCLI(t, args...)
				if r.code != exitOK {
					t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
				}
				golden(t, name, r.stdout)
				if got, want := strings.Join(maskTime(r.stderr), "\n"), summaryLine(fx, args); got != want {
					t.Errorf("stderr:\n%s\nwant:\n%s", got, want)
				}
			})
		}
	}
}
