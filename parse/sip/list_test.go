package sip

import (
	"slices"
	"testing"
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
