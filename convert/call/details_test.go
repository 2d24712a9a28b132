package call

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/parse/capture"
)

// msgRow is the projection of a Msg the detail tests compare.
type msgRow struct {
	Label          string
	Leg, Tx        int
	Retransmission bool
}

func rows(c *Call) []msgRow {
	var out []msgRow
	for i := range c.Msgs {
		m := &c.Msgs[i]
		out = append(out, msgRow{m.Label(), m.Leg, m.Transaction, m.Retransmission})
	}
	return out
}

func txRows(c *Call) []Transaction {
	return append([]Transaction(nil), c.Transactions...)
}

func TestBuilderMessages(t *testing.T) {
	d := newDialog("msgs@pc33.example.com")
	const inv = "z9hG4bK-inv1"
	tests := []struct {
		name string
		in   []wire
		rows []msgRow
		txs  []Transaction
	}{
		{
			name: "retransmissions marked, transactions not duplicated",
			in: []wire{
				{0, uac, uas, d.req("INVITE", inv, 1)},
				{ms(500), uac, uas, d.req("INVITE", inv, 1)},
				{ms(510), uas, uac, d.resp(100, "Trying", "INVITE", inv, 1)},
				{ms(2000), uas, uac, d.resp(200, "OK", "INVITE", inv, 1)},
				{ms(2500), uas, uac, d.resp(200, "OK", "INVITE", inv, 1)},
				{ms(2510), uac, uas, d.inDialog("ACK", "z9hG4bK-ack1", 1)},
				{ms(2520), uac, uas, d.inDialog("ACK", "z9hG4bK-ack1", 1)},
			},
			rows: []msgRow{
				{"INVITE", 0, 0, false}, {"INVITE", 0, 0, true}, {"100 Trying", 0, 0, false},
				{"200 OK", 0, 0, false}, {"200 OK", 0, 0, true}, {"ACK", 0, 1, false}, {"ACK", 0, 1, true},
			},
			txs: []Transaction{
				{Leg: 0, Branch: inv, CSeq: 1, Method: "INVITE", Request: 0, FinalStatus: 200, Retrans: 2},
				{Leg: 0, Branch: "z9hG4bK-ack1", CSeq: 1, Method: "ACK", Request: 5, Retrans: 1},
			},
		},
		{
			name: "CANCEL is its own transaction, ACK of 487 is in the INVITE's",
			in: []wire{
				{0, uac, uas, d.req("INVITE", inv, 1)},
				{ms(100), uas, uac, d.resp(180, "Ringing", "INVITE", inv, 1)},
				{ms(900), uac, uas, d.req("CANCEL", inv, 1)},
				{ms(905), uas, uac, d.resp(200, "OK", "CANCEL", inv, 1)},
				{ms(910), uas, uac, d.resp(487, "Request Terminated", "INVITE", inv, 1)},
				{ms(915), uac, uas, d.inDialog("ACK", inv, 1)},
				{ms(1410), uas, uac, d.resp(487, "Request Terminated", "INVITE", inv, 1)},
				{ms(1415), uac, uas, d.inDialog("ACK", inv, 1)},
			},
			rows: []msgRow{
				{"INVITE", 0, 0, false}, {"180 Ringing", 0, 0, false}, {"CANCEL", 0, 1, false},
				{"200 OK", 0, 1, false}, {"487 Request Terminated", 0, 0, false}, {"ACK", 0, 0, false},
				{"487 Request Terminated", 0, 0, true}, {"ACK", 0, 0, true},
			},
			txs: []Transaction{
				{Leg: 0, Branch: inv, CSeq: 1, Method: "INVITE", Request: 0, FinalStatus: 487, Retrans: 2},
				{Leg: 0, Branch: inv, CSeq: 1, Method: "CANCEL", Request: 2, FinalStatus: 200},
			},
		},
		{
			name: "proxy: the same message on two hops is no retransmission",
			in:   proxyCall(d)[:4],
			rows: []msgRow{
				{"INVITE", 0, 0, false}, {"100 trying -- your call is important to us", 0, 0, false},
				{"INVITE", 1, 1, false}, {"100 Trying", 1, 1, false},
			},
			txs: []Transaction{
				{Leg: 0, Branch: "z9hG4bK-u1", CSeq: 1, Method: "INVITE", Request: 0},
				{Leg: 1, Branch: "z9hG4bK-p1", CSeq: 1, Method: "INVITE", Request: 2},
			},
		},
		{
			name: "response seen before its request",
			in: []wire{
				{0, uas, uac, d.resp(200, "OK", "OPTIONS", "z9hG4bK-o1", 7)},
				{ms(1), uac, uas, d.req("OPTIONS", "z9hG4bK-o1", 7)},
			},
			rows: []msgRow{{"200 OK", 0, 0, false}, {"OPTIONS", 0, 0, false}},
			txs:  []Transaction{{Leg: 0, Branch: "z9hG4bK-o1", CSeq: 7, Method: "OPTIONS", Request: 1, FinalStatus: 200}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := run(t, Options{KeepMsgs: true}, tt.in)
			if len(calls) != 1 {
				t.Fatalf("got %d calls, want 1", len(calls))
			}
			c := calls[0]
			checkIndexes(t, c)
			if got := rows(c); !reflect.DeepEqual(got, tt.rows) {
				t.Errorf("messages:\n got %v\nwant %v", got, tt.rows)
			}
			if got := txRows(c); !reflect.DeepEqual(got, tt.txs) {
				t.Errorf("transactions:\n got %+v\nwant %+v", got, tt.txs)
			}
		})
	}
}

