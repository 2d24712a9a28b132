package sip

import (
	"slices"
	"testing"
	"unsafe"
)

func TestSplitList(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"one", `<sip:+15551234@x>`, []string{`<sip:+15551234@x>`}},
		{"two", `"A, B" <sip:1@x>;reason=unconditional, <sip:2@y>`, []string{`"A, B" <sip:1@x>;reason=unconditional`, `<sip:2@y>`}},
		{"comma in angle brackets", `<sip:a@x;p=1,2>, <tel:+1>`, []string{`<sip:a@x;p=1,2>`, `<tel:+1>`}},
		{"escaped quote", `"a\", b" <sip:a@x>`, []string{`"a\", b" <sip:a@x>`}},
		{"empty items dropped", ` , <sip:a@x>,, `, []string{`<sip:a@x>`}},
		{"empty", ``, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SplitList(tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("SplitList(%q) = %q, want %q", tc.in, got, tc.want)
			}
			first := ""
			if len(tc.want) > 0 && tc.name != "empty items dropped" {
				first = tc.want[0]
			}
			if got := FirstItem(tc.in); got != first {
				t.Errorf("FirstItem(%q) = %q, want %q", tc.in, got, first)
			}
		})
	}
}

// TestOwned: with Options.Owned the message's strings alias the bytes handed
// over (no second copy); without it they are a copy, and b may be reused.
func TestOwned(t *testing.T) {
	msg := "OPTIONS sip:a@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:b@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: owned-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	inside := func(s string, b []byte) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		lo := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
		return p >= lo && p < lo+uintptr(len(b))
	}
	for _, owned := range []bool{true, false} {
		b := []byte(msg)
		var m Message
		if err := ParseWith(b, &m, Options{Owned: owned}); err != nil {
			t.Fatal(err)
		}
		if m.CallID != "owned-1" || inside(m.CallID, b) != owned || inside(m.Headers[0].Value, b) != owned {
			t.Errorf("owned=%v: Call-ID %q aliases the input: %v", owned, m.CallID, inside(m.CallID, b))
		}
	}
}
