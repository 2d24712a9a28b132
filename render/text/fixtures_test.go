package text

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/convert/call"
	"github.com/sipflow/sipflow/parse/capture"
	"github.com/sipflow/sipflow/parse/hosts"
	"github.com/sipflow/sipflow/parse/sip"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from golden file (go test -run %s -update to accept):\n--- got\n%s\n--- want\n%s", p, t.Name(), got, want)
	}
}

// checkWidth fails when a line of out is wider than w cells.
func checkWidth(t *testing.T, out string, w int) {
	t.Helper()
	for i, l := range strings.Split(out, "\n") {
		if n := strWidth(l); n > w {
			t.Errorf("line %d is %d cells wide, more than %d:\n%s", i+1, n, w, l)
		}
	}
}

// The fixed clock of all fixtures.
var (
	t0  = time.Date(2024, 3, 5, 14, 3, 7, 123456000, time.UTC)
	cet = time.FixedZone("CET", 3600)
)

// host is one SIP element of a fixture.
type host struct {
	ap   netip.AddrPort
	user string // the user part it uses in URIs
}

// fixture builds a call message by message, with real-looking SIP text.
type fixture struct {
	c      *call.Call
	now    time.Time
	frame  int
	file   string
	from   host // caller, for From
	to     host // callee, for To
	ftag   string
	ttag   string
	callID string
	keep   bool
}

func newFixture(index int, callID string, from, to host) *fixture {
	c := &call.Call{
		Index:         index,
		CallIDs:       []string{callID},
		Start:         t0,
		Method:        "INVITE",
		From:          call.Party{Display: "Alice", User: from.user, URI: "sip:" + from.user + "@example.com"},
		To:            call.Party{User: to.user, URI: "sip:" + to.user + "@example.com"},
		RequestURI:    "sip:" + to.user + "@" + to.ap.String(),
		SetupTime:     -1,
		PostDialDelay: -1,
		TalkTime:      -1,
	}
	return &fixture{c: c, now: t0, frame: 100 * index, file: "capture.pcap", from: from, to: to,
		ftag: "9fxced76sl", ttag: "314159", callID: callID, keep: true}
}

// leg adds a leg and returns its index.
func (f *fixture) leg(callID string, a, b netip.AddrPort) int {
	f.c.Legs = append(f.c.Legs, call.Leg{CallID: callID, A: a, B: b, First: f.now})
	return len(f.c.Legs) - 1
}

// msgOpts are the less common properties of a message.
type msgOpts struct {
	retrans  bool
	problems int
	sdp      string // SDP summary; a body is generated from it
	callID   string // "" -> the fixture's
	noTo     bool   // request before the To tag exists
	reason   string // Reason header
}

// add appends one message, dt after the previous one.
func (f *fixture) add(dt time.Duration, leg int, src, dst netip.AddrPort, method string, code int, reason string, cseq uint32, o msgOpts) *call.Msg {
	f.now = f.now.Add(dt)
	f.frame++
	cid := o.callID
	if cid == "" {
		cid = f.callID
	}
	m := call.Msg{
		File: f.file, Frame: f.frame, Time: f.now, Src: src, Dst: dst,
		Transport: capture.UDP, Request: code == 0, Method: method, StatusCode: code,
		Reason: reason, CSeq: cseq, CallID: cid, Branch: fmt.Sprintf("z9hG4bK%04x%d", cseq*7919, len(f.c.Msgs)),
		Leg: leg, Retransmission: o.retrans, SDP: o.sdp, Problems: o.problems,
	}
	if f.keep {
		raw := f.sipText(&m, o)
		m.Full = &capture.Message{File: f.file, Frame: f.frame, Time: f.now, Src: src, Dst: dst, Transport: capture.UDP,
			SIP: sip.Message{Raw: []byte(raw), Request: m.Request, MethodName: method, StatusCode: code, Reason: reason, CallID: cid, CSeq: cseq}}
	}
	f.c.Msgs = append(f.c.Msgs, m)
	f.c.Messages++
	if o.retrans {
		f.c.Retransmissions++
	}
	if o.problems > 0 {
		f.c.Broken++
	}
	f.c.End = f.now
	return &f.c.Msgs[len(f.c.Msgs)-1]
}

func hostOf(a netip.AddrPort) string {
	if !a.IsValid() {
		return "unknown.invalid"
	}
	return a.String()
}