func TestBuilderDialogs(t *testing.T) {
	d := newDialog("fork@pc33.example.com")
	const inv = "z9hG4bK-inv1"
	d2 := d.withTag("2bb9c1")
	calls := run(t, Options{KeepMsgs: true}, []wire{
		{0, uac, px, d.req("INVITE", inv, 1)},
		{ms(200), px, uac, d.resp(180, "Ringing", "INVITE", inv, 1)},
		{ms(250), px, uac, d2.resp(183, "Session Progress", "INVITE", inv, 1)},
		{ms(3000), px, uac, d2.resp(200, "OK", "INVITE", inv, 1)},
		{ms(3010), uac, px, d2.inDialog("ACK", "z9hG4bK-ack1", 1)},
		{ms(4000), px, uac, d2.fromCallee("INFO", "z9hG4bK-info", 1)},
		{ms(4010), uac, px, d2.respToCallee(200, "OK", "INFO", "z9hG4bK-info", 1)},
	})
	want := []Dialog{
		{Leg: 0, FromTag: d.caller.tag, ToTag: d.callee.tag, Early: true},
		{Leg: 0, FromTag: d.caller.tag, ToTag: "2bb9c1"},
	}
	if len(calls) != 1 {
		t.Fatalf("got %d calls", len(calls))
	}
	if got := calls[0].Dialogs; !reflect.DeepEqual(got, want) {
		t.Errorf("dialogs:\n got %+v\nwant %+v", got, want)
	}
	if c := calls[0]; c.State != StateAnswered || c.TalkTime != ms(1010) || c.EndCause != EndNone {
		t.Errorf("state %v, talk %v, end %v; want answered, 1.01s, none", c.State, c.TalkTime, c.EndCause)
	}
}

