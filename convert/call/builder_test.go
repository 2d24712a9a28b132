package call

import (
	"net/netip"
	"slices"
	"testing"
	"time"
)

// Header values used by the correlation cases.
const (
	sessionA = "Session-ID: ab30317f1a784dc48ff824d0d3715d86;remote=00000000000000000000000000000000"
	sessionB = "Session-ID: ab30317f1a784dc48ff824d0d3715d86"
	pcvA     = "P-Charging-Vector: icid-value=1234bc9876e;icid-generated-at=192.0.6.8;orig-ioi=home1.net"
	pcvB     = `P-Charging-Vector: icid-value="1234bc9876e";orig-ioi=home1.net;term-ioi=home2.net`
)

// b2buaCall is leg A (uac -> px, Call-ID a) and leg B (px -> uas, Call-ID b),
// leg B starting 20 ms after leg A; hdrA and hdrB are added to each leg's
// INVITE.
func b2buaCall(hdrA, hdrB []string) []wire {
	a := newDialog("a84b4c76e66710@pc33.example.com")
	a.extra = hdrA
	b := newDialog("b2b-7f3a2c1e@px.example.com")
	b.extra = hdrB
	b.caller.tag, b.callee.tag = "px-2211", "uas-9981"
	b.via = "10.0.0.3:5060"
	return []wire{
		{0, uac, px, a.req("INVITE", "z9hG4bK-a1", 1)},
		{ms(5), px, uac, a.resp(100, "Trying", "INVITE", "z9hG4bK-a1", 1)},
		{ms(20), px, uas, b.req("INVITE", "z9hG4bK-b1", 101)},
		{ms(30), uas, px, b.resp(180, "Ringing", "INVITE", "z9hG4bK-b1", 101)},
		{ms(35), px, uac, a.resp(180, "Ringing", "INVITE", "z9hG4bK-a1", 1)},
		{ms(1030), uas, px, b.resp(200, "OK", "INVITE", "z9hG4bK-b1", 101)},
		{ms(1035), px, uac, a.resp(200, "OK", "INVITE", "z9hG4bK-a1", 1)},
		{ms(1040), uac, px, a.inDialog("ACK", "z9hG4bK-a2", 1)},
		{ms(1045), px, uas, b.inDialog("ACK", "z9hG4bK-b2", 101)},
		{ms(6040), uac, px, a.inDialog("BYE", "z9hG4bK-a3", 2)},
		{ms(6045), px, uas, b.inDialog("BYE", "z9hG4bK-b3", 102)},
		{ms(6050), uas, px, b.resp(200, "OK", "BYE", "z9hG4bK-b3", 102)},
		{ms(6055), px, uac, a.resp(200, "OK", "BYE", "z9hG4bK-a3", 2)},
	}
}

var b2buaIDs = []string{"a84b4c76e66710@pc33.example.com", "b2b-7f3a2c1e@px.example.com"}

// b2buaFacts is what b2buaCall yields when its legs are correlated.
var b2buaFacts = callFacts{
	CallIDs: b2buaIDs, Method: "INVITE", From: "alice", To: "bob",
	State: StateCompleted, FinalStatus: 200, FinalReason: "OK",
	Setup: ms(1035), PDD: ms(35), Talk: ms(5005),
	EndCause: EndBye, EndedBy: uac, EndedByFrom: true,
	Legs: 2, Messages: 13, Txs: 6, Dialogs: 2, End: ms(6055),
}

