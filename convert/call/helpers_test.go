package call

import (
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/parse/capture"
	"github.com/sipflow/sipflow/parse/sip"
)

// Hosts of the synthetic captures.
var (
	uac  = netip.MustParseAddrPort("10.0.0.1:5060")
	uas  = netip.MustParseAddrPort("10.0.0.2:5060")
	px   = netip.MustParseAddrPort("10.0.0.3:5060")
	none netip.AddrPort // text logs: addresses unknown
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// wire is one message of a synthetic capture: SIP text sent at t0+at.
type wire struct {
	at       time.Duration
	src, dst netip.AddrPort
	text     string
}

// toMessage parses w into a capture message as parse/capture would deliver it.
func toMessage(t testing.TB, w wire, frame int) *capture.Message {
	t.Helper()
	m := &capture.Message{File: "test.pcap", Frame: frame, Time: t0.Add(w.at), Src: w.src, Dst: w.dst, Transport: capture.UDP}
	if err := sip.Parse([]byte(w.text), &m.SIP); err != nil {
		t.Fatalf("frame %d: %v\n%s", frame, err, w.text)
	}
	return m
}

// run feeds ws (frames numbered from 1) into a Builder, flushes it and
// returns the calls in Sort order.
func run(t testing.TB, opts Options, ws []wire) []*Call {
	t.Helper()
	var calls []*Call
	b := NewBuilder(opts, func(c *Call) { calls = append(calls, c) })
	for i, w := range ws {
		b.Add(toMessage(t, w, i+1))
	}
	b.Flush()
	if b.Open() != 0 {
		t.Errorf("Open() = %d after Flush, want 0", b.Open())
	}
	Sort(calls)
	return calls
}

// party describes one side of a synthetic dialog.
type side struct {
	display, user, tag string
}

// dialog writes the SIP text of one Call-ID between a caller and a callee.
type dialog struct {
	callID         string
	caller, callee side
	host           string   // domain of the URIs
	via            string   // sent-by of the top Via
	extra          []string // headers added to every initial request
}

func newDialog(callID string) dialog {
	return dialog{
		callID: callID,
		caller: side{display: "Alice", user: "alice", tag: "a73kszlfl"},
		callee: side{user: "bob", tag: "1928301774"},
		host:   "example.com",
		via:    "10.0.0.1:5060",
	}
}

func (d dialog) uri(s side) string { return "sip:" + s.user + "@" + d.host }

func (d dialog) addr(s side, tag bool) string {
	a := "<" + d.uri(s) + ">"
	if s.display != "" {
		a = `"` + s.display + `" ` + a
	}
	if tag && s.tag != "" {
		a += ";tag=" + s.tag
	}
	return a
}

// req is a request from the caller (an initial request has no To tag).
func (d dialog) req(method, branch string, cseq int, extra ...string) string {
	return d.request(method, branch, cseq, d.caller, d.callee, false, extra)
}

// inDialog is a request within the dialog from the caller.
func (d dialog) inDialog(method, branch string, cseq int, extra ...string) string {
	return d.request(method, branch, cseq, d.caller, d.callee, true, extra)
}

// fromCallee is a request within the dialog from the callee.
func (d dialog) fromCallee(method, branch string, cseq int, extra ...string) string {
	return d.request(method, branch, cseq, d.callee, d.caller, true, extra)
}

func (d dialog) request(method, branch string, cseq int, from, to side, toTag bool, extra []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, d.uri(to))
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=%s;rport\r\n", d.via, branch)
	b.WriteString("Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: %s\r\n", d.addr(from, true))
	fmt.Fprintf(&b, "To: %s\r\n", d.addr(to, toTag))
	fmt.Fprintf(&b, "Call-ID: %s\r\n", d.callID)
	fmt.Fprintf(&b, "CSeq: %d %s\r\n", cseq, method)
	fmt.Fprintf(&b, "Contact: <sip:%s@%s>\r\n", from.user, d.via)
	if !toTag {
		for _, h := range d.extra {
			b.WriteString(h + "\r\n")
		}
	}
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("User-Agent: sipflow-test\r\nContent-Length: 0\r\n\r\n")
	return b.String()
}

// resp is the callee's response to a request of the caller. The To tag is
// left out for 100 Trying.
func (d dialog) resp(code int, reason, method, branch string, cseq int, extra ...string) string {
	return d.response(code, reason, method, branch, cseq, d.caller, d.callee, code != 100, extra)
}

// respToCallee is the caller's response to a request of the callee.
func (d dialog) respToCallee(code int, reason, method, branch string, cseq int, extra ...string) string {
	return d.response(code, reason, method, branch, cseq, d.callee, d.caller, true, extra)
}

func (d dialog) response(code int, reason, method, branch string, cseq int, from, to side, toTag bool, extra []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", code, reason)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=%s;received=%s;rport=5060\r\n", d.via, branch, strings.Split(d.via, ":")[0])
	fmt.Fprintf(&b, "From: %s\r\n", d.addr(from, true))
	fmt.Fprintf(&b, "To: %s\r\n", d.addr(to, toTag))
	fmt.Fprintf(&b, "Call-ID: %s\r\n", d.callID)
	fmt.Fprintf(&b, "CSeq: %d %s\r\n", cseq, method)
	if code > 100 && code < 300 && (method == "INVITE" || method == "SUBSCRIBE") {
		fmt.Fprintf(&b, "Contact: <sip:%s@10.0.0.2:5060>\r\n", to.user)
	}
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Server: sipflow-test\r\nContent-Length: 0\r\n\r\n")
	return b.String()
}

