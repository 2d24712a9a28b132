package media

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/sipflow/sipflow/parse/capture"
	"github.com/sipflow/sipflow/parse/sip"
)

var t0 = time.Date(2026, 11, 22, 15, 0, 0, 0, time.UTC)

var (
	uac    = netip.MustParseAddrPort("10.0.0.1:5060")
	uas    = netip.MustParseAddrPort("10.0.0.2:5060")
	rtpA   = netip.MustParseAddrPort("10.0.0.1:4000")
	rtpB   = netip.MustParseAddrPort("10.0.0.2:6000")
	pubUAS = netip.MustParseAddrPort("203.0.113.5:5060")
)

// sim builds a call: SIP messages and RTP packets fed to a Tracker.
type sim struct {
	t       *testing.T
	tr      *Tracker
	frame   int
	callID  string        // Call-ID of the messages ("call-1" if empty)
	fromLog bool          // the messages come from a text log
	base    time.Duration // added to every time
	// shadow, if set, gets the same media and only the messages it wants
	// (PeekWants), as sipflow rtp's reader gives them: it must end with
	// the same result as tr.
	shadow *Tracker
}

func newSim(t *testing.T) *sim { return &sim{t: t, tr: NewTracker(Options{})} }

func sdpBody(a netip.AddrPort, pts string) string {
	return fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP %s\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n",
		a.Addr(), a.Addr(), a.Port(), pts)
}

func (s *sim) sip(at time.Duration, src, dst netip.AddrPort, start, cseq, fromTag, toTag, body string) {
	s.t.Helper()
	s.frame++
	ct := ""
	if body != "" {
		ct = "Content-Type: application/sdp\r\n"
	}
	id := s.callID
	if id == "" {
		id = "call-1"
	}
	raw := fmt.Sprintf("%s\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=%s\r\nTo: <sip:b@x>%s\r\nCall-ID: %s\r\nCSeq: %s\r\n%sContent-Length: %d\r\n\r\n%s",
		start, src, fromTag, toTag, id, cseq, ct, len(body), body)
	m := &capture.Message{File: "sim", Frame: s.frame, Time: t0.Add(s.base + at), Src: src, Dst: dst, FromLog: s.fromLog}
	if err := sip.Parse([]byte(raw), &m.SIP); err != nil {
		s.t.Fatal(err)
	}
	s.tr.SIP(m)
	if s.shadow != nil && s.shadow.PeekWants(capture.PeekInfo{Request: m.SIP.Request, Method: m.SIP.Method, Status: m.SIP.StatusCode,
		CSeqMethod: m.SIP.CSeqMethod, Body: len(m.SIP.Body) > 0}) {
		s.shadow.SIP(m)
	}
}

// rtp sends n packets every 20 ms from src to dst starting at at.
func (s *sim) rtp(at time.Duration, src, dst netip.AddrPort, ssrc uint32, pt uint8, seq0 int, n int) {
	for i := 0; i < n; i++ {
		s.frame++
		b := make([]byte, 12+160)
		b[0], b[1] = 0x80, pt
		binary.BigEndian.PutUint16(b[2:], uint16(seq0+i))
		binary.BigEndian.PutUint32(b[4:], uint32(seq0+i)*160)
		binary.BigEndian.PutUint32(b[8:], ssrc)
		s.tr.Media(&capture.Media{File: "sim", Frame: s.frame, Time: t0.Add(s.base + at + time.Duration(i)*20*time.Millisecond), Src: src, Dst: dst, Payload: b})
	}
}

// call sets up INVITE (offer from A) / 200 (answer from B) / ACK.
func (s *sim) call(offerTo netip.AddrPort, answer string) {
	s.sip(0, uac, offerTo, "INVITE sip:b@x SIP/2.0", "1 INVITE", "A", "", sdpBody(rtpA, "8 101"))
	s.sip(100*time.Millisecond, offerTo, uac, "SIP/2.0 200 OK", "1 INVITE", "A", ";tag=B", answer)
	s.sip(110*time.Millisecond, uac, offerTo, "ACK sip:b@x SIP/2.0", "1 ACK", "A", ";tag=B", "")
}

func (s *sim) bye(at time.Duration) {
	s.sip(at, uac, uas, "BYE sip:b@x SIP/2.0", "2 BYE", "A", ";tag=B", "")
}

