package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// callFacts are the facts of one call that the fixtures' README states, so
// that a careless -update of the goldens cannot bless a wrong state.
type callFacts struct {
	CallID      string  `json:"call_id"`
	State       string  `json:"state"`
	FinalStatus int     `json:"final_status"`
	EndCause    string  `json:"end_cause"`
	EndedBy     *string `json:"ended_by"`
	ByCaller    bool    `json:"ended_by_caller"`
	Legs        int     `json:"legs"`
	Messages    int     `json:"messages"`
	Retrans     int     `json:"retransmissions"`
	Broken      int     `json:"broken"`
}

func TestFixtureFacts(t *testing.T) {
	s := func(v string) *string { return &v }
	uac, uas := s("10.99.0.1:5070"), s("10.99.0.2:5060")
	basic := func(id string, by *string) callFacts {
		return callFacts{CallID: id, State: "completed", FinalStatus: 200, EndCause: "BYE", EndedBy: by, ByCaller: true, Legs: 1, Messages: 7}
	}
	proxied := func(id string, by *string) callFacts {
		return callFacts{CallID: id, State: "completed", FinalStatus: 200, EndCause: "BYE", EndedBy: by, ByCaller: true, Legs: 2, Messages: 14}
	}
	failed := func(id string, code int) callFacts {
		return callFacts{CallID: id, State: "failed", FinalStatus: code, EndCause: "error", EndedBy: uas, Legs: 1, Messages: 4}
	}
	want := map[string][]callFacts{
		"any-sll2-router.pcap": {proxied("1-25037@10.99.1.1", s("10.99.1.1:5070"))},
		"any-sll2.pcap":        {basic("1-24531@127.0.0.1", s("127.0.0.1:5070"))},
		"basic-call.pcap":      {basic("1-22325@10.99.0.1", uac)},
		"basic-call.pcap.gz":   {basic("1-22325@10.99.0.1", uac)},
		"basic-call.pcap.zst":  {basic("1-22325@10.99.0.1", uac)},
		"failures.pcap": {
			failed("1-22559@10.99.0.1", 486),
			failed("1-22610@10.99.0.1", 404),
			failed("1-22638@10.99.0.1", 403),
			{CallID: "1-22716@10.99.0.1", State: "cancelled", FinalStatus: 487, EndCause: "CANCEL", EndedBy: uac, ByCaller: true, Legs: 1, Messages: 7},
			{CallID: "1-22753@10.99.0.1", State: "completed", FinalStatus: 200, EndCause: "BYE", EndedBy: uac, ByCaller: true, Legs: 1, Messages: 10},
		},
		"fragmented.pcap": {basic("1-24391@10.99.0.1", uac)},
		"ipv6-call.pcap":  {basic("1-24092@fd00:99::1", s("[fd00:99::1]:5070"))},
		// 5 INVITEs (Timer A), one original and 4 retransmissions, no response
		"no-answer.pcap":     {{CallID: "1-22876@10.99.0.1", State: "no-answer", EndCause: "timeout", Legs: 1, Messages: 5, Retrans: 4}},
		"pcapng-call.pcapng": {proxied("1-25626@10.99.1.1", s("10.99.1.1:5070"))},
		"proxy-call.pcap":    {proxied("1-23393@10.99.0.1", uac)},
		"tcp-call.pcap":      {basic("1-23741@10.99.0.1", uac)},
		// cut after the ACK: answered, still up
		"truncated.pcap": {{CallID: "1-22325@10.99.0.1", State: "answered", FinalStatus: 200, Legs: 1, Messages: 5}},
	}
	t.Chdir(capturesDir)
	for _, fx := range fixtures {
		for _, keep := range []string{"", "--keep-duplicates"} {
			if keep != "" && !fx.twice {
				continue
			}
			t.Run(fx.name+keep, func(t *testing.T) {
				args := []string{"calls", "--json", "-q", fx.name}
				if keep != "" {
					args = append(args, keep)
				}
				r := runCLI(t, args...)
				if r.code != exitOK {
					t.Fatalf("exit %d: %s", r.code, r.stderr)
				}
				var got []callFacts
				for _, l := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
					var f callFacts
					if err := json.Unmarshal([]byte(l), &f); err != nil {
						t.Fatalf("%v: %s", err, l)
					}
					got = append(got, f)
				}
				w := want[fx.name]
				if len(got) != len(w) {
					t.Fatalf("%d calls, want %d", len(got), len(w))
				}
				for i := range w {
					g, _ := json.Marshal(got[i])
					wj, _ := json.Marshal(w[i])
					if string(g) != string(wj) {
						t.Errorf("call %d:\n got  %s\n want %s", i+1, g, wj)
					}
				}
			})
		}
	}
}
