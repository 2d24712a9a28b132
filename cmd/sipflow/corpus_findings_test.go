package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCorpusFindings pins what real captures of the shared corpus showed
// wrong, and must not show again (see the README's rtp problems):
//
//   - goffinet sip-phone-to-phone: the caller hangs up 32 ms after the 200
//     OK; no one-way for a call that short.
//   - wireshark t0data sip-rtp-dvi4: sipp's SDP is sendonly/recvonly; one
//     way is what it asked for.
//   - goffinet private-test-sip-2, call 5: the callee's BYE is refused (500
//     Request out of order) and the caller's BYE 4 s later ends the call:
//     ended by the caller, no media after BYE; its one-way audio is real
//     (its offer's recvonly video line, rejected, excuses nothing). Call
//     7, whose request was not captured, shows its 408.
//   - ndpi sip.pcap: the INVITE with credentials after the 407 offers the
//     same private address: one private-sdp per call.
func TestCorpusFindings(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("corpus absent: %v", err)
	}
	problems := func(t *testing.T, path string) map[int][]string {
		t.Helper()
		r := runCLI(t, "rtp", "--json", filepath.Join(corpusDir, path))
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		out := map[int][]string{}
		for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			var s struct {
				Call     int      `json:"call"`
				Problems []string `json:"problems"`
			}
			if err := json.Unmarshal([]byte(l), &s); err != nil {
				t.Fatal(err)
			}
			for _, p := range s.Problems {
				out[s.Call] = append(out[s.Call], strings.SplitN(p, ":", 2)[0])
			}
		}
		return out
	}
	t.Run("hung up at once", func(t *testing.T) {
		if p := problems(t, "goffinet-sip_captures/sip-phone-to-phone.pcapng"); len(p) != 0 {
			t.Errorf("problems %v, want none", p)
		}
	})
	t.Run("one way by SDP", func(t *testing.T) {
		if p := problems(t, "wireshark-samples-t0data/sip-rtp-dvi4.pcap"); len(p) != 0 {
			t.Errorf("problems %v, want none", p)
		}
	})
	t.Run("refused BYE", func(t *testing.T) {
		path := "goffinet-sip_captures/private-test-sip-2.pcapng"
		if p := problems(t, path)[5]; !slices.Equal(p, []string{"one-way"}) {
			t.Errorf("call 5: problems %v, want one-way alone", p)
		}
		r := runCLI(t, "calls", "--json", filepath.Join(corpusDir, path))
		for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			var c struct {
				Index   int     `json:"index"`
				EndedBy *string `json:"ended_by"`
				Final   int     `json:"final_status"`
			}
			if err := json.Unmarshal([]byte(l), &c); err != nil {
				t.Fatal(err)
			}
			switch {
			case c.Index == 5 && (c.EndedBy == nil || *c.EndedBy != "172.16.98.1:5060"):
				t.Errorf("call 5 ended by %v, want the caller 172.16.98.1:5060", c.EndedBy)
			case c.Index == 7 && c.Final != 408:
				t.Errorf("call 7: final %d, want the 408 seen", c.Final)
			}
		}
	})
	t.Run("private SDP once", func(t *testing.T) {
		r := runCLI(t, "rtp", "--json", filepath.Join(corpusDir, "ndpi/sip.pcap"))
		n := 0
		for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			n++
			if k := strings.Count(l, "private-sdp:"); k != 1 {
				t.Errorf("stream %d: private-sdp %d times, want once", n, k)
			}
		}
		if n == 0 {
			t.Error("no stream")
		}
	})
}