// TestBuilderCorrelationOrder covers legs tied after the fact: a leg that
// names another Call-ID before that Call-ID is seen, and two open calls that
// a later leg or a later message ties together.
func TestBuilderCorrelationOrder(t *testing.T) {
	a := newDialog("leg-a@pc33.example.com")
	b := newDialog("leg-b@px.example.com")
	b.caller.tag, b.callee.tag, b.via = "px-1", "uas-1", "10.0.0.3:5060"
	c := newDialog("leg-c@sbc.example.com")
	c.caller.tag, c.callee.tag, c.via = "sbc-1", "uas-2", "10.0.0.4:5060"
	sbc := px
	legA := func(at time.Duration, extra ...string) []wire {
		a := a
		a.extra = extra
		return []wire{
			{at, uac, px, a.req("INVITE", "z9hG4bK-a1", 1)},
			{at + ms(100), px, uac, a.resp(180, "Ringing", "INVITE", "z9hG4bK-a1", 1)},
			{at + ms(1000), px, uac, a.resp(200, "OK", "INVITE", "z9hG4bK-a1", 1)},
			{at + ms(1010), uac, px, a.inDialog("ACK", "z9hG4bK-a2", 1)},
		}
	}
	legB := func(d dialog, at time.Duration, src, dst netip.AddrPort, extra ...string) []wire {
		d.extra = extra
		return []wire{
			{at, src, dst, d.req("INVITE", "z9hG4bK-b1", 1)},
			{at + ms(50), dst, src, d.resp(180, "Ringing", "INVITE", "z9hG4bK-b1", 1)},
			{at + ms(900), dst, src, d.resp(200, "OK", "INVITE", "z9hG4bK-b1", 1)},
			{at + ms(910), src, dst, d.inDialog("ACK", "z9hG4bK-b2", 1)},
		}
	}
	tests := []struct {
		name    string
		opts    Options
		in      []wire
		callIDs [][]string
		starts  []time.Duration
	}{
		{
			name: "X-CID names a Call-ID seen later (second file, earlier times)",
			in:   append(legB(b, ms(20), px, uas, "X-CID: "+a.callID), legA(0)...),
			// time order: leg A's INVITE is first
			callIDs: [][]string{{a.callID, b.callID}},
			starts:  []time.Duration{0},
		},
		{
			name:    "third leg ties two open calls (older found second)",
			in:      interleave(interleave(legA(0, pcvA), legB(b, ms(20), px, uas, sessionB)), legB(c, ms(40), sbc, uas, sessionA, pcvB)),
			callIDs: [][]string{{a.callID, b.callID, c.callID}},
			starts:  []time.Duration{0},
		},
		{
			name:    "third leg ties two open calls (headers in the other order)",
			opts:    Options{CorrelationHeaders: []string{"P-Charging-Vector", "Session-ID"}},
			in:      interleave(interleave(legA(0, pcvA), legB(b, ms(20), px, uas, sessionB)), legB(c, ms(40), sbc, uas, sessionA, pcvB)),
			callIDs: [][]string{{a.callID, b.callID, c.callID}},
			starts:  []time.Duration{0},
		},
		{
			name: "correlation header in a later message of a leg that began first",
			in: interleave(legB(b, 0, px, uas), append(legA(ms(30)),
				wire{ms(5000), uac, px, a.inDialog("INFO", "z9hG4bK-a9", 2, "X-CID: "+b.callID)})),
			callIDs: [][]string{{b.callID, a.callID}},
			starts:  []time.Duration{0},
		},
		{
			name:    "unrelated calls stay apart",
			in:      interleave(legA(0, pcvA), legB(b, ms(20), px, uas, sessionB)),
			callIDs: [][]string{{a.callID}, {b.callID}},
			starts:  []time.Duration{0, ms(20)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.KeepMsgs = true
			calls := run(t, tt.opts, tt.in)
			var ids [][]string
			var starts []time.Duration
			for _, c := range calls {
				ids = append(ids, c.CallIDs)
				starts = append(starts, c.Start.Sub(t0))
				checkIndexes(t, c)
				if c.Messages != len(c.Msgs) {
					t.Errorf("Messages %d, len(Msgs) %d", c.Messages, len(c.Msgs))
				}
			}
			if !reflect.DeepEqual(ids, tt.callIDs) || !reflect.DeepEqual(starts, tt.starts) {
				t.Errorf("got Call-IDs %v starts %v, want %v %v", ids, starts, tt.callIDs, tt.starts)
			}
			total := 0
			for _, c := range calls {
				total += c.Messages
			}
			if total != len(tt.in) {
				t.Errorf("%d messages in calls, %d fed", total, len(tt.in))
			}
			if c := calls[0]; len(tt.callIDs[0]) > 1 && (c.From.User != "alice" || c.State != StateAnswered || c.Method != "INVITE") {
				t.Errorf("first call: from %q, state %v, method %q", c.From.User, c.State, c.Method)
			}
		})
	}
}

// TestBuilderEmitsDuringAdd checks that a call is emitted as soon as capture
// time shows it over, before Flush, so memory stays bounded.
func TestBuilderEmitsDuringAdd(t *testing.T) {
	first := newDialog("first@pc33.example.com")
	second := newDialog("second@pc33.example.com")
	in := append(simpleCall(first, 0, uac, uas), simpleCall(second, ms(12120+32000), uac, uas)...)
	var emitted []string
	b := NewBuilder(Options{}, func(c *Call) { emitted = append(emitted, c.CallIDs[0]) })
	for i, w := range in {
		b.Add(toMessage(t, w, i+1))
		switch i {
		case 6:
			if len(emitted) != 0 || b.Open() != 1 {
				t.Fatalf("after the first call's last message: emitted %v, open %d", emitted, b.Open())
			}
		case 7:
			if len(emitted) != 1 || emitted[0] != first.callID || b.Open() != 1 {
				t.Fatalf("after the second call's INVITE, 32 s later: emitted %v, open %d", emitted, b.Open())
			}
		}
	}
	b.Flush()
	if len(emitted) != 2 || emitted[1] != second.callID || b.Open() != 0 {
		t.Fatalf("after Flush: emitted %v, open %d", emitted, b.Open())
	}
}