func kinds(ps []Problem) []ProblemKind {
	var out []ProblemKind
	for _, p := range ps {
		out = append(out, p.Kind)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestNoMediaDetail: a call without media whose hosts send no media at all
// in the input (a proxy's capture) says so; one whose hosts are seen
// sending other media does not.
func TestNoMediaDetail(t *testing.T) {
	for _, tc := range []struct {
		others bool
		want   string
	}{
		{true, "no-media: answered, but no media was seen in either direction"},
		{false, "no-media: answered, but no media was seen in either direction" + notSeenAtAll},
	} {
		s := newSim(t)
		if tc.others {
			s.rtp(0, netip.AddrPortFrom(rtpB.Addr(), 7000), netip.MustParseAddrPort("10.0.0.9:7000"), 9, 8, 1, 5)
		}
		s.call(uas, sdpBody(rtpB, "8 101"))
		s.bye(1300 * time.Millisecond)
		cm := s.tr.Finish().Calls["call-1"]
		if cm == nil || len(cm.Problems) != 1 || cm.Problems[0].String() != tc.want {
			t.Errorf("other media %v: got %v\nwant %s", tc.others, cm, tc.want)
		}
	}
}

// TestLogOnly: a call read from a text log has no media to measure: it
// says so, and no media problem is looked for; the same call with one
// message from a capture is measured.
func TestLogOnly(t *testing.T) {
	for _, mixed := range []bool{false, true} {
		s := newSim(t)
		s.fromLog = true
		s.call(uas, sdpBody(rtpB, "8 101"))
		s.fromLog = !mixed // the BYE from a capture
		s.bye(1300 * time.Millisecond)
		res := s.tr.Finish()
		cm := res.Calls["call-1"]
		if cm == nil {
			t.Fatal("no media for call-1")
		}
		if cm.LogOnly == mixed || len(cm.Problems) != map[bool]int{false: 0, true: 1}[mixed] {
			t.Errorf("mixed %v: LogOnly %v, problems %v", mixed, cm.LogOnly, cm.Problems)
		}
		if got := res.ForCall([]string{"call-1"}, time.Time{}, time.Time{}); got.LogOnly != cm.LogOnly {
			t.Errorf("mixed %v: ForCall LogOnly %v", mixed, got.LogOnly)
		}
	}
}

func TestDetectors(t *testing.T) {
	tests := []struct {
		name string
		run  func(s *sim)
		want []ProblemKind
	}{
		{"clean call", func(s *sim) {
			s.call(uas, sdpBody(rtpB, "8 101"))
			s.rtp(200*time.Millisecond, rtpA, rtpB, 1, 8, 100, 50)
			s.rtp(200*time.Millisecond, rtpB, rtpA, 2, 8, 100, 50)
			s.bye(1300 * time.Millisecond)
		}, nil},
		{"one-way audio", func(s *sim) {
			s.call(uas, sdpBody(rtpB, "8 101"))
			s.rtp(200*time.Millisecond, rtpA, rtpB, 1, 8, 100, 50)
			s.bye(1300 * time.Millisecond)
		}, []ProblemKind{OneWay}},
		{"no media", func(s *sim) {
			// the capture sees media of the caller's host, not this call's
			s.rtp(0, netip.AddrPortFrom(rtpA.Addr(), 7000), netip.MustParseAddrPort("10.0.0.9:7000"), 9, 8, 1, 5)
			s.call(uas, sdpBody(rtpB, "8 101"))
			s.bye(1300 * time.Millisecond)
		}, []ProblemKind{NoMedia}},
		{"no media, none of these hosts at all", func(s *sim) {
			s.call(uas, sdpBody(rtpB, "8 101"))
			s.bye(1300 * time.Millisecond)
		}, []ProblemKind{NoMedia}},
		{"a BYE refused with 500: the media after it is not after the BYE", func(s *sim) {
			s.call(uas, sdpBody(rtpB, "8 101"))
			s.sip(1300*time.Millisecond, uas, uac, "BYE sip:a@x SIP/2.0", "5 BYE", "A", ";tag=B", "")
			s.sip(1310*time.Millisecond, uac, uas, "SIP/2.0 500 Request out of order", "5 BYE", "A", ";tag=B", "")
			s.rtp(200*time.Millisecond, rtpA, rtpB, 1, 8, 100, 200) // until 4.2 s
			s.rtp(200*time.Millisecond, rtpB, rtpA, 2, 8, 500, 200)
			s.bye(4200 * time.Millisecond)
		}, nil},
		{"a BYE answered 481 ends the call all the same", func(s *sim) {
			s.call(uas, sdpBody(rtpB, "8 101"))
			s.sip(1300*time.Millisecond, uas, uac, "BYE sip:a@x SIP/2.0", "5 BYE", "A", ";tag=B", "")
			s.sip(1310*time.Millisecond, uac, uas, "SIP/2.0 481 Call/Transaction Does Not Exist", "5 BYE", "A", ";tag=B", "")
			s.rtp(200*time.Millisecond, rtpA, rtpB, 1, 8, 100, 200)
			s.rtp(200*time.Millisecond, rtpB, rtpA, 2, 8, 500, 200)
		}, []ProblemKind{AfterBye}},
		{"an announcement the SDP made one way (sendonly): one way is what was asked", func(s *sim) {
			s.call(uas, sdpBody(rtpB, "8 101")+"a=sendonly\r\n")
			s.rtp(200*time.Millisecond, rtpB, rtpA, 2, 8, 500, 100)
			s.bye(2300 * time.Millisecond)
		}, nil},
		{"early media (ringback) then the answer on a new SSRC: no SSRC change", func(s *sim) {
			s.sip(0, uac, uas, "INVITE sip:b@x SIP/2.0", "1 INVITE", "A", "", sdpBody(rtpA, "8 101"))
			s.sip(50*time.Millisecond, uas, uac, "SIP/2.0 183 Session Progress", "1 INVITE", "A", ";tag=B", sdpBody(rtpB, "8 101"))
			s.rtp(100*time.Millisecond, rtpB, rtpA, 7, 8, 100, 100) // 2 s of ringback
			s.sip(2100*time.Millisecond, uas, uac, "SIP/2.0 200 OK", "1 INVITE", "A", ";tag=B", sdpBody(rtpB, "8 101"))
			s.sip(2110*time.Millisecond, uac, uas, "ACK sip:b@x SIP/2.0", "1 ACK", "A", ";tag=B", "")
			s.rtp(2200*time.Millisecond, rtpA, rtpB, 1, 8, 100, 100)
			s.rtp(2200*time.Millisecond, rtpB, rtpA, 2, 8, 500, 100)
			s.bye(4300 * time.Millisecond)
		}, nil},
		{"B2BUA keeping the Call-ID, new tags on its second leg", func(s *sim) {
			b2bua(s, false)
		}, nil},
		{"B2BUA keeping the Call-ID: the callee's audio missing on both legs", func(s *sim) {
			b2bua(s, true)
		}, []ProblemKind{OneWay}},
		{"inactive for the whole call: no media is what was asked", func(s *sim) {
			s.call(uas, sdpBody(rtpB, "8 101")+"a=inactive\r\n")
			s.bye(2300 * time.Millisecond)
		}, nil},
		{"hung up at once: no media missed", func(s *sim) {
			s.call(uas, sdpBody(rtpB, "8 101"))
			s.bye(600 * time.Millisecond) // up 0.5 s
		}, nil},
		{"hung up at once: one way for half a second", func(s *sim) {
			s.call(uas, sdpBody(rtpB, "8 101"))
			s.rtp(150*time.Millisecond, rtpA, rtpB, 1, 8, 100, 20)
			s.bye(600 * time.Millisecond)
		}, nil},
		{"NAT: media from another address", func(s *sim) {
			s.call(uas, sdpBody(rtpB, "8 101"))
			s.rtp(200*time.Millisecond, rtpA, rtpB, 1, 8, 100, 50)
			s.rtp(200*time.Millisecond, netip.MustParseAddrPort("198.51.100.7:31000"), rtpA, 2, 8, 100, 50)
			s.bye(1300 * time.Millisecond)
		}, []ProblemKind{UnexpectedSource}},
		{"codec changed by a re-INVITE: each payload type in the answer of its time", func(s *sim) {
			codecChange(s, 18)
		}, nil},
		{"the old codec kept after a re-INVITE changed it", func(s *sim) {
			codecChange(s, 8) // still PCMA
		}, []ProblemKind{UnnegotiatedPT}},
		{"media relay (rtpengine): each leg has its own addresses", func(s *sim) {
			relay(s, rtpA, "8 101", 8)
		}, nil},
		{"NAT behind a media relay", func(s *sim) {
			relay(s, netip.MustParseAddrPort("198.51.100.7:31000"), "8 101", 8)
		}, []ProblemKind{UnexpectedSource}},
		{"media relay renumbering: each leg its own answer", func(s *sim) {
			relay(s, rtpA, "8 96", 96) // leg B negotiates 96, and uses it
		}, nil},
		{"media relay renumbering: 96 on the leg that did not negotiate it", func(s *sim) {
			relay(s, rtpA, "8 101", 96)
		}, []ProblemKind{UnnegotiatedPT}},
		{"private SDP to a public peer", func(s *sim) {
			s.call(pubUAS, sdpBody(netip.MustParseAddrPort("203.0.113.5:6000"), "8 101"))
			s.rtp(200*time.Millisecond, rtpA, netip.MustParseAddrPort("203.0.113.5:6000"), 1, 8, 100, 50)
			s.rtp(200*time.Millisecond, netip.MustParseAddrPort("203.0.113.5:6000"), rtpA, 2, 8, 100, 50)
		}, []ProblemKind{PrivateSDP}},
		{"media after BYE", func(s *sim) {
			s.call(uas, sdpBody(rtpB, "8 101"))
			s.rtp(200*time.Millisecond, rtpA, rtpB, 1, 8, 100, 100)
			s.rtp(200*time.Millisecond, rtpB, rtpA, 2, 8, 100, 50)
			s.bye(1300 * time.Millisecond)
		}, []ProblemKind{AfterBye}},
		{"gap over 1 s", func(s *sim) {
			s.call(uas, sdpBody(rtpB, "8 101"))
			s.rtp(200*time.Millisecond, rtpA, rtpB, 1, 8, 100, 10)
			s.rtp(1800*time.Millisecond, rtpA, rtpB, 1, 8, 110, 10)
			s.rtp(200*time.Millisecond, rtpB, rtpA, 2, 8, 100, 90)
			s.bye(2100 * time.Millisecond)
		}, []ProblemKind{Gap}},
		{"SSRC change", func(s *sim) {
			s.call(uas, sdpBody(rtpB, "8 101"))
			s.rtp(200*time.Millisecond, rtpA, rtpB, 1, 8, 100, 20)
			s.rtp(600*time.Millisecond, rtpA, rtpB, 7, 8, 5000, 20)
			s.rtp(200*time.Millisecond, rtpB, rtpA, 2, 8, 100, 50)
			s.bye(1300 * time.Millisecond)
		}, []ProblemKind{SSRCChange}},
		{"payload type not in the answer", func(s *sim) {
			s.call(uas, sdpBody(rtpB, "8"))
			s.rtp(200*time.Millisecond, rtpA, rtpB, 1, 0, 100, 50)
			s.rtp(200*time.Millisecond, rtpB, rtpA, 2, 8, 100, 50)
			s.bye(1300 * time.Millisecond)
		}, []ProblemKind{UnnegotiatedPT}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t)
			tc.run(s)
			res := s.tr.Finish()
			cm := res.Calls["call-1"]
			if cm == nil {
				t.Fatal("no media for call-1")
			}
			if got := kinds(cm.Problems); !slices.Equal(got, tc.want) {
				t.Errorf("problems %v, want %v (%v)", got, tc.want, cm.Problems)
			}
		})
	}
}