func TestBuilderCalls(t *testing.T) {
	d := newDialog("a84b4c76e66710@pc33.example.com")
	const inv = "z9hG4bK-inv1"
	simple := callFacts{
		CallIDs: []string{d.callID}, Method: "INVITE", From: "alice", To: "bob",
		State: StateCompleted, FinalStatus: 200, FinalReason: "OK",
		Setup: ms(2100), PDD: ms(100), Talk: ms(10010),
		EndCause: EndBye, EndedBy: uac, EndedByFrom: true,
		Legs: 1, Messages: 7, Txs: 3, Dialogs: 1, End: ms(12120),
	}
	with := func(f callFacts, edit func(*callFacts)) callFacts { edit(&f); return f }
	fork := d
	fork.via = "10.0.0.1:5060"
	d2 := d.withTag("2bb9c1")
	second := newDialog("second-call@pc33.example.com")

	tests := []struct {
		name string
		opts Options
		in   []wire
		want []callFacts
	}{
		{
			name: "simple call",
			in:   simpleCall(d, 0, uac, uas),
			want: []callFacts{simple},
		},
		{
			name: "callee hangs up",
			in: append(simpleCall(d, 0, uac, uas)[:5],
				wire{ms(12110), uas, uac, d.fromCallee("BYE", "z9hG4bK-uasbye", 1)},
				wire{ms(12120), uac, uas, d.respToCallee(200, "OK", "BYE", "z9hG4bK-uasbye", 1)},
			),
			want: []callFacts{with(simple, func(f *callFacts) { f.EndedBy, f.EndedByFrom = uas, false })},
		},
		{
			name: "retransmitted INVITE and 200",
			in: []wire{
				{0, uac, uas, d.req("INVITE", inv, 1)},
				{ms(500), uac, uas, d.req("INVITE", inv, 1)},
				{ms(510), uas, uac, d.resp(100, "Trying", "INVITE", inv, 1)},
				{ms(600), uas, uac, d.resp(180, "Ringing", "INVITE", inv, 1)},
				{ms(2000), uas, uac, d.resp(200, "OK", "INVITE", inv, 1)},
				{ms(2500), uas, uac, d.resp(200, "OK", "INVITE", inv, 1)},
				{ms(2510), uac, uas, d.inDialog("ACK", "z9hG4bK-ack1", 1)},
				{ms(5000), uac, uas, d.inDialog("BYE", "z9hG4bK-bye1", 2)},
				{ms(5010), uas, uac, d.resp(200, "OK", "BYE", "z9hG4bK-bye1", 2)},
			},
			want: []callFacts{with(simple, func(f *callFacts) {
				f.Setup, f.PDD, f.Talk, f.Messages, f.Retrans, f.End = ms(2000), ms(600), ms(3000), 9, 2, ms(5010)
			})},
		},
		{
			name: "486 busy",
			in: []wire{
				{0, uac, uas, d.req("INVITE", inv, 1)},
				{ms(10), uas, uac, d.resp(100, "Trying", "INVITE", inv, 1)},
				{ms(220), uas, uac, d.resp(486, "Busy Here", "INVITE", inv, 1)},
				{ms(225), uac, uas, d.inDialog("ACK", inv, 1)},
			},
			want: []callFacts{{
				CallIDs: []string{d.callID}, Method: "INVITE", From: "alice", To: "bob",
				State: StateFailed, FinalStatus: 486, FinalReason: "Busy Here",
				Setup: ms(220), PDD: -1, Talk: -1, EndCause: EndError, EndedBy: uas,
				Legs: 1, Messages: 4, Txs: 1, End: ms(225),
			}},
		},
		{
			name: "CANCEL then 487",
			in: []wire{
				{0, uac, uas, d.req("INVITE", inv, 1)},
				{ms(10), uas, uac, d.resp(100, "Trying", "INVITE", inv, 1)},
				{ms(100), uas, uac, d.resp(180, "Ringing", "INVITE", inv, 1)},
				{ms(900), uac, uas, d.req("CANCEL", inv, 1, `Reason: SIP;cause=487;text="ORIGINATOR_CANCEL"`)},
				{ms(905), uas, uac, d.resp(200, "OK", "CANCEL", inv, 1)},
				{ms(910), uas, uac, d.resp(487, "Request Terminated", "INVITE", inv, 1)},
				{ms(915), uac, uas, d.inDialog("ACK", inv, 1)},
			},
			want: []callFacts{{
				CallIDs: []string{d.callID}, Method: "INVITE", From: "alice", To: "bob",
				State: StateCancelled, FinalStatus: 487, FinalReason: "Request Terminated",
				Setup: ms(910), PDD: ms(100), Talk: -1, EndCause: EndCancel, EndedBy: uac, EndedByFrom: true,
				Legs: 1, Messages: 7, Txs: 2, Dialogs: 1, Early: 1, End: ms(915),
			}},
		},
		{
			name: "401 challenge then retry",
			in: []wire{
				{0, uac, uas, d.req("INVITE", "z9hG4bK-i1", 1)},
				{ms(5), uas, uac, d.resp(401, "Unauthorized", "INVITE", "z9hG4bK-i1", 1,
					`WWW-Authenticate: Digest realm="sipflow.test", nonce="2a9c1", qop="auth"`)},
				{ms(8), uac, uas, d.inDialog("ACK", "z9hG4bK-i1", 1)},
				{ms(20), uac, uas, d.req("INVITE", "z9hG4bK-i2", 2,
					`Authorization: Digest username="alice", realm="sipflow.test", nonce="2a9c1", uri="sip:bob@example.com", response="6629fae49393a05397450978507c4ef1"`)},
				{ms(25), uas, uac, d.resp(100, "Trying", "INVITE", "z9hG4bK-i2", 2)},
				{ms(120), uas, uac, d.resp(180, "Ringing", "INVITE", "z9hG4bK-i2", 2)},
				{ms(1120), uas, uac, d.resp(200, "OK", "INVITE", "z9hG4bK-i2", 2)},
				{ms(1125), uac, uas, d.inDialog("ACK", "z9hG4bK-i3", 2)},
				{ms(2125), uac, uas, d.inDialog("BYE", "z9hG4bK-i4", 3)},
				{ms(2130), uas, uac, d.resp(200, "OK", "BYE", "z9hG4bK-i4", 3)},
			},
			want: []callFacts{with(simple, func(f *callFacts) {
				f.Setup, f.PDD, f.Talk, f.Messages, f.Txs, f.End = ms(1120), ms(120), ms(1005), 10, 4, ms(2130)
			})},
		},
		{
			name: "INVITE never answered, Timer A",
			in: []wire{
				{0, uac, uas, d.req("INVITE", inv, 1)},
				{ms(500), uac, uas, d.req("INVITE", inv, 1)},
				{ms(1500), uac, uas, d.req("INVITE", inv, 1)},
				{ms(3500), uac, uas, d.req("INVITE", inv, 1)},
				{ms(7500), uac, uas, d.req("INVITE", inv, 1)},
			},
			want: []callFacts{{
				CallIDs: []string{d.callID}, Method: "INVITE", From: "alice", To: "bob",
				State: StateNoAnswer, Setup: -1, PDD: -1, Talk: -1, EndCause: EndTimeout,
				Legs: 1, Messages: 5, Retrans: 4, Txs: 1, End: ms(7500),
			}},
		},
		{
			name: "forked INVITE, two early dialogs, one answered",
			in: []wire{
				{0, uac, px, fork.req("INVITE", inv, 1)},
				{ms(10), px, uac, fork.resp(100, "Trying", "INVITE", inv, 1)},
				{ms(200), px, uac, fork.resp(180, "Ringing", "INVITE", inv, 1)},
				{ms(250), px, uac, d2.resp(180, "Ringing", "INVITE", inv, 1)},
				{ms(3000), px, uac, d2.resp(200, "OK", "INVITE", inv, 1)},
				{ms(3010), uac, px, d2.inDialog("ACK", "z9hG4bK-ack1", 1)},
				{ms(9010), uac, px, d2.inDialog("BYE", "z9hG4bK-bye1", 2)},
				{ms(9020), px, uac, d2.resp(200, "OK", "BYE", "z9hG4bK-bye1", 2)},
			},
			want: []callFacts{with(simple, func(f *callFacts) {
				f.Setup, f.PDD, f.Talk, f.Messages, f.Dialogs, f.Early, f.End = ms(3000), ms(200), ms(6010), 8, 2, 1, ms(9020)
			})},
		},
		{
			name: "proxy: two legs, same Call-ID",
			in:   proxyCall(d),
			want: []callFacts{with(simple, func(f *callFacts) {
				f.Setup, f.PDD, f.Talk, f.Legs, f.Messages, f.Txs, f.Dialogs, f.End = ms(2105), ms(105), ms(10010), 2, 14, 6, 2, ms(12130)
			})},
		},
		{
			name: "B2BUA tied by X-CID",
			in:   b2buaCall(nil, []string{"X-CID: " + d.callID}),
			want: []callFacts{b2buaFacts},
		},
		{
			name: "B2BUA tied by x-call-id (lower-case name)",
			in:   b2buaCall(nil, []string{"x-call-id: " + d.callID}),
			want: []callFacts{b2buaFacts},
		},
		{
			name: "B2BUA tied by Session-ID",
			in:   b2buaCall([]string{sessionA}, []string{sessionB}),
			want: []callFacts{b2buaFacts},
		},
		{
			name: "B2BUA tied by P-Charging-Vector icid-value",
			in:   b2buaCall([]string{pcvA}, []string{pcvB}),
			want: []callFacts{b2buaFacts},
		},
		{
			name: "all-zero Session-IDs tie nothing",
			in: b2buaCall([]string{"Session-ID: 00000000000000000000000000000000"},
				[]string{"Session-ID: 00000000000000000000000000000000;remote=00000000000000000000000000000000"}),
			want: b2buaSplit(),
		},
		{
			name: "correlation disabled",
			opts: Options{CorrelationHeaders: []string{}},
			in:   b2buaCall(nil, []string{"X-CID: " + d.callID}),
			want: b2buaSplit(),
		},
		{
			name: "custom correlation header only",
			opts: Options{CorrelationHeaders: []string{"X-Orig-Call"}},
			in:   b2buaCall([]string{"X-CID: none-of-ours"}, []string{"X-CID: " + d.callID, "X-Orig-Call: " + d.callID}),
			want: []callFacts{b2buaFacts},
		},
		{
			name: "Reason Q.850 on BYE",
			in:   simpleCall(d, 0, uac, uas, `Reason: Q.850;cause=16;text="Normal call clearing"`),
			want: []callFacts{with(simple, func(f *callFacts) { f.Q850 = 16 })},
		},
		{
			name: "REGISTER 401 then 200",
			in: []wire{
				{0, uac, uas, d.req("REGISTER", "z9hG4bK-r1", 1, "Expires: 3600")},
				{ms(4), uas, uac, d.resp(401, "Unauthorized", "REGISTER", "z9hG4bK-r1", 1, `WWW-Authenticate: Digest realm="example.com", nonce="ab12"`)},
				{ms(10), uac, uas, d.req("REGISTER", "z9hG4bK-r2", 2, "Expires: 3600", `Authorization: Digest username="alice", realm="example.com", nonce="ab12", uri="sip:example.com", response="0123456789abcdef0123456789abcdef"`)},
				{ms(15), uas, uac, d.resp(200, "OK", "REGISTER", "z9hG4bK-r2", 2, "Expires: 3600")},
			},
			want: []callFacts{{
				CallIDs: []string{d.callID}, Method: "REGISTER", From: "alice", To: "bob",
				State: StateNonInvite, FinalStatus: 200, FinalReason: "OK",
				Setup: ms(15), PDD: -1, Talk: -1, Legs: 1, Messages: 4, Txs: 2, End: ms(15),
			}},
		},
		{
			name: "OPTIONS without response",
			in:   []wire{{0, uac, uas, d.req("OPTIONS", "z9hG4bK-o1", 1)}},
			want: []callFacts{{
				CallIDs: []string{d.callID}, Method: "OPTIONS", From: "alice", To: "bob",
				State: StateNonInvite, Setup: -1, PDD: -1, Talk: -1, Legs: 1, Messages: 1, Txs: 1,
			}},
		},
		{
			name: "same Call-ID after more than linger is a new call",
			in:   append(simpleCall(d, 0, uac, uas), simpleCall(d, ms(12120+33000), uac, uas)...),
			want: []callFacts{simple, with(simple, func(f *callFacts) { f.Start, f.End = ms(45120), ms(57240) })},
		},
		{
			name: "text log: unknown addresses",
			in: stripAddrs(append(simpleCall(d, 0, uac, uas)[:5],
				wire{ms(12110), uas, uac, d.fromCallee("BYE", "z9hG4bK-uasbye", 1)},
				wire{ms(12120), uac, uas, d.respToCallee(200, "OK", "BYE", "z9hG4bK-uasbye", 1)},
			)),
			want: []callFacts{with(simple, func(f *callFacts) { f.EndedBy, f.EndedByFrom = none, false })},
		},
		{
			name: "two calls interleaved",
			in:   interleave(simpleCall(d, 0, uac, uas), simpleCall(second, ms(50), uac, uas)),
			want: []callFacts{simple, with(simple, func(f *callFacts) {
				f.CallIDs, f.Start, f.End = []string{second.callID}, ms(50), ms(12170)
			})},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.KeepMsgs = true
			calls := run(t, tt.opts, tt.in)
			diffFacts(t, calls, tt.want)
			for _, c := range calls {
				checkIndexes(t, c)
			}
		})
	}
}

