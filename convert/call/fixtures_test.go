package call

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sipflow/sipflow/parse/capture"
)

// collector feeds a Builder from parse/capture.
type collector struct {
	b *Builder
	n int
}

func (c *collector) SIP(m *capture.Message) { c.n++; c.b.Add(m) }
func (c *collector) Media(*capture.Media)   {}

// between returns b-a for two capture timestamps written as the seconds
// tshark prints (frame.time_epoch).
func between(t *testing.T, a, b string) time.Duration {
	t.Helper()
	x, err := time.ParseDuration(a + "s")
	if err != nil {
		t.Fatal(err)
	}
	y, err := time.ParseDuration(b + "s")
	if err != nil {
		t.Fatal(err)
	}
	return y - x
}

// TestFixtures reads the real captures in testdata/captures (see its
// README) and checks the facts of every call against the tshark listing of
// the same file (times are its frame.time_epoch, minus 1795362000 s).
func TestFixtures(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "captures")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("fixtures absent: %v", err)
	}
	ap := netip.MustParseAddrPort
	uac, uas := ap("10.99.0.1:5070"), ap("10.99.0.2:5060")
	basic := func(t *testing.T, id string, inv, r180, ok, bye, end string, caller netip.AddrPort) callFacts {
		return callFacts{
			CallIDs: []string{id}, Method: "INVITE", From: "alice", To: "bob",
			State: StateCompleted, FinalStatus: 200, FinalReason: "OK",
			Setup: between(t, inv, ok), PDD: between(t, inv, r180), Talk: between(t, ok, bye),
			EndCause: EndBye, EndedBy: caller, EndedByFrom: true,
			Legs: 1, Messages: 7, Txs: 3, Dialogs: 1, End: between(t, inv, end),
		}
	}
	failed := func(t *testing.T, id, to string, code int, reason, inv, final, ack, start string) callFacts {
		return callFacts{
			CallIDs: []string{id}, Method: "INVITE", From: "alice", To: to,
			State: StateFailed, FinalStatus: code, FinalReason: reason,
			Setup: between(t, inv, final), PDD: -1, Talk: -1, EndCause: EndError, EndedBy: uas,
			Legs: 1, Messages: 4, Txs: 1, Start: between(t, start, inv), End: between(t, start, ack),
		}
	}
	tests := []struct {
		file string
		want func(t *testing.T) []callFacts
	}{
		{"basic-call.pcap", func(t *testing.T) []callFacts {
			return []callFacts{basic(t, "1-22325@10.99.0.1", "510.082686", "510.246897", "510.656528", "514.667911", "514.668028", uac)}
		}},
		{"basic-call.pcap.gz", func(t *testing.T) []callFacts {
			return []callFacts{basic(t, "1-22325@10.99.0.1", "510.082686", "510.246897", "510.656528", "514.667911", "514.668028", uac)}
		}},
		{"basic-call.pcap.zst", func(t *testing.T) []callFacts {
			return []callFacts{basic(t, "1-22325@10.99.0.1", "510.082686", "510.246897", "510.656528", "514.667911", "514.668028", uac)}
		}},
		{"tcp-call.pcap", func(t *testing.T) []callFacts {
			return []callFacts{basic(t, "1-23741@10.99.0.1", "561.635434", "561.798847", "562.212420", "566.234294", "566.234503", uac)}
		}},
		{"ipv6-call.pcap", func(t *testing.T) []callFacts {
			return []callFacts{basic(t, "1-24092@fd00:99::1", "569.114945", "569.300841", "569.887187", "573.927933", "573.928018", ap("[fd00:99::1]:5070"))}
		}},
		{"fragmented.pcap", func(t *testing.T) []callFacts {
			return []callFacts{basic(t, "1-24391@10.99.0.1", "577.731282", "577.926463", "578.350363", "579.373012", "579.410910", uac)}
		}},
		{"any-sll2.pcap", func(t *testing.T) []callFacts {
			// both ends on 127.0.0.1: one host pair, one leg; the From tag
			// tells who hung up
			return []callFacts{basic(t, "1-24531@127.0.0.1", "583.235608", "583.400934", "583.807965", "587.945795", "587.950956", ap("127.0.0.1:5070"))}
		}},
		{"truncated.pcap", func(t *testing.T) []callFacts {
			c := basic(t, "1-22325@10.99.0.1", "510.082686", "510.246897", "510.656528", "514.667911", "510.656634", uac)
			c.State, c.EndCause, c.EndedBy, c.EndedByFrom = StateAnswered, EndNone, netip.AddrPort{}, false
			c.Talk, c.Messages, c.Txs = between(t, "510.656528", "510.656634"), 5, 2
			return []callFacts{c}
		}},
		{"failures.pcap", func(t *testing.T) []callFacts {
			const s = "521.820796"
			return []callFacts{
				failed(t, "1-22559@10.99.0.1", "busy", 486, "Busy Here", "521.820796", "522.049047", "522.049143", s),
				failed(t, "1-22610@10.99.0.1", "nobody", 404, "Not Found", "523.112706", "523.316290", "523.316362", s),
				failed(t, "1-22638@10.99.0.1", "blocked", 403, "Forbidden", "524.757031", "524.963081", "524.963171", s),
				{
					CallIDs: []string{"1-22716@10.99.0.1"}, Method: "INVITE", From: "alice", To: "bob",
					State: StateCancelled, FinalStatus: 487, FinalReason: "Request Terminated",
					Setup: between(t, "526.706820", "527.628007"), PDD: between(t, "526.706820", "526.915867"), Talk: -1,
					EndCause: EndCancel, EndedBy: uac, EndedByFrom: true,
					Legs: 1, Messages: 7, Txs: 2, Dialogs: 1, Early: 1,
					Start: between(t, s, "526.706820"), End: between(t, s, "527.628043"),
				},
				{
					CallIDs: []string{"1-22753@10.99.0.1"}, Method: "INVITE", From: "alice", To: "bob",
					State: StateCompleted, FinalStatus: 200, FinalReason: "OK",
					// setup from the first INVITE (challenged by 401) to the
					// 200 of the second
					Setup: between(t, "528.928010", "529.236105"), PDD: between(t, "528.928010", "528.931685"),
					Talk: between(t, "529.236105", "530.240706"), EndCause: EndBye, EndedBy: uac, EndedByFrom: true,
					Legs: 1, Messages: 10, Txs: 4, Dialogs: 1,
					Start: between(t, s, "528.928010"), End: between(t, s, "530.240800"),
				},
			}
		}},
		{"no-answer.pcap", func(t *testing.T) []callFacts {
			return []callFacts{{
				CallIDs: []string{"1-22876@10.99.0.1"}, Method: "INVITE", From: "alice", To: "bob",
				State: StateNoAnswer, Setup: -1, PDD: -1, Talk: -1, EndCause: EndTimeout,
				Legs: 1, Messages: 5, Retrans: 4, Txs: 1, End: between(t, "535.291984", "542.815100"),
			}}
		}},
		{"proxy-call.pcap", func(t *testing.T) []callFacts {
			return []callFacts{{
				CallIDs: []string{"1-23393@10.99.0.1"}, Method: "INVITE", From: "alice", To: "bob",
				State: StateCompleted, FinalStatus: 200, FinalReason: "OK",
				Setup: between(t, "553.912747", "554.472367"), PDD: between(t, "553.912747", "554.068426"),
				Talk: between(t, "554.472367", "558.485176"), EndCause: EndBye, EndedBy: uac, EndedByFrom: true,
				Legs: 2, Messages: 14, Txs: 6, Dialogs: 2, End: between(t, "553.912747", "558.485881"),
			}}
		}},
		{"pcapng-call.pcapng", func(t *testing.T) []callFacts {
			// two interfaces: frames are not in time order across them
			// (the 180 on eth2 is stamped before the one on eth1 that
			// precedes it); facts go by time
			return []callFacts{{
				CallIDs: []string{"1-25626@10.99.1.1"}, Method: "INVITE", From: "alice", To: "bob",
				State: StateCompleted, FinalStatus: 200, FinalReason: "OK",
				Setup: between(t, "621.372482608", "622.037215626"), PDD: between(t, "621.372482608", "621.603028723"),
				Talk: between(t, "622.037215626", "626.048606057"), EndCause: EndBye, EndedBy: ap("10.99.1.1:5070"), EndedByFrom: true,
				Legs: 2, Messages: 14, Txs: 6, Dialogs: 2, End: between(t, "621.372482608", "626.053785617"),
			}}
		}},
		{"any-sll2-router.pcap", func(t *testing.T) []callFacts {
			return []callFacts{{
				CallIDs: []string{"1-25037@10.99.1.1"}, Method: "INVITE", From: "alice", To: "bob",
				State: StateCompleted, FinalStatus: 200, FinalReason: "OK",
				Setup: between(t, "603.379275", "604.032392"), PDD: between(t, "603.379275", "603.628845"),
				Talk: between(t, "604.032392", "608.044936"), EndCause: EndBye, EndedBy: ap("10.99.1.1:5070"), EndedByFrom: true,
				Legs: 2, Messages: 14, Txs: 6, Dialogs: 2, End: between(t, "603.379275", "608.045706"),
			}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var calls []*Call
			col := &collector{b: NewBuilder(Options{KeepMsgs: true}, func(c *Call) { calls = append(calls, c) })}
			st, err := capture.ReadFile(context.Background(), filepath.Join(dir, tt.file), capture.Options{}, col)
			if err != nil && tt.file != "truncated.pcap" {
				t.Fatal(err)
			}
			col.b.Flush()
			Sort(calls)
			want := tt.want(t)
			if len(calls) != len(want) {
				t.Fatalf("got %d calls, want %d", len(calls), len(want))
			}
			total := 0
			first := calls[0].Start
			var got []*Call
			for _, c := range calls {
				checkIndexes(t, c)
				total += c.Messages
				// Start/End relative to the file's first call
				cc := *c
				cc.Start, cc.End = t0.Add(c.Start.Sub(first)), t0.Add(c.End.Sub(first))
				got = append(got, &cc)
			}
			if total != st.SIPMessages || total != col.n {
				t.Errorf("%d messages in calls, %d read (stats %d)", total, col.n, st.SIPMessages)
			}
			diffFacts(t, got, want)
		})
	}
}