func TestStreamFigures(t *testing.T) {
	s := newSim(t)
	s.call(uas, sdpBody(rtpB, "8 101"))
	s.rtp(200*time.Millisecond, rtpA, rtpB, 1, 8, 65530, 10) // wraps
	s.rtp(420*time.Millisecond, rtpA, rtpB, 1, 8, 65541, 5)  // one lost (seq 65540 = 4)
	res := s.tr.Finish()
	if len(res.Streams) != 1 {
		t.Fatalf("%d streams, want 1", len(res.Streams))
	}
	st := res.Streams[0]
	if st.Packets != 15 || st.Expected != 16 || st.Lost != 1 || st.Codec != "PCMA" || st.ClockRate != 8000 || st.CallID != "call-1" {
		t.Errorf("packets %d expected %d lost %d codec %s clock %d call %q", st.Packets, st.Expected, st.Lost, st.Codec, st.ClockRate, st.CallID)
	}
	// 1 lost of 16 (6.25%), random: Ie,eff = 95*6.25/(6.25+25.1) = 18.94
	if !near(st.EffLossPct, 6.25, 1e-9) || !near(st.R, 93.2-95*6.25/(6.25+25.1), 1e-9) {
		t.Errorf("effective loss %v R %v", st.EffLossPct, st.R)
	}
	if st.MOS < 3.5 || st.MOS > 4.41 {
		t.Errorf("MOS %v", st.MOS)
	}
}

