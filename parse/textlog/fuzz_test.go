package textlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// seedLogs are the first lines of every fixture: one seed per format.
func seedLogs() map[string][]byte {
	out := map[string][]byte{}
	files, _ := filepath.Glob("testdata/logs/*.log")
	more, _ := filepath.Glob("testdata/tcpdump/proxy-call.*.txt")
	for _, f := range append(files, more...) {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if len(b) > 3000 {
			b = b[:3000]
		}
		out[filepath.Base(f)] = b
	}
	return out
}

// TestWriteFuzzSeeds writes the seeds to testdata/fuzz/FuzzRead when
// SIPFLOW_WRITE_SEEDS is set.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("SIPFLOW_WRITE_SEEDS") == "" {
		t.Skip("set SIPFLOW_WRITE_SEEDS=1 to rewrite the seeds")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzRead")
	os.MkdirAll(dir, 0o755)
	for name, b := range seedLogs() {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\nbyte(%d)\n", strconv.Quote(string(b)), 0)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzRead feeds arbitrary text in every format setting. Property: no panic
// (a recovered one is reported as ErrPanic and fails too); every message
// starts on a line of the input and comes in line order; the counts agree
// with what was delivered; the line count is the input's; no IPv4 address
// is given to a message that the input does not write.
func FuzzRead(f *testing.F) {
	for _, b := range seedLogs() {
		f.Add(b, byte(0))
	}
	f.Fuzz(func(t *testing.T, b []byte, format byte) {
		if len(b) > 64<<10 {
			return
		}
		o := Options{Format: Format(format % uint8(formatMax)), Year: 2024}
		var c collect
		st, err := Read(context.Background(), "fuzz", bytes.NewReader(b), o, &c)
		if err != nil && !errors.Is(err, ErrNotLog) {
			t.Fatalf("err %v", err)
		}
		lines := bytes.Count(b, []byte("\n"))
		if len(b) > 0 && b[len(b)-1] != '\n' {
			lines++
		}
		if st.Frames != lines {
			t.Fatalf("Frames %d, input has %d lines", st.Frames, lines)
		}
		if st.SIPMessages != len(c.msgs) || st.Broken > st.SIPMessages || (err == nil) != (len(c.msgs) > 0) {
			t.Fatalf("stats %d/%d broken, delivered %d, err %v", st.SIPMessages, st.Broken, len(c.msgs), err)
		}
		prev := 0
		for _, m := range c.msgs {
			if m.Frame < 1 || m.Frame > lines || m.Frame < prev {
				t.Fatalf("message at line %d (previous %d) of %d", m.Frame, prev, lines)
			}
			prev = m.Frame
			if m.File != "fuzz" || len(m.SIP.Raw) == 0 {
				t.Fatalf("message %+v", m)
			}
			// never invented: an IPv4 address given to a message is written
			// in the input (a header line, a Via, a Contact, a Request-URI)
			// or in a message (tcpdump -X: its bytes in hex)
			for _, a := range []netip.AddrPort{m.Src, m.Dst} {
				if !a.IsValid() || !a.Addr().Is4() {
					continue
				}
				ip := []byte(a.Addr().String())
				found := bytes.Contains(b, ip)
				for _, o := range c.msgs {
					found = found || bytes.Contains(o.SIP.Raw, ip)
				}
				if !found {
					t.Fatalf("line %d: address %v is not in the input", m.Frame, a)
				}
			}
		}
		for _, w := range st.Warnings {
			if errors.Is(w.Err, ErrPanic) {
				t.Fatalf("panic: %v", w.Err)
			}
			if w.Frame < 0 || w.Frame > lines {
				t.Fatalf("warning at line %d of %d: %v", w.Frame, lines, w.Err)
			}
		}
	})
}
