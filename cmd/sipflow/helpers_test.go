package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// capturesDir holds the end-to-end fixtures (see testdata/README.md).
var capturesDir = filepath.Join("..", "..", "testdata", "captures")

// goldenDir is absolute so that tests may change directory.
var goldenDir = func() string {
	d, err := filepath.Abs(filepath.Join("testdata", "golden"))
	if err != nil {
		panic(err)
	}
	return d
}()

// fixture is the path of a capture fixture from the package directory.
func fixture(name string) string { return filepath.Join(capturesDir, name) }

// result is what one in-process run of the command line gave.
type result struct {
	stdout, stderr string
	code           int
}

// runCLI runs the command line in-process.
func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := execute(context.Background(), args, &out, &errb)
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// runTimeRe matches the run time at the end of the stderr summary.
var runTimeRe = regexp.MustCompile(`, \d+\.\d\ds$`)

// maskTime replaces the run time at the end of each stderr line by "T".
func maskTime(stderr string) []string {
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return nil
	}
	for i, l := range lines {
		lines[i] = runTimeRe.ReplaceAllString(l, ", T")
	}
	return lines
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/sipflow -update)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update and review the diff):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// goldenName turns a command line into a file name.
func goldenName(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte('_')
		}
		a = strings.TrimLeft(a, "-")
		for _, r := range a {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
				b.WriteRune(r)
			default:
				b.WriteByte('-')
			}
		}
	}
	return b.String() + ".golden"
}