// TestReannounced: a re-INVITE that moves the call's media addresses to
// T.38 (the same addresses, announced again) turns the flows that carried
// RTP into fax flows at once: the packets after it are fax, not RTP.
func TestReannounced(t *testing.T) {
	s := newSim(t)
	s.call(uas, sdpBody(rtpB, "8 101"))
	s.rtp(200*time.Millisecond, rtpA, rtpB, 0x1111, 8, 100, 50)
	s.rtp(200*time.Millisecond, rtpB, rtpA, 0x2222, 8, 500, 50)
	t38 := func(a netip.AddrPort) string {
		return fmt.Sprintf("v=0\r\no=- 1 2 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=image %d udptl t38\r\n", a.Addr(), a.Addr(), a.Port())
	}
	s.sip(1500*time.Millisecond, uac, uas, "INVITE sip:b@x SIP/2.0", "2 INVITE", "A", ";tag=B", t38(rtpA))
	s.sip(1600*time.Millisecond, uas, uac, "SIP/2.0 200 OK", "2 INVITE", "A", ";tag=B", t38(rtpB))
	s.sip(1610*time.Millisecond, uac, uas, "ACK sip:b@x SIP/2.0", "2 ACK", "A", ";tag=B", "")
	for i := range 30 {
		for _, d := range [][2]netip.AddrPort{{rtpA, rtpB}, {rtpB, rtpA}} {
			s.frame++
			s.tr.Media(&capture.Media{File: "sim", Frame: s.frame, Time: t0.Add(2*time.Second + time.Duration(i)*40*time.Millisecond),
				Src: d[0], Dst: d[1], Payload: []byte{0, byte(i), 0x06, 0x00, 0x11, 0x22}})
		}
	}
	res := s.tr.Finish()
	var got []string
	for _, st := range res.Streams {
		got = append(got, fmt.Sprintf("%s %s>%s %d", st.Kind, st.Src, st.Dst, st.Packets))
	}
	slices.Sort(got)
	want := []string{
		"fax 10.0.0.1:4000>10.0.0.2:6000 30", "fax 10.0.0.2:6000>10.0.0.1:4000 30",
		"rtp 10.0.0.1:4000>10.0.0.2:6000 50", "rtp 10.0.0.2:6000>10.0.0.1:4000 50",
	}
	if !slices.Equal(got, want) {
		t.Errorf("streams %q, want %q", got, want)
	}
}

