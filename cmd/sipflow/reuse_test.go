package main

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sipflow/sipflow/render/text"
)

// twice writes a capture holding src's packets, then the same packets again
// shift later: the same call twice, as when two captures of one test are
// put end to end (mergecap -a), or a UA uses a Call-ID again.
func twice(t *testing.T, src string, shift uint32) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 24 || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 {
		t.Fatalf("%s: not a little-endian microsecond pcap", src)
	}
	out := append([]byte(nil), b...)
	for rec := b[24:]; len(rec) >= 16; {
		n := int(binary.LittleEndian.Uint32(rec[8:12]))
		r := append([]byte(nil), rec[:16+n]...)
		binary.LittleEndian.PutUint32(r, binary.LittleEndian.Uint32(r)+shift)
		out = append(out, r...)
		rec = rec[16+n:]
	}
	path := filepath.Join(t.TempDir(), "twice.pcap")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCallIDUsedAgain: the same call twice in one capture, a minute apart,
// with the same Call-ID, tags, addresses and SSRCs. The Builder makes two
// calls; each must get its own two streams with the figures of the call
// alone (not one stream of both, with a negative loss, a false media after
// BYE and the second call without media), in rtp, rtp --call and calls.
func TestCallIDUsedAgain(t *testing.T) {
	clean := filepath.Join("..", "..", "testdata", "media", "clean.pcap")
	alone := runCLI(t, "rtp", "--json", clean)
	both := runCLI(t, "rtp", "--json", twice(t, clean, 60))
	if alone.code != 0 || both.code != 0 {
		t.Fatalf("exit %d and %d: %s%s", alone.code, both.code, alone.stderr, both.stderr)
	}
	parse := func(out string) []text.StreamJSON {
		var ss []text.StreamJSON
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var s text.StreamJSON
			if err := json.Unmarshal([]byte(l), &s); err != nil {
				t.Fatal(err)
			}
			ss = append(ss, s)
		}
		return ss
	}
	one, two := parse(alone.stdout), parse(both.stdout)
	if len(one) != 2 || len(two) != 4 {
		t.Fatalf("%d streams alone, %d twice; want 2 and 4", len(one), len(two))
	}
	for i, s := range two {
		a := one[i%2]
		if s.Call != 1+i/2 || s.Src != a.Src || s.Packets != a.Packets || s.Lost != a.Lost || s.MaxJitter != a.MaxJitter ||
			s.MeanJitter != a.MeanJitter || len(s.Problems) != len(a.Problems) {
			t.Errorf("stream %d: call %d %s %d packets, %d lost, jitter %v/%v, problems %q; want call %d and %+v",
				i+1, s.Call, s.Src, s.Packets, s.Lost, s.MaxJitter, s.MeanJitter, s.Problems, 1+i/2, a)
		}
	}
	second := runCLI(t, "rtp", "--json", "--call", "2", twice(t, clean, 60))
	if ss := parse(second.stdout); len(ss) != 2 || ss[0].Call != 2 || ss[1].Call != 2 || *ss[0].Start != *two[2].Start {
		t.Errorf("rtp --call 2: %s", second.stdout)
	}
	calls := runCLI(t, "calls", "--json", twice(t, clean, 60))
	var n int
	for _, l := range strings.Split(strings.TrimSpace(calls.stdout), "\n") {
		var c struct {
			Index   int               `json:"index"`
			Streams []text.StreamJSON `json:"streams"`
		}
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatal(err)
		}
		n++
		if len(c.Streams) != 2 || c.Streams[0].Call != n || *c.Streams[0].Start != *two[2*(n-1)].Start {
			t.Errorf("calls --json, call %d: %d streams", n, len(c.Streams))
		}
	}
	if n != 2 {
		t.Errorf("calls --json: %d calls, want 2", n)
	}
}
