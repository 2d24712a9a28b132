package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// pdfText extracts the text of a PDF with pdftotext, words joined by
// single spaces; the test is skipped without poppler-utils.
func pdfText(t *testing.T, path string) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) not installed")
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

func mediaFixture(name string) string { return filepath.Join("..", "..", "testdata", "media", name) }

// TestReportMedia checks the "Media quality" section of the PDF report on
// the media fixtures: the figures of each stream, the problems in words,
// "no media seen", redaction of the stream addresses, --single.
func TestReportMedia(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		files int
		want  []string
		not   []string
	}{
		{"loss", []string{mediaFixture("loss.pcap")}, 1, []string{
			"Media quality", "10.98.0.2:6000 -> 10.98.0.1:6100 PCMA 157 10 (6.0%) 61.3 ms 0.83 / 0.34 ms 3.82",
			"10.98.0.1:6100 -> 10.98.0.2:6000 PCMA 167 0 (0.0%) 34.9 ms 0.81 / 0.32 ms 4.41",
			"Packets out of sequence: 10 packets out of sequence",
		}, []string{"Media was not analysed"}},
		{"noaudio", []string{mediaFixture("noaudio.pcap")}, 1, []string{
			"No media (RTP) was seen for this call in the capture.",
			"No media: answered, but no media was seen in either direction",
		}, []string{"Media was not analysed", "Jitter max / mean"}},
		{"redacted", []string{"--redact=ips", mediaFixture("oneway.pcap")}, 1, []string{
			"192.0.2.1:6100 -> 192.0.2.2:6000 PCMA 167",
			"One-way audio: media only toward the callee (167 packets)",
		}, []string{"10.98.0."}},
		{"jitter buffer", []string{"--jitter-buffer", "20ms", mediaFixture("jitter.pcap")}, 1, []string{
			"10.98.0.2:6000 -> 10.98.0.1:6100 PCMA 167 0 (0.0%) 108.0 ms 23.48 / 17.37 ms",
		}, nil},
		// Two captures with different addresses: the fixtures of
		// testdata/media all use the same ones, and the Tracker keeps a
		// flow's stream when a later call re-announces its addresses.
		{"single", []string{"--single", fixture("basic-call.pcap"), mediaFixture("oneway.pcap")}, 1, []string{
			"10.99.0.2:6000 -> 10.99.0.1:6100 PCMA 100 0 (0.0%) 166.3 ms 23.05 / 7.53 ms 3.92",
			"DTMF digits: 1", "One-way audio: media only toward the callee",
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			r := runCLI(t, append([]string{"report", "-q", "-o", dir}, tc.args...)...)
			if r.code != exitOK {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			names := strings.Fields(r.stdout)
			if len(names) != tc.files {
				t.Fatalf("wrote %q, want %d files", names, tc.files)
			}
			txt := pdfText(t, names[0])
			for _, w := range tc.want {
				if !strings.Contains(txt, w) {
					t.Errorf("report lacks %q", w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(txt, n) {
					t.Errorf("report has %q", n)
				}
			}
		})
	}
	// The same inputs give the same bytes.
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		if r := runCLI(t, "report", "-q", "-o", d, mediaFixture("loss.pcap")); r.code != exitOK {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	}
	fa, _ := filepath.Glob(filepath.Join(a, "*.pdf"))
	fb, _ := filepath.Glob(filepath.Join(b, "*.pdf"))
	if len(fa) != 1 || len(fb) != 1 {
		t.Fatalf("files %v %v", fa, fb)
	}
	x, err := os.ReadFile(fa[0])
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(fb[0])
	if err != nil {
		t.Fatal(err)
	}
	if string(x) != string(y) {
		t.Error("two reports of the same input differ")
	}
}

// TestMediaFlags checks --jitter-buffer on the commands that measure media.
func TestMediaFlags(t *testing.T) {
	for _, args := range [][]string{
		{"flow", "--call", "1", "--jitter-buffer", "0s"},
		{"calls", "--json", "--jitter-buffer", "-1ms"},
		{"report", "--jitter-buffer", "0s", "-o", "OUT"},
	} {
		t.Run(args[0], func(t *testing.T) {
			for i, a := range args {
				if a == "OUT" {
					args[i] = t.TempDir()
				}
			}
			r := runCLI(t, append(args, mediaFixture("loss.pcap"))...)
			if r.code != exitUsage || !strings.Contains(r.stderr, "--jitter-buffer") {
				t.Errorf("exit %d, stderr %q; want usage error on --jitter-buffer", r.code, r.stderr)
			}
		})
	}
	// A shorter buffer discards more packets: a lower MOS on the jittery
	// direction of jitter.pcap, in flow as in calls --json.
	mos := func(args ...string) string {
		r := runCLI(t, append(args, "-q", mediaFixture("jitter.pcap"))...)
		if r.code != exitOK {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		return r.stdout
	}
	def, short := mos("flow", "--call", "1", "--width", "120"), mos("flow", "--call", "1", "--width", "120", "--jitter-buffer", "20ms")
	if !strings.Contains(def, "jitter 23.476/17.367 ms  MOS 3.39") || strings.Contains(short, "MOS 3.39") {
		t.Errorf("flow MOS not moved by --jitter-buffer:\n%s\n%s", def, short)
	}
}
