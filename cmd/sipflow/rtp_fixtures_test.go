package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRTPFixtures checks what sipflow rtp finds on each media fixture
// (testdata/media, made by sipp in network namespaces; see its README).
func TestRTPFixtures(t *testing.T) {
	tests := []struct {
		file     string
		streams  int
		problems []string // kinds, over all streams, sorted and unique
		lost     int      // total over the streams
		dtmf     string   // digits over the streams, in order, first stream that has them
	}{
		{"clean.pcap", 2, nil, 0, ""},
		{"loss.pcap", 2, []string{"sequence-errors"}, 10, ""},
		{"jitter.pcap", 2, nil, 0, ""},
		{"oneway.pcap", 1, []string{"one-way"}, 0, ""},
		{"dtmf.pcap", 4, []string{"sequence-errors"}, 860, "12#"},
		{"reinvite.pcap", 4, nil, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("..", "..", "testdata", "media", tc.file)
			r := runCLI(t, "rtp", "--json", "-q", path)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			var kinds []string
			lost, n, dtmf := 0, 0, ""
			for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
				var s struct {
					Lost     int      `json:"lost"`
					Problems []string `json:"problems"`
					DTMF     []struct {
						Digit string `json:"digit"`
					} `json:"dtmf"`
					MOS *float64 `json:"mos"`
				}
				if err := json.Unmarshal([]byte(l), &s); err != nil {
					t.Fatal(err)
				}
				n++
				lost += s.Lost
				for _, p := range s.Problems {
					kinds = append(kinds, strings.SplitN(p, ":", 2)[0])
				}
				if dtmf == "" {
					for _, d := range s.DTMF {
						dtmf += d.Digit
					}
				}
			}
			slices.Sort(kinds)
			kinds = slices.Compact(kinds)
			if n != tc.streams || lost != tc.lost || !slices.Equal(kinds, tc.problems) || dtmf != tc.dtmf {
				t.Errorf("streams %d lost %d problems %v dtmf %q, want %d %d %v %q", n, lost, kinds, dtmf, tc.streams, tc.lost, tc.problems, tc.dtmf)
			}
		})
	}
	r := runCLI(t, "rtp", "-q", filepath.Join("..", "..", "testdata", "media", "noaudio.pcap"))
	if !strings.Contains(r.stdout, "call 1: no-media: answered, but no media was seen in either direction") {
		t.Errorf("noaudio: %q", r.stdout)
	}
}
