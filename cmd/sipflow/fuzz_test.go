package main

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// firstRecords is the classic pcap at path cut after its first n records.
func firstRecords(tb testing.TB, path string, n int) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	off := 24
	for ; n > 0 && off+16 <= len(b); n-- {
		off += 16 + int(binary.LittleEndian.Uint32(b[off+8:off+12]))
	}
	return b[:min(off, len(b))]
}

// cellsOf is the width of s on a terminal.
func cellsOf(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

// FuzzCommands runs, in-process, what a user runs on a capture the fuzzer
// shapes: calls --json, rtp --json, and the rtp table and a call's flow on
// an 80-column terminal. Properties: the exit code says the input was read
// (0) or not (1), never a usage error or a crash; every JSON line parses;
// no line of the terminal views is wider than 80 cells or invalid UTF-8.
func FuzzCommands(f *testing.F) {
	for _, p := range []string{"captures/no-answer.pcap", "captures/proxy-call.pcap", "captures/failures.pcap", "media/noaudio.pcap"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(firstRecords(f, filepath.Join("..", "..", "testdata", "media", "dtmf.pcap"), 60))
	f.Add(firstRecords(f, filepath.Join("..", "..", "testdata", "media", "loss.pcap"), 40))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "in.pcap")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{
			{"calls", "--json", "-q", path},
			{"rtp", "--json", "-q", path},
			{"rtp", "-q", "--width", "80", path},
			{"flow", "-q", "--call", "1", "--width", "80", path},
		} {
			r := runCLI(t, args...)
			if r.code != exitOK && r.code != exitError {
				t.Fatalf("%v: exit %d\n%s", args, r.code, r.stderr)
			}
			for i, l := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
				switch {
				case l == "":
				case args[1] == "--json":
					if !json.Valid([]byte(l)) {
						t.Fatalf("%v: line %d is not JSON: %s", args, i+1, l)
					}
				case !utf8.ValidString(l) || cellsOf(l) > 80:
					t.Fatalf("%v: line %d is %d cells:\n%s", args, i+1, cellsOf(l), l)
				}
			}
		}
	})
}
