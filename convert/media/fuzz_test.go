package media

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/parse/capture"
)

// FuzzTracker drives a Tracker with a script read from the input: SIP
// messages (INVITE, 183 and 200 with SDP on chosen addresses and payload
// types or T.38, re-INVITEs, ACK, BYE) and datagrams shaped as RTP, as RTCP or
// left raw, from and to a few addresses the SDP may or may not announce,
// at times that may go back. Properties: no panic; every stream holds no
// more packets than were sent on its flow, and its lost count is expected
// minus received; R and MOS stay in range (or are -1, not computed); every
// problem has a kind with a name and words; and a Tracker given only the
// messages it wants (PeekWants, as the reader of sipflow rtp gives them)
// ends with the same streams, figures and problems.
func FuzzTracker(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x08\x02\x64\x01\x08\x03\x00\x00\x00\x05\x14\x00\x01\x05\x14\x01\x00\x07\x05\x00\x01\x04\xff\x00\x00"), false)
	f.Add([]byte("\x05\x14\x00\x01\x05\x14\x00\x01\x05\x14\x00\x01\x06\x01\x02\x03"), true)
	f.Add([]byte("\x00\x00\x02\x65\x01\x10\x03\x65\x02\x10\x03\x65\x05\x14\x02\x03\x05\x14\x03\x02\x00\x00\x01\x08\x02\x05\x00\x08\x05\xf0\x00\x01\x04\x01\x00\x00\x05\x80\x00\x01"), false)
	addrs := []netip.AddrPort{rtpA, rtpB, netip.MustParseAddrPort("10.0.0.1:4002"), netip.MustParseAddrPort("10.0.0.2:6002"),
		netip.MustParseAddrPort("198.51.100.7:31000"), netip.MustParseAddrPort("[2001:db8::1]:7000")}
	ptLists := []string{"8 101", "0", "18", "101", "96 13", "8 0 18 9 101"}
	f.Fuzz(func(t *testing.T, script []byte, heuristic bool) {
		s := &sim{t: t, tr: NewTracker(Options{Heuristic: heuristic}), shadow: NewTracker(Options{Heuristic: heuristic})}
		sent := map[[2]netip.AddrPort]int{}
		var at time.Duration
		seq := uint16(0)
		for len(script) >= 4 {
			op, step, x, y := script[0], script[1], script[2], script[3]
			script = script[4:]
			at += time.Duration(int8(step)) * time.Millisecond // may go back
			a, b := addrs[int(x)%len(addrs)], addrs[int(y)%len(addrs)]
			cseq := fmt.Sprintf("%d INVITE", x%3+1)
			body := ""
			switch {
			case a.Addr().Is4() && y%7 == 3: // T.38 fax moved onto the address
				body = fmt.Sprintf("v=0\r\no=- 1 2 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=image %d udptl t38\r\n", a.Addr(), a.Addr(), a.Port())
			case a.Addr().Is4() && y%4 != 0:
				body = sdpBody(a, ptLists[int(y)%len(ptLists)])
			}
			switch op % 8 {
			case 0:
				s.sip(at, uac, uas, "INVITE sip:b@x SIP/2.0", cseq, "A", "", body)
			case 1:
				if body == "" && x%2 == 0 {
					s.sip(at, uas, uac, "SIP/2.0 180 Ringing", cseq, "A", ";tag=B", "")
					break
				}
				s.sip(at, uas, uac, "SIP/2.0 183 Session Progress", cseq, "A", ";tag=B", body)
			case 2:
				s.sip(at, uas, uac, "SIP/2.0 200 OK", cseq, "A", ";tag=B", body)
			case 3:
				s.sip(at, uac, uas, "ACK sip:b@x SIP/2.0", strings.Replace(cseq, "INVITE", "ACK", 1), "A", ";tag=B", body)
			case 4:
				switch y % 8 {
				case 0: // messages the media has no use for
					s.sip(at, uac, uas, "OPTIONS sip:b@x SIP/2.0", "7 OPTIONS", "A", ";tag=B", "")
				case 1:
					s.sip(at, uas, uac, "SIP/2.0 200 OK", "7 OPTIONS", "A", ";tag=B", "")
				case 2:
					s.sip(at, uas, uac, "SIP/2.0 486 Busy Here", cseq, "A", ";tag=B", "")
				case 3: // the BYE refused, or accepted
					s.sip(at, uas, uac, "SIP/2.0 500 Request Out of Order", "2 BYE", "A", ";tag=B", "")
				case 4:
					s.sip(at, uas, uac, "SIP/2.0 200 OK", "2 BYE", "A", ";tag=B", "")
				default:
					s.bye(at)
				}
			default: // a datagram: RTP (5), RTCP (6) or what the script says (7)
				n := min(len(script), int(y%40))
				p := make([]byte, 12+n)
				copy(p[12:], script[:n])
				script = script[n:]
				switch op % 8 {
				case 5:
					seq += uint16(x % 4)
					p[0], p[1] = 0x80, y%128
					p[2], p[3] = byte(seq>>8), byte(seq)
					p[4], p[5], p[6], p[7] = 0, byte(seq>>8), byte(seq), 0
					p[8], p[9], p[10], p[11] = 0, 0, 0, x%2+1
				case 6:
					p[0], p[1], p[2], p[3] = 0x81, 200+y%5, 0, byte(len(p)/4-1)
				default:
					p[0], p[1] = x, y
				}
				s.frame++
				s.tr.Media(&capture.Media{File: "fuzz", Frame: s.frame, Time: t0.Add(at), Src: a, Dst: b, Payload: p})
				s.shadow.Media(&capture.Media{File: "fuzz", Frame: s.frame, Time: t0.Add(at), Src: a, Dst: b, Payload: p})
				sent[[2]netip.AddrPort{a, b}]++
			}
		}
		res, shadow := s.tr.Finish(), s.shadow.Finish()
		if len(shadow.Streams) != len(res.Streams) || len(shadow.Calls) != len(res.Calls) {
			t.Fatalf("given the messages it wants: %d streams, %d calls; given all: %d, %d", len(shadow.Streams), len(shadow.Calls), len(res.Streams), len(res.Calls))
		}
		for id, cm := range res.Calls {
			if got, want := callSummary(shadow.Calls[id]), callSummary(cm); got != want {
				t.Fatalf("call %s given the messages it wants:\n%s\ngiven all:\n%s", id, got, want)
			}
		}
		for _, st := range res.Streams {
			if st.Packets > sent[[2]netip.AddrPort{st.Src, st.Dst}] {
				t.Fatalf("stream %s -> %s: %d packets, %d sent", st.Src, st.Dst, st.Packets, sent[[2]netip.AddrPort{st.Src, st.Dst}])
			}
			if st.Kind == KindRTP && st.Lost != st.Expected-st.Packets {
				t.Fatalf("stream %s -> %s: lost %d, expected %d, packets %d", st.Src, st.Dst, st.Lost, st.Expected, st.Packets)
			}
			if st.MOS != -1 && (st.MOS < 1 || st.MOS > 4.5 || math.IsNaN(st.MOS) || st.R < 0 || st.R > 100) {
				t.Fatalf("stream %s -> %s: R %v MOS %v", st.Src, st.Dst, st.R, st.MOS)
			}
			for _, v := range []float64{st.MaxJitter, st.MeanJitter, st.MaxDelta, st.LostPct} {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("stream %s -> %s: a figure is %v", st.Src, st.Dst, v)
				}
			}
		}
		for id, cm := range res.Calls {
			for _, p := range cm.Problems {
				if strings.HasPrefix(p.Kind.String(), "ProblemKind(") || p.Detail == "" {
					t.Fatalf("call %s: problem %q", id, p)
				}
			}
		}
	})
}