// TestCallIDUsedAgain: a new INVITE (no To tag) after the BYE of a call in
// the same Call-ID starts a call of its own: its media is new streams, not
// the first call's going on, and ForCall tells the two apart by time.
func TestCallIDUsedAgain(t *testing.T) {
	s := newSim(t)
	s.call(uas, sdpBody(rtpB, "8 101"))
	s.rtp(200*time.Millisecond, rtpA, rtpB, 0x1111, 8, 100, 50)
	s.rtp(200*time.Millisecond, rtpB, rtpA, 0x2222, 8, 500, 50)
	s.bye(1500 * time.Millisecond)
	s.base = time.Minute // the same call again, same Call-ID, tags and SSRCs
	s.call(uas, sdpBody(rtpB, "8 101"))
	s.rtp(200*time.Millisecond, rtpA, rtpB, 0x1111, 8, 100, 50)
	s.bye(1500 * time.Millisecond)
	res := s.tr.Finish()
	first := res.Calls["call-1"]
	if first == nil || first.Next == nil || first.Next.Next != nil {
		t.Fatal("want two calls in call-1")
	}
	if len(first.Streams) != 2 || len(first.Next.Streams) != 1 {
		t.Fatalf("%d and %d streams, want 2 and 1", len(first.Streams), len(first.Next.Streams))
	}
	for _, st := range res.Streams {
		if st.Packets != 50 || st.Lost != 0 || len(st.Problems) != 0 {
			t.Errorf("%s > %s: %d packets, %d lost, %v", st.Src, st.Dst, st.Packets, st.Lost, st.Problems)
		}
	}
	// the second call's one-way audio is its own; the first call has none
	if k := kinds(first.Problems); len(k) != 0 {
		t.Errorf("first call: %v", k)
	}
	if k := kinds(first.Next.Problems); !slices.Equal(k, []ProblemKind{OneWay}) {
		t.Errorf("second call: %v, want one-way", k)
	}
	for i, span := range [][2]time.Duration{{0, 2 * time.Second}, {time.Minute, time.Minute + 2*time.Second}} {
		cm := res.ForCall([]string{"call-1"}, t0.Add(span[0]), t0.Add(span[1]))
		if want := []int{2, 1}[i]; len(cm.Streams) != want {
			t.Errorf("ForCall of call %d: %d streams, want %d", i+1, len(cm.Streams), want)
		}
		for _, st := range cm.Streams {
			if got := res.CallOf(st); got != []*CallMedia{first, first.Next}[i] {
				t.Errorf("CallOf a stream of call %d: %v", i+1, got)
			}
		}
	}
	if one := res.Call([]string{"call-1"}, t0.Add(time.Minute), t0.Add(time.Minute+2*time.Second)); len(one.Streams) != 1 || one.Calls["call-1"].Next != nil {
		t.Errorf("Call of the second call: %d streams", len(one.Streams))
	}
}