// b2buaSplit is what b2buaCall yields when its legs are not correlated.
func b2buaSplit() []callFacts {
	a := b2buaFacts
	a.CallIDs, a.Legs, a.Messages, a.Txs, a.Dialogs = b2buaIDs[:1], 1, 7, 3, 1
	b := a
	b.CallIDs = b2buaIDs[1:]
	b.Setup, b.PDD, b.Talk, b.EndedBy, b.Messages = ms(1010), ms(10), ms(5015), px, 6
	b.Start, b.End = ms(20), ms(6050)
	return []callFacts{a, b}
}

// proxyCall is a call from uac through the proxy px to uas: 14 messages.
func proxyCall(d dialog) []wire {
	p := d
	p.via = "10.0.0.3:5060"
	return []wire{
		{0, uac, px, d.req("INVITE", "z9hG4bK-u1", 1)},
		{ms(2), px, uac, d.resp(100, "trying -- your call is important to us", "INVITE", "z9hG4bK-u1", 1)},
		{ms(3), px, uas, p.req("INVITE", "z9hG4bK-p1", 1)},
		{ms(10), uas, px, p.resp(100, "Trying", "INVITE", "z9hG4bK-p1", 1)},
		{ms(100), uas, px, p.resp(180, "Ringing", "INVITE", "z9hG4bK-p1", 1)},
		{ms(105), px, uac, d.resp(180, "Ringing", "INVITE", "z9hG4bK-u1", 1)},
		{ms(2100), uas, px, p.resp(200, "OK", "INVITE", "z9hG4bK-p1", 1)},
		{ms(2105), px, uac, d.resp(200, "OK", "INVITE", "z9hG4bK-u1", 1)},
		{ms(2110), uac, px, d.inDialog("ACK", "z9hG4bK-u2", 1)},
		{ms(2112), px, uas, p.inDialog("ACK", "z9hG4bK-p2", 1)},
		{ms(12115), uac, px, d.inDialog("BYE", "z9hG4bK-u3", 2)},
		{ms(12117), px, uas, p.inDialog("BYE", "z9hG4bK-p3", 2)},
		{ms(12125), uas, px, p.resp(200, "OK", "BYE", "z9hG4bK-p3", 2)},
		{ms(12130), px, uac, d.resp(200, "OK", "BYE", "z9hG4bK-u3", 2)},
	}
}

