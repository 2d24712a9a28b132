package templates

import (
	"errors"
	"testing"
	"testing/fstest"
)

func TestEmbedded(t *testing.T) {
	tx, err := Parse(FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		got  string
		want string
	}{
		{"486", tx.Status(486), "Busy here: the called party is busy."},
		{"class fallback 499", tx.Status(499), "Client failure: the request was refused because of something in it or about the caller or callee."},
		{"out of range", tx.Status(42), ""},
		{"q850 16", tx.Q850(16), "Normal call clearing: one side hung up."},
		{"q850 unknown", tx.Q850(200), ""},
		{"text", tx.Text("title"), "SIP call report"},
		{"placeholder", tx.Text("footer", "page", "3"), "sipflow report, page 3"},
		{"missing key", tx.Text("no.such.key"), "no.such.key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
	if Default() == nil {
		t.Fatal("Default() nil")
	}
}

func TestBadLines(t *testing.T) {
	fsys := fstest.MapFS{
		"status.txt": {Data: []byte("abc meaning\n200\n")},
		"q850.txt":   {Data: []byte("16 ok\n")},
		"report.txt": {Data: []byte("no equals sign\n")},
	}
	tx, err := Parse(fsys)
	if !errors.Is(err, ErrBadLine) {
		t.Fatalf("err = %v, want ErrBadLine", err)
	}
	if tx.Q850(16) != "ok" {
		t.Errorf("good lines are kept: Q850(16) = %q", tx.Q850(16))
	}
}