// relay is a call through a proxy that relays the media (Kamailio with
// rtpengine), captured on the proxy: the SDP of each leg names the relay's
// ports on that leg (10.0.0.9:30000 toward the callee, :30002 toward the
// caller), and the caller's media comes from callerSrc. The callee's leg
// negotiates the formats legB, and the relay sends the callee payload type
// pt.
func relay(s *sim, callerSrc netip.AddrPort, legB string, pt uint8) {
	proxy := netip.MustParseAddrPort("10.0.0.5:5060")
	toCallee, toCaller := netip.MustParseAddrPort("10.0.0.9:30000"), netip.MustParseAddrPort("10.0.0.9:30002")
	s.sip(0, uac, proxy, "INVITE sip:b@x SIP/2.0", "1 INVITE", "A", "", sdpBody(rtpA, "8 101"))
	s.sip(5*time.Millisecond, proxy, uas, "INVITE sip:b@x SIP/2.0", "1 INVITE", "A", "", sdpBody(toCallee, legB))
	s.sip(100*time.Millisecond, uas, proxy, "SIP/2.0 200 OK", "1 INVITE", "A", ";tag=B", sdpBody(rtpB, legB))
	s.sip(105*time.Millisecond, proxy, uac, "SIP/2.0 200 OK", "1 INVITE", "A", ";tag=B", sdpBody(toCaller, "8 101"))
	s.sip(110*time.Millisecond, uac, proxy, "ACK sip:b@x SIP/2.0", "1 ACK", "A", ";tag=B", "")
	s.rtp(200*time.Millisecond, callerSrc, toCaller, 1, 8, 100, 50)
	s.rtp(201*time.Millisecond, toCallee, rtpB, 1, pt, 100, 50)
	s.rtp(202*time.Millisecond, rtpB, toCallee, 2, 8, 500, 50)
	s.rtp(203*time.Millisecond, toCaller, callerSrc, 2, 8, 500, 50)
	s.sip(1300*time.Millisecond, uac, proxy, "BYE sip:b@x SIP/2.0", "2 BYE", "A", ";tag=B", "")
}