// sipText writes a plausible SIP message for m.
func (f *fixture) sipText(m *call.Msg, o msgOpts) string {
	var b strings.Builder
	if m.Request {
		ruri := "sip:" + f.to.user + "@" + hostOf(m.Dst)
		fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", m.Method, ruri)
	} else {
		fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", m.StatusCode, m.Reason)
	}
	via := hostOf(m.Src)
	if !m.Request {
		via = hostOf(m.Dst)
	}
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=%s;rport\r\n", via, m.Branch)
	if m.Request {
		b.WriteString("Max-Forwards: 70\r\n")
	}
	fmt.Fprintf(&b, "From: \"Alice\" <sip:%s@example.com>;tag=%s\r\n", f.from.user, f.ftag)
	if o.noTo || (m.Request && m.Method == "INVITE" && m.CSeq <= 2) || m.StatusCode == 100 {
		fmt.Fprintf(&b, "To: <sip:%s@example.com>\r\n", f.to.user)
	} else {
		fmt.Fprintf(&b, "To: <sip:%s@example.com>;tag=%s\r\n", f.to.user, f.ttag)
	}
	fmt.Fprintf(&b, "Call-ID: %s\r\n", m.CallID)
	fmt.Fprintf(&b, "CSeq: %d %s\r\n", m.CSeq, m.Method)
	if m.Request && m.Method == "INVITE" || m.StatusCode/100 == 2 && m.Method == "INVITE" {
		fmt.Fprintf(&b, "Contact: <sip:%s@%s>\r\n", f.from.user, hostOf(m.Src))
	}
	if m.Request {
		b.WriteString("User-Agent: fixture-phone 1.0\r\n")
	} else {
		b.WriteString("Server: fixture-pbx 2.1\r\n")
	}
	if m.StatusCode == 401 {
		b.WriteString("WWW-Authenticate: Digest realm=\"example.com\", nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\", algorithm=MD5, qop=\"auth\"\r\n")
	}
	if m.Request && m.Method == "INVITE" && m.CSeq == 2 {
		b.WriteString("Authorization: Digest username=\"alice\", realm=\"example.com\", nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\", uri=\"sip:bob@example.com\", response=\"dfe56131d1958046689d83306477ecc\", algorithm=MD5, cnonce=\"0a4f113b\", qop=auth, nc=00000001\r\n")
	}
	if o.reason != "" {
		fmt.Fprintf(&b, "Reason: %s\r\n", o.reason)
	}
	body := ""
	if m.SDP != "" {
		addr := hostOf(m.Src)
		if i := strings.LastIndexByte(addr, ':'); i > 0 {
			addr = addr[:i]
		}
		body = "v=0\r\no=- 3920000000 3920000000 IN IP4 " + addr + "\r\ns=-\r\nc=IN IP4 " + addr +
			"\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\na=sendrecv\r\n"
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return b.String()
}

const msec = time.Millisecond

var (
	alice = host{netip.MustParseAddrPort("192.168.1.10:5060"), "1001"}
	bob   = host{netip.MustParseAddrPort("192.168.1.20:5060"), "1002"}
	kam   = host{netip.MustParseAddrPort("10.0.0.1:5060"), "kamailio"}
	carol = host{netip.MustParseAddrPort("10.0.0.30:5060"), "2001"}
)

// basicCall: alice calls bob directly: INVITE 100 180 200 ACK, BYE 200.
func basicCall() *call.Call {
	f := newFixture(1, "a84b4c76e66710@pc33.example.com", alice, bob)
	l := f.leg(f.callID, alice.ap, bob.ap)
	A, B := alice.ap, bob.ap
	f.add(0, l, A, B, "INVITE", 0, "", 1, msgOpts{sdp: "audio 192.168.1.10:40000 PCMU,PCMA,telephone-event sendrecv", noTo: true})
	f.add(12*msec, l, B, A, "INVITE", 100, "Trying", 1, msgOpts{})
	f.add(88*msec, l, B, A, "INVITE", 180, "Ringing", 1, msgOpts{})
	f.add(3412*msec, l, B, A, "INVITE", 200, "OK", 1, msgOpts{sdp: "audio 192.168.1.20:40000 PCMU sendrecv"})
	f.add(5*msec, l, A, B, "ACK", 0, "", 1, msgOpts{})
	f.add(62315*msec, l, A, B, "BYE", 0, "", 2, msgOpts{})
	f.add(9*msec, l, B, A, "BYE", 200, "OK", 2, msgOpts{})
	c := f.c
	c.FinalStatus, c.FinalReason, c.State = 200, "OK", call.StateCompleted
	c.SetupTime, c.PostDialDelay, c.TalkTime = 3512*msec, 100*msec, 62320*msec
	c.EndedBy, c.EndedByFrom, c.EndCause = A, true, call.EndBye
	c.Transactions = []call.Transaction{{Leg: 0, CSeq: 1, Method: "INVITE", Request: 0, FinalStatus: 200}, {Leg: 0, CSeq: 1, Method: "ACK", Request: 4}, {Leg: 0, CSeq: 2, Method: "BYE", Request: 5, FinalStatus: 200}}
	return c
}

// proxyCall: alice calls carol through a kamailio proxy: two legs (the same
// Call-ID on two hops), a retransmitted INVITE on the second hop, BYE from
// the callee with a Reason header.
func proxyCall() *call.Call {
	f := newFixture(2, "3848276298220188511@192.168.1.10", alice, carol)
	f.c.From.Display = "Alice Liddell"
	f.c.To = call.Party{Display: "Carol", User: "2001", URI: "sip:2001@example.com"}
	A, P, C := alice.ap, kam.ap, carol.ap
	l1 := f.leg(f.callID, A, P)
	l2 := f.leg(f.callID, P, C)
	sdpA := "audio 192.168.1.10:40000 PCMU,PCMA,telephone-event sendrecv"
	sdpC := "audio 10.0.0.30:30000 PCMA sendrecv"
	f.add(0, l1, A, P, "INVITE", 0, "", 1, msgOpts{sdp: sdpA, noTo: true})
	f.add(2*msec, l1, P, A, "INVITE", 100, "trying -- your call is important to us", 1, msgOpts{})
	f.add(1*msec, l2, P, C, "INVITE", 0, "", 1, msgOpts{sdp: sdpA, noTo: true})
	f.add(500*msec, l2, P, C, "INVITE", 0, "", 1, msgOpts{sdp: sdpA, noTo: true, retrans: true})
	f.add(40*msec, l2, C, P, "INVITE", 180, "Ringing", 1, msgOpts{})
	f.add(1*msec, l1, P, A, "INVITE", 180, "Ringing", 1, msgOpts{})
	f.add(2200*msec, l2, C, P, "INVITE", 200, "OK", 1, msgOpts{sdp: sdpC})
	f.add(1*msec, l1, P, A, "INVITE", 200, "OK", 1, msgOpts{sdp: sdpC})
	f.add(20*msec, l1, A, P, "ACK", 0, "", 1, msgOpts{})
	f.add(1*msec, l2, P, C, "ACK", 0, "", 1, msgOpts{})
	f.add(45*time.Second, l2, C, P, "BYE", 0, "", 1, msgOpts{reason: "Q.850;cause=16;text=\"Normal call clearing\""})
	f.add(1*msec, l1, P, A, "BYE", 0, "", 2, msgOpts{reason: "Q.850;cause=16;text=\"Normal call clearing\""})
	f.add(15*msec, l1, A, P, "BYE", 200, "OK", 2, msgOpts{})
	f.add(1*msec, l2, P, C, "BYE", 200, "OK", 1, msgOpts{})
	c := f.c
	c.FinalStatus, c.FinalReason, c.State = 200, "OK", call.StateCompleted
	c.SetupTime, c.PostDialDelay, c.TalkTime = 2745*msec, 544*msec, 45017*msec
	c.EndedBy, c.EndCause = C, call.EndBye
	c.ReasonHdr, c.Q850 = "Q.850;cause=16;text=\"Normal call clearing\"", 16
	c.PAI = call.Party{Display: "Alice Liddell", User: "+4930555001", URI: "tel:+4930555001"}
	return c
}

// cancelCall: the caller gives up while it rings: CANCEL, 200, 487, ACK. The
// 180 is retransmitted, one message is broken, and a text log supplied two
// messages whose sender is unknown.
func cancelCall() *call.Call {
	f := newFixture(3, "b2c1-cancel@192.168.1.10", alice, bob)
	A, B := alice.ap, bob.ap
	l := f.leg(f.callID, A, B)
	f.add(0, l, A, B, "INVITE", 0, "", 101, msgOpts{sdp: "audio 192.168.1.10:40002 PCMU sendrecv", noTo: true})
	f.add(30*msec, l, B, A, "INVITE", 180, "Ringing", 101, msgOpts{})
	f.add(4*time.Second, l, B, A, "INVITE", 180, "Ringing", 101, msgOpts{retrans: true})
	f.add(2*time.Second, l, netip.AddrPort{}, B, "OPTIONS", 0, "", 7, msgOpts{})
	f.add(1*msec, l, B, netip.AddrPort{}, "OPTIONS", 200, "OK", 7, msgOpts{problems: 2})
	f.add(1500*msec, l, A, B, "CANCEL", 0, "", 101, msgOpts{noTo: true})
	f.add(8*msec, l, B, A, "CANCEL", 200, "OK", 101, msgOpts{})
	f.add(1*msec, l, B, A, "INVITE", 487, "Request Terminated", 101, msgOpts{})
	f.add(3*msec, l, A, B, "ACK", 0, "", 101, msgOpts{})
	c := f.c
	c.FinalStatus, c.FinalReason, c.State = 487, "Request Terminated", call.StateCancelled
	c.SetupTime, c.PostDialDelay = 7543*msec, 30*msec
	c.EndedBy, c.EndedByFrom, c.EndCause = A, true, call.EndCancel
	c.ReasonHdr = "SIP;cause=487;text=\"Call completed elsewhere\""
	return c
}

// authCall: the first INVITE is challenged (401), the second one fails
// with 486 Busy Here.
func authCall() *call.Call {
	f := newFixture(4, "auth-retry-77@192.168.1.10", alice, bob)
	A, B := alice.ap, kam.ap
	f.to = host{B, "1002"}
	f.c.RequestURI = "sip:1002@" + B.String()
	l := f.leg(f.callID, A, B)
	f.add(0, l, A, B, "INVITE", 0, "", 1, msgOpts{sdp: "audio 192.168.1.10:40004 PCMU sendrecv", noTo: true})
	f.add(3*msec, l, B, A, "INVITE", 401, "Unauthorized", 1, msgOpts{})
	f.add(1*msec, l, A, B, "ACK", 0, "", 1, msgOpts{})
	f.add(20*msec, l, A, B, "INVITE", 0, "", 2, msgOpts{sdp: "audio 192.168.1.10:40004 PCMU sendrecv", noTo: true})
	f.add(2*msec, l, B, A, "INVITE", 100, "Trying", 2, msgOpts{})
	f.add(800*msec, l, B, A, "INVITE", 486, "Busy Here", 2, msgOpts{})
	f.add(1*msec, l, A, B, "ACK", 0, "", 2, msgOpts{})
	c := f.c
	c.FinalStatus, c.FinalReason, c.State = 486, "Busy Here", call.StateFailed
	c.SetupTime = 827 * msec
	c.EndedBy, c.EndCause = B, call.EndError
	return c
}

// chainCall: an INVITE hunted through n hosts (a chain of proxies), with
// the 180 and 200 coming back, for layouts with many hosts. IPv6 hosts
// from the 6th on.
func chainCall(n int) *call.Call {
	hs := make([]netip.AddrPort, n)
	for i := range hs {
		if i >= 5 {
			hs[i] = netip.MustParseAddrPort(fmt.Sprintf("[2001:db8:10::%x]:5060", i+1))
		} else {
			hs[i] = netip.MustParseAddrPort(fmt.Sprintf("10.1.0.%d:5060", i+1))
		}
	}
	f := newFixture(5, "chain-"+fmt.Sprint(n)+"@10.1.0.1", host{hs[0], "1001"}, host{hs[n-1], "3003"})
	f.keep = false
	for i := 0; i+1 < n; i++ {
		f.leg(f.callID, hs[i], hs[i+1])
	}
	for i := 0; i+1 < n; i++ {
		f.add(2*msec, i, hs[i], hs[i+1], "INVITE", 0, "", 1, msgOpts{sdp: "audio 10.1.0.1:40000 PCMU sendrecv"})
	}
	for i := n - 1; i > 0; i-- {
		f.add(1*msec, i-1, hs[i], hs[i-1], "INVITE", 183, "Session Progress", 1, msgOpts{})
	}
	for i := n - 1; i > 0; i-- {
		f.add(3*msec, i-1, hs[i], hs[i-1], "INVITE", 200, "OK", 1, msgOpts{})
	}
	f.add(5*msec, 0, hs[0], hs[n-1], "ACK", 0, "", 1, msgOpts{})
	c := f.c
	c.FinalStatus, c.FinalReason, c.State = 200, "OK", call.StateAnswered
	c.SetupTime, c.PostDialDelay, c.TalkTime = f.now.Sub(t0), 20*msec, 0
	return c
}

func testHosts(t testing.TB) *hosts.Map {
	m, err := hosts.Parse(strings.NewReader(`# lab
192.168.1.10       alice-phone
192.168.1.20:5060  bob-desk
10.0.0.1           kamailio proxy
10.1.0.3:5060      sbc-east
[2001:db8:10::8]:5060 carrier-gw-with-a-long-name
`), "lab.hosts")
	if err != nil {
		t.Fatal(err)
	}
	return m
}