func stripAddrs(ws []wire) []wire {
	out := slices.Clone(ws)
	for i := range out {
		out[i].src, out[i].dst = none, none
	}
	return out
}

// interleave merges two time-ordered captures into one.
func interleave(a, b []wire) []wire {
	out := append(slices.Clone(a), b...)
	slices.SortStableFunc(out, func(x, y wire) int { return int(x.at - y.at) })
	return out
}

var _ = time.Second
var _ netip.AddrPort

func TestDateless(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	logged := time.Date(1, 1, 1, 0, 30, 0, 0, time.UTC) // tcpdump -vvv: 00:30:00, no date
	dated := time.Date(2026, 11, 22, 0, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		t        time.Time
		dateless bool
		in       string
	}{
		{logged, true, "00:30:00"},
		{time.Date(1, 1, 1, 0, 30, 0, 0, berlin), true, "00:30:00"}, // read in a zone: before year 1 in UTC
		{dated, false, "01:30:00"},
		{time.Time{}, false, "00:53:28"}, // the zero time is "no time", not a time of day
	} {
		if got := Dateless(tc.t); got != tc.dateless {
			t.Errorf("Dateless(%v) = %v", tc.t, got)
		}
		if got := In(tc.t, berlin).Format("15:04:05"); got != tc.in {
			t.Errorf("In(%v) = %s, want %s", tc.t, got, tc.in)
		}
	}
}