// TestHoldGap: a callee silent while the caller has put it on hold (a
// re-INVITE with a=sendonly, answered recvonly) is what the SDP asked for,
// not a gap; the same silence with no hold in the SDP is one.
func TestHoldGap(t *testing.T) {
	dir := func(a netip.AddrPort, d string) string {
		return sdpBody(a, "8 101") + "a=" + d + "\r\n"
	}
	for _, hold := range []bool{true, false} {
		s := newSim(t)
		s.call(uas, sdpBody(rtpB, "8 101"))
		s.rtp(200*time.Millisecond, rtpA, rtpB, 1, 8, 100, 400) // 8 s
		s.rtp(200*time.Millisecond, rtpB, rtpA, 2, 8, 500, 50)  // 1 s, then silent
		if hold {
			s.sip(1300*time.Millisecond, uac, uas, "INVITE sip:b@x SIP/2.0", "2 INVITE", "A", ";tag=B", dir(rtpA, "sendonly"))
			s.sip(1400*time.Millisecond, uas, uac, "SIP/2.0 200 OK", "2 INVITE", "A", ";tag=B", dir(rtpB, "recvonly"))
			s.sip(5000*time.Millisecond, uac, uas, "INVITE sip:b@x SIP/2.0", "3 INVITE", "A", ";tag=B", dir(rtpA, "sendrecv"))
			s.sip(5100*time.Millisecond, uas, uac, "SIP/2.0 200 OK", "3 INVITE", "A", ";tag=B", dir(rtpB, "sendrecv"))
		}
		s.rtp(5200*time.Millisecond, rtpB, rtpA, 2, 8, 550, 100) // back, no marker
		s.bye(8300 * time.Millisecond)
		res := s.tr.Finish()
		var gaps int
		for _, st := range res.Streams {
			for _, p := range st.Problems {
				if p.Kind == Gap {
					gaps++
				}
			}
		}
		if want := map[bool]int{true: 0, false: 1}[hold]; gaps != want {
			t.Errorf("hold %v: %d gaps, want %d", hold, gaps, want)
		}
	}
}

// codecChange is a call moved by a re-INVITE at 1.3 s from PCMA (8) to
// G.729 (18); the callee follows, the caller then sends callerPT.
func codecChange(s *sim, callerPT uint8) {
	s.call(uas, sdpBody(rtpB, "8 101"))
	s.rtp(200*time.Millisecond, rtpA, rtpB, 1, 8, 100, 50)
	s.rtp(200*time.Millisecond, rtpB, rtpA, 2, 8, 500, 50)
	s.sip(1300*time.Millisecond, uac, uas, "INVITE sip:b@x SIP/2.0", "2 INVITE", "A", ";tag=B", sdpBody(rtpA, "18 101"))
	s.sip(1400*time.Millisecond, uas, uac, "SIP/2.0 200 OK", "2 INVITE", "A", ";tag=B", sdpBody(rtpB, "18 101"))
	s.rtp(1500*time.Millisecond, rtpA, rtpB, 1, callerPT, 150, 50)
	s.rtp(1500*time.Millisecond, rtpB, rtpA, 2, 18, 550, 50)
	s.bye(2600 * time.Millisecond)
}