// TestBuilderTimeouts checks each timer: an unanswered INVITE closes after
// NoAnswer, an answered call without BYE after MaxIdle, a finished call after
// Linger; late messages past it start a new call.
func TestBuilderTimeouts(t *testing.T) {
	d := newDialog("timers@pc33.example.com")
	other := newDialog("tick@pc33.example.com")
	tick := func(at time.Duration) wire {
		return wire{at, uac, uas, other.req("OPTIONS", "z9hG4bK-t"+at.String(), 1)}
	}
	tests := []struct {
		name    string
		opts    Options
		in      []wire
		before  int // index of the message before which the call must be emitted
		state   State
		endCaus EndCause
	}{
		{
			name:    "unanswered INVITE closes after 64 s",
			in:      []wire{{0, uac, uas, d.req("INVITE", "z9hG4bK-1", 1)}, tick(ms(63500)), tick(ms(64500))},
			before:  2,
			state:   StateNoAnswer,
			endCaus: EndTimeout,
		},
		{
			name: "a new attempt after 401 waits 64 s for its own answer",
			in: []wire{
				{0, uac, uas, d.req("INVITE", "z9hG4bK-1", 1)},
				{ms(5), uas, uac, d.resp(401, "Unauthorized", "INVITE", "z9hG4bK-1", 1)},
				{ms(8), uac, uas, d.inDialog("ACK", "z9hG4bK-1", 1)},
				{ms(20), uac, uas, d.req("INVITE", "z9hG4bK-2", 2)},
				tick(ms(20 + 40000)), tick(ms(20 + 63500)), tick(ms(20 + 64500)),
			},
			before:  6,
			state:   StateNoAnswer,
			endCaus: EndTimeout,
		},
		{
			name: "answered call without BYE closes after MaxIdle",
			opts: Options{MaxIdle: time.Minute},
			in: append(simpleCall(d, 0, uac, uas)[:5],
				tick(ms(2110+59500)), tick(ms(2110+60500))),
			before:  6,
			state:   StateAnswered,
			endCaus: EndNone,
		},
		{
			name:    "answered call without BYE stays open for a long silent call",
			in:      append(simpleCall(d, 0, uac, uas)[:5], tick(ms(2110+3600_000))),
			before:  -1,
			state:   StateAnswered,
			endCaus: EndNone,
		},
		{
			name:    "finished call lingers 32 s",
			in:      append(simpleCall(d, 0, uac, uas), tick(ms(12120+31500)), tick(ms(12120+32500))),
			before:  8,
			state:   StateCompleted,
			endCaus: EndBye,
		},
		{
			name:    "custom linger",
			opts:    Options{Linger: 5 * time.Second},
			in:      append(simpleCall(d, 0, uac, uas), tick(ms(12120+4500)), tick(ms(12120+5500))),
			before:  8,
			state:   StateCompleted,
			endCaus: EndBye,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *Call
			at := -1
			i := 0
			b := NewBuilder(tt.opts, func(c *Call) {
				if c.CallIDs[0] == d.callID {
					got, at = c, i
				}
			})
			for ; i < len(tt.in); i++ {
				b.Add(toMessage(t, tt.in[i], i+1))
			}
			i = -1
			b.Flush()
			if got == nil {
				t.Fatal("call never emitted")
			}
			if at != tt.before {
				t.Errorf("emitted while adding message %d, want %d (-1: at Flush)", at, tt.before)
			}
			if got.State != tt.state || got.EndCause != tt.endCaus {
				t.Errorf("state %v, end %v; want %v, %v", got.State, got.EndCause, tt.state, tt.endCaus)
			}
		})
	}
}

