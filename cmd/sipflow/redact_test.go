package main

import (
	"strings"
	"testing"
)

// TestRedactTextOutputs: flow and show take the report's --redact options;
// what they print keeps no credential, no real address and no full number,
// and the same address gets the same pseudonym in the ladder and the text.
func TestRedactTextOutputs(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		want     []string
		mustNot  []string
		wantCode int
	}{
		{
			name:    "show credentials and ips",
			args:    []string{"show", "--call", "5", "--redact=ips", "-q", fixture("failures.pcap")},
			want:    []string{`nonce="REDACTED"`, `response="REDACTED"`, `cnonce="REDACTED"`, "192.0.2.1:5070 -> 192.0.2.2:5060", "Call-ID: 1-22753@192.0.2.1"},
			mustNot: []string{"10.99.0."},
		},
		{
			name:    "flow ips",
			args:    []string{"flow", "--call", "1", "--redact=ips", "--width", "100", "-q", fixture("proxy-call.pcap")},
			want:    []string{"192.0.2.1:5070", "192.0.2.3:5060", "Ended by BYE from 192.0.2.1:5070", "SDP: audio 192.0.2.1:6100"},
			mustNot: []string{"10.99.0."},
		},
		{
			name:     "bad spec",
			args:     []string{"flow", "--call", "1", "--redact=phone", fixture("basic-call.pcap")},
			wantCode: exitUsage,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.args...)
			if r.code != tc.wantCode {
				t.Fatalf("exit %d, want %d: %s", r.code, tc.wantCode, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			for _, m := range tc.mustNot {
				if strings.Contains(r.stdout, m) {
					t.Errorf("output still holds %q", m)
				}
			}
		})
	}
}