// TestPrivateSDPOnce: the INVITE sent again with credentials after a 407,
// or retransmitted, offers the same private address: one problem, not one
// per message.
func TestPrivateSDPOnce(t *testing.T) {
	s := newSim(t)
	offer := sdpBody(rtpA, "8 101")
	s.sip(0, uac, pubUAS, "INVITE sip:b@x SIP/2.0", "1 INVITE", "A", "", offer)
	s.sip(500*time.Millisecond, uac, pubUAS, "INVITE sip:b@x SIP/2.0", "1 INVITE", "A", "", offer) // retransmission
	s.sip(600*time.Millisecond, pubUAS, uac, "SIP/2.0 407 Proxy Authentication Required", "1 INVITE", "A", ";tag=P", "")
	s.sip(700*time.Millisecond, uac, pubUAS, "INVITE sip:b@x SIP/2.0", "2 INVITE", "A", "", offer)
	res := s.tr.Finish()
	n := 0
	for _, p := range res.Calls["call-1"].Problems {
		if p.Kind == PrivateSDP {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d private-sdp problems, want 1", n)
	}
}

// b2bua is a call through a B2BUA that keeps the Call-ID but makes its own
// tags (X, Y) and media ports on its second leg, captured on the B2BUA.
// With oneWay, the callee's audio is missing on both legs.
func b2bua(s *sim, oneWay bool) {
	b2b := netip.MustParseAddrPort("10.0.0.5:5060")
	toCaller, toCallee := netip.MustParseAddrPort("10.0.0.5:30002"), netip.MustParseAddrPort("10.0.0.5:30000")
	s.sip(0, uac, b2b, "INVITE sip:b@x SIP/2.0", "1 INVITE", "A", "", sdpBody(rtpA, "8 101"))
	s.sip(5*time.Millisecond, b2b, uas, "INVITE sip:b@x SIP/2.0", "1 INVITE", "X", "", sdpBody(toCallee, "8 101"))
	s.sip(100*time.Millisecond, uas, b2b, "SIP/2.0 200 OK", "1 INVITE", "X", ";tag=Y", sdpBody(rtpB, "8 101"))
	s.sip(105*time.Millisecond, b2b, uac, "SIP/2.0 200 OK", "1 INVITE", "A", ";tag=B", sdpBody(toCaller, "8 101"))
	s.sip(110*time.Millisecond, uac, b2b, "ACK sip:b@x SIP/2.0", "1 ACK", "A", ";tag=B", "")
	s.sip(111*time.Millisecond, b2b, uas, "ACK sip:b@x SIP/2.0", "1 ACK", "X", ";tag=Y", "")
	s.rtp(200*time.Millisecond, rtpA, toCaller, 1, 8, 100, 100)
	s.rtp(201*time.Millisecond, toCallee, rtpB, 1, 8, 100, 100)
	if !oneWay {
		s.rtp(202*time.Millisecond, rtpB, toCallee, 2, 8, 500, 100)
		s.rtp(203*time.Millisecond, toCaller, rtpA, 2, 8, 500, 100)
	}
	s.sip(2300*time.Millisecond, uac, b2b, "BYE sip:b@x SIP/2.0", "2 BYE", "A", ";tag=B", "")
}

// TestContainsFold is the case-blind match of SDP protocols and formats
// (RTP/SAVP, UDPTL, T38): only ASCII letters fold.
func TestContainsFold(t *testing.T) {
	for _, tc := range []struct {
		s, sub string
		want   bool
	}{
		{"RTP/SAVP", "savp", true}, {"RTP/SAVPF", "savp", true}, {"RTP/AVP", "savp", false},
		{"UDPTL", "udptl", true}, {"udptl", "udptl", true}, {"udp", "udptl", false},
		{"T38", "t38", true}, {"x-t38", "t38", true}, {"T\x138", "t38", false}, {"", "t38", false},
	} {
		if got := containsFold(tc.s, tc.sub); got != tc.want {
			t.Errorf("containsFold(%q, %q) = %v", tc.s, tc.sub, got)
		}
	}
}

// TestPeekWants is the rule by which the reader of sipflow rtp leaves
// messages out of Peek: without a body, all but an INVITE, a BYE, a 2xx to
// an INVITE and a final refusal of a BYE, or one whose CSeq the reader could
// not read; never the first message (the Tracker's time base), nor after
// a message from a text log (a message captured on the wire marks a log's
// call as seen there). FuzzTracker checks that the Tracker ends the same
// without them.
func TestPeekWants(t *testing.T) {
	s := newSim(t)
	if !s.tr.PeekWants(capture.PeekInfo{Request: true, Method: sip.OPTIONS}) {
		t.Error("the first message is left out: the time base would move")
	}
	s.call(rtpB, sdpBody(rtpB, "8"))
	req := func(m sip.Method, body bool) capture.PeekInfo {
		return capture.PeekInfo{Request: true, Method: m, CSeqMethod: m, Body: body}
	}
	resp := func(status int, m sip.Method, body bool) capture.PeekInfo {
		return capture.PeekInfo{Status: status, CSeqMethod: m, Body: body}
	}
	for _, tc := range []struct {
		pi   capture.PeekInfo
		want bool
	}{
		{req(sip.INVITE, false), true}, {req(sip.BYE, false), true}, {resp(200, sip.INVITE, false), true},
		{resp(500, sip.BYE, false), true}, {req(sip.ACK, true), true}, {resp(183, sip.INVITE, true), true},
		{resp(200, sip.MethodOther, false), true}, {resp(486, sip.MethodOther, false), true},
		{req(sip.ACK, false), false}, {req(sip.OPTIONS, false), false}, {req(sip.REGISTER, false), false},
		{req(sip.CANCEL, false), false}, {resp(100, sip.INVITE, false), false}, {resp(180, sip.INVITE, false), false},
		{resp(200, sip.BYE, false), false}, {resp(200, sip.OPTIONS, false), false}, {resp(401, sip.REGISTER, false), false},
		{resp(486, sip.INVITE, false), false}, {resp(200, sip.CANCEL, false), false},
	} {
		if got := s.tr.PeekWants(tc.pi); got != tc.want {
			t.Errorf("PeekWants(%+v) = %v", tc.pi, got)
		}
	}
	s.fromLog = true
	s.callID = "call-2"
	s.call(rtpB, sdpBody(rtpB, "8"))
	if !s.tr.PeekWants(resp(180, sip.INVITE, false)) {
		t.Error("a message is left out after a text log's")
	}
}
