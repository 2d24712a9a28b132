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

// trunk is a synthetic trunk: calls SDP-announced calls, each with RTP both
// ways (two flows), packets interleaved as on a busy link, 20 ms apart per
// stream, with some loss and reordering.
type trunk struct {
	sips  []*capture.Message
	media []capture.Media
}

func newTrunk(tb testing.TB, calls, packets int) *trunk {
	tb.Helper()
	tr := &trunk{}
	a := func(i, port int) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1}), uint16(port))
	}
	for c := range calls {
		caller, callee := a(c, 20000+2*c), a(c+1000, 10000+2*c)
		id := fmt.Sprintf("trunk-%d", c)
		for _, m := range []struct{ start, tag, body string }{
			{"INVITE sip:b@x SIP/2.0", "", sdpBody(caller, "0 101")},
			{"SIP/2.0 200 OK", ";tag=B", sdpBody(callee, "0 101")},
		} {
			ct := "Content-Type: application/sdp\r\n"
			raw := fmt.Sprintf("%s\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=A\r\nTo: <sip:b@x>%s\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\n%sContent-Length: %d\r\n\r\n%s",
				m.start, m.tag, id, ct, len(m.body), m.body)
			msg := &capture.Message{File: "trunk", Time: t0, Src: uac, Dst: uas}
			if err := sip.Parse([]byte(raw), &msg.SIP); err != nil {
				tb.Fatal(err)
			}
			tr.sips = append(tr.sips, msg)
		}
	}
	flows := 2 * calls
	payload := make([]byte, 12+160)
	for i := range packets {
		fl := i % flows
		n := i / flows // packet number in its stream
		c := fl / 2
		src, dst := a(c, 20000+2*c), a(c+1000, 10000+2*c)
		if fl%2 == 1 {
			src, dst = dst, src
		}
		seq := uint16(1000*fl + n)
		if n%50 == 7 { // a loss every 50 packets
			seq += 1
		}
		if n%97 == 5 && n > 0 { // a swap now and then
			seq--
		}
		b := make([]byte, len(payload))
		b[0], b[1] = 0x80, 0
		binary.BigEndian.PutUint16(b[2:], seq)
		binary.BigEndian.PutUint32(b[4:], uint32(n)*160)
		binary.BigEndian.PutUint32(b[8:], uint32(fl)*7919+1)
		jit := time.Duration((i*7919)%3000) * time.Microsecond
		tr.media = append(tr.media, capture.Media{File: "trunk", Frame: i + 1, Src: src, Dst: dst, Payload: b,
			Time: t0.Add(time.Second + time.Duration(n)*20*time.Millisecond + time.Duration(fl)*time.Microsecond*50 + jit)})
	}
	return tr
}

// BenchmarkTrackerMedia is the Tracker's per-packet path: 100k RTP packets
// across 300 SDP-announced flows.
func BenchmarkTrackerMedia(b *testing.B) { benchTracker(b, 150, 100000) }

// BenchmarkTrackerTrunk is BenchmarkTrackerMedia at a trunk's scale: 2000
// flows, each seen once every 2000 packets, so that, as on the real trunk,
// a stream's state has left the processor's nearer caches by its next
// packet. Its cost over BenchmarkTrackerMedia is the cache misses.
func BenchmarkTrackerTrunk(b *testing.B) { benchTracker(b, 1000, 400000) }

// benchTracker measures the media packets of a trunk of calls calls.
func benchTracker(b *testing.B, calls, packets int) {
	tk := newTrunk(b, calls, packets)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		t := NewTracker(Options{})
		for _, m := range tk.sips {
			t.SIP(m)
		}
		b.StartTimer()
		for i := range tk.media {
			t.Media(&tk.media[i])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(tk.media)), "ns/packet")
}