// withTag returns d with the callee's tag set to tag (a fork's other branch).
func (d dialog) withTag(tag string) dialog {
	d.callee.tag = tag
	return d
}

// simpleCall is INVITE/100/180/200/ACK/BYE/200 between src and dst, starting
// at start: ringing after 100 ms, answer after 2.1 s, BYE 10.01 s later.
func simpleCall(d dialog, start time.Duration, src, dst netip.AddrPort, byeExtra ...string) []wire {
	return []wire{
		{start, src, dst, d.req("INVITE", "z9hG4bK-inv1", 1)},
		{start + ms(10), dst, src, d.resp(100, "Trying", "INVITE", "z9hG4bK-inv1", 1)},
		{start + ms(100), dst, src, d.resp(180, "Ringing", "INVITE", "z9hG4bK-inv1", 1)},
		{start + ms(2100), dst, src, d.resp(200, "OK", "INVITE", "z9hG4bK-inv1", 1)},
		{start + ms(2110), src, dst, d.inDialog("ACK", "z9hG4bK-ack1", 1)},
		{start + ms(12110), src, dst, d.inDialog("BYE", "z9hG4bK-bye1", 2, byeExtra...)},
		{start + ms(12120), dst, src, d.resp(200, "OK", "BYE", "z9hG4bK-bye1", 2)},
	}
}

// callFacts is the projection of a Call that the table tests compare exactly.
type callFacts struct {
	CallIDs     []string
	Method      string
	From, To    string // user parts
	State       State
	FinalStatus int
	FinalReason string
	Setup       time.Duration
	PDD         time.Duration
	Talk        time.Duration
	EndCause    EndCause
	EndedBy     netip.AddrPort
	EndedByFrom bool
	Q850        int
	Legs        int
	Messages    int
	Retrans     int
	Txs         int
	Dialogs     int
	Early       int
	Start, End  time.Duration // after t0
}

func factsOf(c *Call) callFacts {
	f := callFacts{
		CallIDs: c.CallIDs, Method: c.Method, From: c.From.User, To: c.To.User,
		State: c.State, FinalStatus: c.FinalStatus, FinalReason: c.FinalReason,
		Setup: c.SetupTime, PDD: c.PostDialDelay, Talk: c.TalkTime,
		EndCause: c.EndCause, EndedBy: c.EndedBy, EndedByFrom: c.EndedByFrom, Q850: c.Q850,
		Legs: len(c.Legs), Messages: c.Messages, Retrans: c.Retransmissions,
		Txs: len(c.Transactions), Dialogs: len(c.Dialogs),
		Start: c.Start.Sub(t0), End: c.End.Sub(t0),
	}
	for _, d := range c.Dialogs {
		if d.Early {
			f.Early++
		}
	}
	return f
}

func diffFacts(t *testing.T, calls []*Call, want []callFacts) {
	t.Helper()
	if len(calls) != len(want) {
		for _, c := range calls {
			t.Logf("got %+v", factsOf(c))
		}
		t.Fatalf("got %d calls, want %d", len(calls), len(want))
	}
	for i, c := range calls {
		if got := factsOf(c); !reflect.DeepEqual(got, want[i]) {
			t.Errorf("call %d:\n got %+v\nwant %+v", i+1, got, want[i])
		}
	}
}

// checkIndexes verifies that every index in c points into its slices.
func checkIndexes(t testing.TB, c *Call) {
	t.Helper()
	for i, m := range c.Msgs {
		if m.Leg < 0 || m.Leg >= len(c.Legs) {
			t.Errorf("msg %d: Leg %d out of range [0,%d)", i, m.Leg, len(c.Legs))
		}
		if m.Transaction < 0 || m.Transaction >= len(c.Transactions) {
			t.Errorf("msg %d: Transaction %d out of range [0,%d)", i, m.Transaction, len(c.Transactions))
		} else if tx := c.Transactions[m.Transaction]; tx.Leg != m.Leg {
			t.Errorf("msg %d: leg %d, its transaction's leg %d", i, m.Leg, tx.Leg)
		}
		if i > 0 && m.Time.Before(c.Msgs[i-1].Time) {
			t.Errorf("msg %d: time %v before msg %d's %v", i, m.Time, i-1, c.Msgs[i-1].Time)
		}
	}
	for i, tx := range c.Transactions {
		if tx.Leg < 0 || tx.Leg >= len(c.Legs) {
			t.Errorf("transaction %d: Leg %d out of range", i, tx.Leg)
		}
		if tx.Request < -1 || tx.Request >= len(c.Msgs) {
			t.Errorf("transaction %d: Request %d out of range", i, tx.Request)
		} else if tx.Request >= 0 && (c.Msgs[tx.Request].Transaction != i || !c.Msgs[tx.Request].Request) {
			t.Errorf("transaction %d: Request %d is not one of its requests", i, tx.Request)
		}
	}
	for i, d := range c.Dialogs {
		if d.Leg < 0 || d.Leg >= len(c.Legs) {
			t.Errorf("dialog %d: Leg %d out of range", i, d.Leg)
		}
	}
	if c.Retransmissions > c.Messages || c.Broken > c.Messages {
		t.Errorf("Retransmissions %d, Broken %d, Messages %d", c.Retransmissions, c.Broken, c.Messages)
	}
}