func TestBuilderKeep(t *testing.T) {
	keep := newDialog("keep-me@pc33.example.com")
	drop := newDialog("drop-me@pc33.example.com")
	in := interleave(simpleCall(keep, 0, uac, uas), simpleCall(drop, ms(1), uac, uas))
	var fed []*capture.Message
	var calls []*Call
	asked := map[string]int{}
	b := NewBuilder(Options{KeepMsgs: true, KeepFull: func(id string) bool { asked[id]++; return id == keep.callID }},
		func(c *Call) { calls = append(calls, c) })
	for i, w := range in {
		m := toMessage(t, w, i+1)
		fed = append(fed, m)
		b.Add(m)
	}
	b.Flush()
	Sort(calls)
	if len(calls) != 2 {
		t.Fatalf("got %d calls", len(calls))
	}
	if asked[keep.callID] != 1 || asked[drop.callID] != 1 {
		t.Errorf("KeepFull asked %v, want once per Call-ID", asked)
	}
	for i, m := range calls[0].Msgs {
		if m.Full == nil || m.Full != fed[m.Frame-1] {
			t.Errorf("kept call, msg %d: Full = %p, want the message fed as frame %d", i, m.Full, m.Frame)
		}
	}
	for i, m := range calls[1].Msgs {
		if m.Full != nil {
			t.Errorf("other call, msg %d: Full kept", i)
		}
	}

	calls = run(t, Options{}, simpleCall(keep, 0, uac, uas))
	c := calls[0]
	if c.Msgs != nil || c.Transactions != nil || c.Dialogs != nil {
		t.Errorf("KeepMsgs=false: Msgs %d, Transactions %d, Dialogs %d kept", len(c.Msgs), len(c.Transactions), len(c.Dialogs))
	}
	if c.Messages != 7 || len(c.Legs) != 1 || c.State != StateCompleted || c.TalkTime != ms(10010) {
		t.Errorf("summary lost: messages %d, legs %d, state %v, talk %v", c.Messages, len(c.Legs), c.State, c.TalkTime)
	}
}

func TestSort(t *testing.T) {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	calls := []*Call{
		{Start: at(5), seq: 1, Method: "c"},
		{Start: at(1), seq: 3, Method: "b"},
		{Start: at(1), seq: 2, Method: "a"},
		{Start: at(9), seq: 4, Method: "d"},
	}
	Sort(calls)
	var got string
	for i, c := range calls {
		got += c.Method
		if c.Index != i+1 {
			t.Errorf("call %s: Index %d, want %d", c.Method, c.Index, i+1)
		}
	}
	if got != "abcd" {
		t.Errorf("order %q, want abcd", got)
	}
	Sort(nil)
}

func TestBuilderBroken(t *testing.T) {
	d := newDialog("")
	noCallID := strings.Replace(d.req("INVITE", "z9hG4bK-x", 1), "Call-ID: \r\n", "", 1)
	in := []wire{
		{0, uac, uas, noCallID},
		{ms(1), uac, uas, noCallID},
		{ms(2), uas, uac, strings.Replace(d.resp(200, "OK", "INVITE", "z9hG4bK-x", 1), "Call-ID: \r\n", "", 1)},
		{ms(3), uac, uas, "OPTIONS sip:x SIP/2.0\r\n\r\n"},
		{ms(4), none, none, "SIP/2.0 500 \r\nCSeq: banana\r\n\r\n"},
	}
	calls := run(t, Options{KeepMsgs: true}, in)
	if len(calls) != len(in) {
		t.Fatalf("got %d calls, want %d (one per message without Call-ID)", len(calls), len(in))
	}
	for i, c := range calls {
		checkIndexes(t, c)
		if c.Messages != 1 || c.Broken != 1 || len(c.CallIDs) != 1 || c.CallIDs[0] != "" {
			t.Errorf("call %d: messages %d, broken %d, Call-IDs %q", i+1, c.Messages, c.Broken, c.CallIDs)
		}
		if c.Start != t0.Add(in[i].at) {
			t.Errorf("call %d: start %v", i+1, c.Start)
		}
	}
	if calls[0].Method != "INVITE" || calls[0].State != StateNoAnswer || calls[3].Method != "OPTIONS" || calls[3].State != StateNonInvite {
		t.Errorf("methods/states: %q %v, %q %v", calls[0].Method, calls[0].State, calls[3].Method, calls[3].State)
	}
}