// TestTrackerMediaAllocs: after the first packet of each stream, a packet
// allocates nothing.
func TestTrackerMediaAllocs(t *testing.T) {
	tk := newTrunk(t, 150, 30000)
	tr := NewTracker(Options{})
	for _, m := range tk.sips {
		tr.SIP(m)
	}
	for i := range 600 { // two packets of every flow: streams made
		tr.Media(&tk.media[i])
	}
	rest := tk.media[600:]
	i := 0
	allocs := testing.AllocsPerRun(len(rest)-1, func() {
		tr.Media(&rest[i])
		i++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per packet, want 0", allocs)
	}
	res := tr.Finish()
	if len(res.Streams) != 300 {
		t.Fatalf("%d streams, want 300", len(res.Streams))
	}
	for _, s := range res.Streams {
		if s.Packets != 100 || s.CallID == "" || s.Codec != "PCMU" {
			t.Fatalf("stream %s -> %s: packets %d call %q codec %q", s.Src, s.Dst, s.Packets, s.CallID, s.Codec)
		}
	}
}

// TestFlowTable: flows that share a slot of the table of recent flows, IPv6
// flows, and an IPv4 flow beside its IPv4-mapped IPv6 twin each keep their
// own stream.
func TestFlowTable(t *testing.T) {
	tr := NewTracker(Options{Heuristic: true})
	slotOf := func(src, dst netip.AddrPort) uint64 {
		s4, d4 := src.Addr().As4(), dst.Addr().As4()
		ips := uint64(binary.BigEndian.Uint32(s4[:]))<<32 | uint64(binary.BigEndian.Uint32(d4[:]))
		ports := uint64(src.Port())<<16 | uint64(dst.Port())
		return ((ips ^ ports<<20) * 0x9E3779B97F4A7C15) >> (64 - recentBits)
	}
	a1 := netip.MustParseAddrPort("192.0.2.1:4000")
	dst := netip.MustParseAddrPort("192.0.2.2:5000")
	var a2 netip.AddrPort
	for p := 4002; p < 65535; p += 2 {
		if c := netip.AddrPortFrom(a1.Addr(), uint16(p)); slotOf(c, dst) == slotOf(a1, dst) {
			a2 = c
			break
		}
	}
	if !a2.IsValid() {
		t.Fatal("no two flows share a slot")
	}
	v6a, v6b := netip.MustParseAddrPort("[2001:db8::1]:4000"), netip.MustParseAddrPort("[2001:db8::2]:5000")
	m1 := netip.AddrPortFrom(netip.AddrFrom16(a1.Addr().As16()), a1.Port()) // ::ffff:192.0.2.1
	m2 := netip.AddrPortFrom(netip.AddrFrom16(dst.Addr().As16()), dst.Port())
	flows := [][2]netip.AddrPort{{a1, dst}, {a2, dst}, {v6a, v6b}, {m1, m2}}
	for i := range 50 * len(flows) {
		fl, n := i%len(flows), i/len(flows)
		b := make([]byte, 12+160)
		b[0], b[1] = 0x80, 0
		binary.BigEndian.PutUint16(b[2:], uint16(100+n))
		binary.BigEndian.PutUint32(b[4:], uint32(n)*160)
		binary.BigEndian.PutUint32(b[8:], uint32(fl+1))
		tr.Media(&capture.Media{File: "t", Frame: i + 1, Time: t0.Add(time.Duration(n) * 20 * time.Millisecond), Src: flows[fl][0], Dst: flows[fl][1], Payload: b})
	}
	res := tr.Finish()
	var got []string
	for _, s := range res.Streams {
		got = append(got, fmt.Sprintf("%s>%s %d %d/%d", s.Src, s.Dst, s.SSRC, s.Packets, s.Lost))
	}
	want := []string{
		fmt.Sprintf("%s>%s 1 50/0", a1, dst), fmt.Sprintf("%s>%s 2 50/0", a2, dst),
		fmt.Sprintf("%s>%s 3 50/0", v6a, v6b), fmt.Sprintf("%s>%s 4 50/0", m1, m2),
	}
	if !slices.Equal(got, want) {
		t.Errorf("streams\n%q\nwant\n%q", got, want)
	}
}
