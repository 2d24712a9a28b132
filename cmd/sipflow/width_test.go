package main

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestFlowWidth draws every call of every fixture at 80 and 200 columns,
// Unicode and ASCII, and checks that no line is wider (in runes).
func TestFlowWidth(t *testing.T) {
	t.Chdir(capturesDir)
	for _, fx := range fixtures {
		for call := 1; call <= fx.calls; call++ {
			for _, width := range []int{80, 200} {
				for _, ascii := range []bool{false, true} {
					args := []string{"flow", "-q", "--call", fmt.Sprint(call), "--width", fmt.Sprint(width), fx.name}
					if ascii {
						args = append(args, "--ascii")
					}
					t.Run(strings.Join(args[2:], " "), func(t *testing.T) {
						r := runCLI(t, args...)
						if r.code != exitOK || r.stderr != "" {
							t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
						}
						lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
						if len(lines) < 10 {
							t.Fatalf("only %d lines:\n%s", len(lines), r.stdout)
						}
						for i, l := range lines {
							if n := utf8.RuneCountInString(l); n > width {
								t.Errorf("line %d has %d runes > %d: %q", i+1, n, width, l)
							}
							if ascii {
								for _, r := range l {
									if r > 0x7e { // the fixtures' names and SDP are ASCII too
										t.Errorf("line %d: non-ASCII %q in --ascii: %q", i+1, r, l)
										break
									}
								}
							}
						}
					})
				}
			}
		}
	}
}