func TestQ850(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{`Q.850;cause=16;text="Normal call clearing"`, 16},
		{`SIP;cause=487;text="ORIGINATOR_CANCEL", Q.850 ; cause = 31`, 31},
		{`q.850;CAUSE=17`, 17},
		{`SIP;cause=200;text="Call completed elsewhere"`, 0},
		{`Q.850;text="no cause"`, 0},
		{`Q.850;cause=abc`, 0},
		{``, 0},
	}
	for _, tt := range tests {
		if got := q850(tt.in); got != tt.want {
			t.Errorf("q850(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestSessionUUIDs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"ab30317f1a784dc48ff824d0d3715d86;remote=00000000000000000000000000000000", []string{"ab30317f1a784dc48ff824d0d3715d86"}},
		{"AB30317F1A784DC48FF824D0D3715D86 ; remote=47755a9de7794ba387653f2099600ef2", []string{"ab30317f1a784dc48ff824d0d3715d86", "47755a9de7794ba387653f2099600ef2"}},
		{"00000000000000000000000000000000", nil},
		{"not-a-uuid;remote=47755a9de7794ba387653f2099600ef2", []string{"47755a9de7794ba387653f2099600ef2"}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := sessionUUIDs(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("sessionUUIDs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStrings(t *testing.T) {
	if StateCompleted.String() != "completed" || StateNonInvite.String() != "non-invite" || State(200).String() != "unknown" {
		t.Error("State.String")
	}
	if EndBye.String() != "BYE" || EndTimeout.String() != "timeout" || EndNone.String() != "" || EndCause(99).String() != "" {
		t.Error("EndCause.String")
	}
	m := Msg{StatusCode: 180}
	if m.Label() != "180" {
		t.Errorf("Label %q", m.Label())
	}
}

func TestBuilderParties(t *testing.T) {
	d := newDialog("parties@pc33.example.com")
	d.callee.user = "+4930123456"
	in := simpleCall(d, 0, uac, uas)
	in[0].text = d.req("INVITE", "z9hG4bK-inv1", 1,
		`P-Asserted-Identity: "Alice Smith" <sip:+4940111222@example.com;user=phone>, <tel:+4940111222>`,
		`Diversion: "Carol" <sip:carol@example.com>;reason=unconditional;counter=1, <sip:dave@example.com>;reason=user-busy`)
	calls := run(t, Options{}, in)
	if len(calls) != 1 {
		t.Fatalf("got %d calls", len(calls))
	}
	c := calls[0]
	want := []Party{
		{Display: "Alice", User: "alice", URI: "sip:alice@example.com"},
		{User: "+4930123456", URI: "sip:+4930123456@example.com"},
		{Display: "Alice Smith", User: "+4940111222", URI: "sip:+4940111222@example.com;user=phone"},
		{Display: "Carol", User: "carol", URI: "sip:carol@example.com"},
	}
	got := []Party{c.From, c.To, c.PAI, c.Diversion}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parties:\n got %+v\nwant %+v", got, want)
	}
	if c.RequestURI != "sip:+4930123456@example.com" {
		t.Errorf("RequestURI %q", c.RequestURI)
	}
}

// TestBuilderLateMessage checks that a message for a call that is over by
// its own time starts a new call even when no sweep ran since (sweeps run
// once per second of capture time).
func TestBuilderLateMessage(t *testing.T) {
	d := newDialog("late@pc33.example.com")
	other := newDialog("other@pc33.example.com")
	in := append(simpleCall(d, 0, uac, uas),
		wire{ms(12120 + 31800), uac, uas, other.req("OPTIONS", "z9hG4bK-o", 1)}, // sweeps: not over yet
		wire{ms(12120 + 32300), uas, uac, d.resp(200, "OK", "BYE", "z9hG4bK-bye1", 2)},
	)
	var emitted []*Call
	b := NewBuilder(Options{}, func(c *Call) { emitted = append(emitted, c) })
	for i, w := range in {
		b.Add(toMessage(t, w, i+1))
		if i == len(in)-1 && (len(emitted) != 1 || emitted[0].Messages != 7) {
			t.Fatalf("late 200: emitted %d calls", len(emitted))
		}
	}
	if b.Open() != 2 {
		t.Errorf("Open() = %d, want 2 (the OPTIONS and the late 200)", b.Open())
	}
	b.Flush()
	if len(emitted) != 3 || emitted[1].Messages+emitted[2].Messages != 2 {
		t.Errorf("emitted %d calls", len(emitted))
	}
}

// TestBuilderLongCall has more transactions than derive searches linearly
// (it switches to maps): numbers and retransmissions must not change.
func TestBuilderLongCall(t *testing.T) {
	d := newDialog("long@pc33.example.com")
	in := simpleCall(d, 0, uac, uas)
	bye := slices.Clone(in[5:])
	in = in[:5]
	at := ms(3000)
	const n = 40
	for i := 0; i < n; i++ {
		br := fmt.Sprintf("z9hG4bK-info%d", i)
		in = append(in,
			wire{at, uac, uas, d.inDialog("INFO", br, 10+i)},
			wire{at + ms(5), uas, uac, d.resp(200, "OK", "INFO", br, 10+i)})
		if i%10 == 0 { // a lost 200: INFO and 200 again
			in = append(in,
				wire{at + ms(500), uac, uas, d.inDialog("INFO", br, 10+i)},
				wire{at + ms(505), uas, uac, d.resp(200, "OK", "INFO", br, 10+i)})
		}
		at += time.Second
	}
	for _, w := range bye {
		w.at = at
		in = append(in, w)
		at += ms(10)
	}
	calls := run(t, Options{KeepMsgs: true}, in)
	if len(calls) != 1 {
		t.Fatalf("got %d calls", len(calls))
	}
	c := calls[0]
	checkIndexes(t, c)
	if len(c.Transactions) != 3+n || c.Retransmissions != 8 || c.Messages != len(in) || len(c.Dialogs) != 1 || c.State != StateCompleted {
		t.Errorf("transactions %d, retransmissions %d, messages %d, dialogs %d, state %v; want %d, 8, %d, 1, completed",
			len(c.Transactions), c.Retransmissions, c.Messages, len(c.Dialogs), c.State, 3+n, len(in))
	}
	for i, tx := range c.Transactions[2 : 2+n] {
		want := 0
		if i%10 == 0 {
			want = 2
		}
		if tx.Method != "INFO" || tx.CSeq != uint32(10+i) || tx.Retrans != want || tx.FinalStatus != 200 {
			t.Errorf("transaction %d: %+v", i+2, tx)
		}
	}
}

// TestRefusedBye: a BYE the peer refuses (500 Request out of order) does
// not end the call; the BYE after it does, and says who ended it and when.
// A BYE answered 481 ends it all the same (RFC 3261 15.1.1).
func TestRefusedBye(t *testing.T) {
	d := newDialog("refused-bye")
	for _, tc := range []struct {
		status int
		reason string
		talk   time.Duration
		by     netip.AddrPort
	}{
		{500, "Request out of order", ms(8000), uac},
		{481, "Call/Transaction Does Not Exist", ms(5000), uas},
	} {
		ws := simpleCall(d, 0, uac, uas)[:5] // up at 2.1 s
		ws = append(ws,
			wire{ms(7100), uas, uac, d.fromCallee("BYE", "z9hG4bK-byeB", 7)},
			wire{ms(7110), uac, uas, d.respToCallee(tc.status, tc.reason, "BYE", "z9hG4bK-byeB", 7)},
			wire{ms(10100), uac, uas, d.inDialog("BYE", "z9hG4bK-byeA", 2)},
			wire{ms(10110), uas, uac, d.resp(200, "OK", "BYE", "z9hG4bK-byeA", 2)},
		)
		calls := run(t, Options{}, ws)
		if len(calls) != 1 {
			t.Fatalf("%d: %d calls", tc.status, len(calls))
		}
		c := calls[0]
		if c.State != StateCompleted || c.EndCause != EndBye || c.TalkTime != tc.talk || c.EndedBy != tc.by {
			t.Errorf("BYE answered %d: state %v, end %v, talk %v by %v; want talk %v by %v", tc.status, c.State, c.EndCause, c.TalkTime, c.EndedBy, tc.talk, tc.by)
		}
	}
}

// TestResponsesOnly: a call whose request the capture missed (it began
// after it) still shows the final response it saw; its state stays unknown.
func TestResponsesOnly(t *testing.T) {
	d := newDialog("responses-only")
	calls := run(t, Options{}, []wire{
		{ms(0), uas, uac, d.resp(408, "Request Timeout", "INVITE", "z9hG4bK-inv1", 1)},
		{ms(500), uas, uac, d.resp(408, "Request Timeout", "INVITE", "z9hG4bK-inv1", 1)},
	})
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	c := calls[0]
	if c.Method != "INVITE" || c.FinalStatus != 408 || c.FinalReason != "Request Timeout" || c.State != StateUnknown {
		t.Errorf("method %s, final %d %q, state %v; want INVITE, 408 Request Timeout, unknown", c.Method, c.FinalStatus, c.FinalReason, c.State)
	}
}
