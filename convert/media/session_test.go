package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/parse/capture"
)

// feed hands a capture's SIP and media to a Tracker.
type feed struct{ t *Tracker }

func (f feed) SIP(m *capture.Message) { f.t.SIP(m) }
func (f feed) Media(p *capture.Media) { f.t.Media(p) }

// readInto feeds the files, in order, to one Tracker and finishes it.
func readInto(t *testing.T, files ...string) *Result {
	t.Helper()
	tr := NewTracker(Options{})
	for _, f := range files {
		if _, err := capture.ReadFile(context.Background(), f, capture.Options{Media: true}, feed{tr}); err != nil {
			t.Fatal(err)
		}
	}
	return tr.Finish()
}

// callSummary is what must not change when other calls share the input:
// each stream's figures and problems, and the call's problems.
// notSeenAtAll is what the no-media problem adds when the input holds no
// packet of the call's media hosts at all (detect_test.go's sim: 10.0.0.1
// and 10.0.0.2).
const notSeenAtAll = ", nor any packet from or to 10.0.0.1 or 10.0.0.2 at all: none was sent, or it did not pass where the capture was taken"

// notSeenRE is that addition, for any hosts.
var notSeenRE = regexp.MustCompile(`, nor any packet from or to [^:]* at all: none was sent, or it did not pass where the capture was taken`)

func callSummary(cm *CallMedia) string {
	if cm == nil {
		return "<no media>"
	}
	var b strings.Builder
	for _, s := range cm.Streams {
		fmt.Fprintf(&b, "%s -> %s 0x%08X %s packets %d expected %d lost %d dup %d seqerr %d late %d maxdelta %.3f maxjitter %.3f meanjitter %.3f MOS %.2f dtmf %d\n",
			s.Src, s.Dst, s.SSRC, s.Codec, s.Packets, s.Expected, s.Lost, s.Duplicates, s.SequenceErrors, s.JitterBufferLate,
			s.MaxDelta, s.MaxJitter, s.MeanJitter, s.MOS, len(s.Events))
	}
	var ps []string
	for _, p := range cm.Problems {
		ps = append(ps, p.String())
	}
	slices.Sort(ps)
	b.WriteString(strings.Join(ps, "\n"))
	return b.String()
}

// TestFixturesTogether reads every pair of media fixtures into one Tracker:
// they all use the same addresses (10.98.0.1:6100 <-> 10.98.0.2:6000) and
// SSRC, and each call must still get exactly what it gets alone.
func TestFixturesTogether(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "media", "*.pcap"))
	if len(files) < 2 {
		t.Skip("no media fixtures")
	}
	alone := map[string]*Result{}
	for _, f := range files {
		alone[f] = readInto(t, f)
	}
	for _, a := range files {
		for _, b := range files {
			if a == b {
				continue
			}
			t.Run(filepath.Base(a)+"+"+filepath.Base(b), func(t *testing.T) {
				both := readInto(t, a, b)
				n := 0
				for _, f := range []string{a, b} {
					for id, cm := range alone[f].Calls {
						n++
						// alone, noaudio.pcap holds no packet of its hosts
						// at all, and says so; beside another file it does
						if got, want := callSummary(both.Calls[id]), notSeenRE.ReplaceAllString(callSummary(cm), ""); got != want {
							t.Errorf("call %s of %s:\n got %s\nwant %s", id, filepath.Base(f), got, want)
						}
					}
				}
				if len(both.Calls) != n {
					t.Errorf("%d calls, want %d", len(both.Calls), n)
				}
				if w := len(alone[a].Streams) + len(alone[b].Streams); len(both.Streams) != w {
					t.Errorf("%d streams, want %d", len(both.Streams), w)
				}
			})
		}
	}
}

// TestLossThenOneway is the case of the report: loss.pcap then oneway.pcap
// gave call 1 334 packets, lost -167 and a false media after BYE, and call 2
// no media.
func TestLossThenOneway(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "media")
	if _, err := os.Stat(filepath.Join(dir, "loss.pcap")); err != nil {
		t.Skip("no media fixtures")
	}
	res := readInto(t, filepath.Join(dir, "loss.pcap"), filepath.Join(dir, "oneway.pcap"))
	var got []string
	for _, s := range res.Streams {
		got = append(got, fmt.Sprintf("%s %d %d", s.Src, s.Packets, s.Lost))
	}
	want := []string{"10.98.0.1:6100 167 0", "10.98.0.2:6000 157 10", "10.98.0.1:6100 167 0"}
	if !slices.Equal(got, want) {
		t.Errorf("streams %q, want %q", got, want)
	}
	for i, want := range [][]ProblemKind{{SequenceErrors}, {OneWay}} { // loss.pcap's call, oneway.pcap's
		if got := kinds(res.Calls[res.Streams[i*2].CallID].Problems); !slices.Equal(got, want) {
			t.Errorf("call %d: problems %v, want %v", i+1, got, want)
		}
	}
	if res.Streams[0].CallID == res.Streams[2].CallID {
		t.Errorf("one Call-ID for both files")
	}
}

// TestPortReuse: a later call in the same capture announces the same
// addresses and sends with the same SSRCs and sequence numbers (real trunks
// reuse RTP ports constantly); each call must get what it gets alone.
func TestPortReuse(t *testing.T) {
	callA := func(s *sim) {
		s.callID, s.base = "call-A", 0
		s.call(uas, sdpBody(rtpB, "8 101"))
		s.rtp(200*time.Millisecond, rtpA, rtpB, 1, 8, 100, 50)
		s.rtp(200*time.Millisecond, rtpB, rtpA, 2, 8, 100, 40) // 10 lost at the end
		s.bye(1300 * time.Millisecond)
	}
	tests := []struct {
		name  string
		callB func(s *sim)
	}{
		{"same SSRCs and sequence numbers, one-way", func(s *sim) {
			s.callID, s.base = "call-B", 11300*time.Millisecond // 10 s after A's BYE
			s.call(uas, sdpBody(rtpB, "8 101"))
			s.rtp(200*time.Millisecond, rtpA, rtpB, 1, 8, 100, 50)
			s.bye(1300 * time.Millisecond)
		}},
		{"same SSRCs, sequence numbers going on, both ways", func(s *sim) {
			s.callID, s.base = "call-B", 11300*time.Millisecond
			s.call(uas, sdpBody(rtpB, "8 101"))
			s.rtp(200*time.Millisecond, rtpA, rtpB, 1, 8, 150, 50)
			s.rtp(200*time.Millisecond, rtpB, rtpA, 2, 8, 140, 50)
			s.bye(1300 * time.Millisecond)
		}},
		{"no media", func(s *sim) {
			s.callID, s.base = "call-B", 11300*time.Millisecond
			s.call(uas, sdpBody(rtpB, "8 101"))
			s.bye(1300 * time.Millisecond)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sa, sb, both := newSim(t), newSim(t), newSim(t)
			callA(sa)
			tc.callB(sb)
			callA(both)
			tc.callB(both)
			ra, rb, r := sa.tr.Finish(), sb.tr.Finish(), both.tr.Finish()
			for _, c := range []struct {
				id    string
				alone *Result
			}{{"call-A", ra}, {"call-B", rb}} {
				// alone, call B of "no media" holds no packet of its hosts
				// at all, and says so; beside call A it does
				want := strings.Replace(callSummary(c.alone.Calls[c.id]), notSeenAtAll, "", 1)
				if got := callSummary(r.Calls[c.id]); got != want {
					t.Errorf("%s:\n got %s\nwant %s", c.id, got, want)
				}
			}
			if len(r.Streams) != len(ra.Streams)+len(rb.Streams) {
				t.Errorf("%d streams, want %d", len(r.Streams), len(ra.Streams)+len(rb.Streams))
			}
		})
	}
	// the figures of call A, to be sure the comparison compares something
	sa := newSim(t)
	callA(sa)
	ra := sa.tr.Finish()
	if s := ra.Calls["call-A"].Streams; len(s) != 2 || s[0].Packets != 50 || s[1].Packets != 40 || s[0].Lost != 0 || s[1].Lost != 0 {
		t.Errorf("call A alone: %s", callSummary(ra.Calls["call-A"]))
	}
}

// TestOneStreamAcrossLegs: a B2BUA that does not relay media announces the
// same address in both its legs (two Call-IDs) while media flows; the media
// is one stream on the wire and stays one.
func TestOneStreamAcrossLegs(t *testing.T) {
	s := newSim(t)
	s.callID = "leg-1"
	s.call(uas, sdpBody(rtpB, "8 101"))
	s.rtp(200*time.Millisecond, rtpA, rtpB, 1, 8, 100, 50)
	s.callID = "leg-2" // the other leg's re-INVITE re-announces rtpA mid-stream
	s.sip(600*time.Millisecond, uac, uas, "INVITE sip:b@x SIP/2.0", "2 INVITE", "A", ";tag=B", sdpBody(rtpA, "8 101"))
	res := s.tr.Finish()
	if len(res.Streams) != 1 || res.Streams[0].Packets != 50 || res.Streams[0].Lost != 0 || res.Streams[0].CallID != "leg-1" {
		t.Errorf("streams: %s", callSummary(&CallMedia{Streams: res.Streams}))
	}
}

// rr is an RTCP receiver report from sender about ssrc with the given
// fraction lost (of 256).
func rr(sender, ssrc uint32, fraction uint8) []byte {
	b := make([]byte, 32)
	b[0], b[1] = 0x81, 201
	binary.BigEndian.PutUint16(b[2:], 7)
	binary.BigEndian.PutUint32(b[4:], sender)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	b[12] = fraction
	return b
}

// TestRTCPPerCall: RTCP about an SSRC that a later call reuses counts for
// the call whose flow carried it.
func TestRTCPPerCall(t *testing.T) {
	s := newSim(t)
	for i, c := range []struct {
		id       string
		base     time.Duration
		fraction uint8
	}{{"call-A", 0, 64}, {"call-B", 11300 * time.Millisecond, 128}} {
		s.callID, s.base = c.id, c.base
		s.call(uas, sdpBody(rtpB, "8 101"))
		s.rtp(200*time.Millisecond, rtpA, rtpB, 1, 8, 100, 50)
		s.rtp(200*time.Millisecond, rtpB, rtpA, 2, 8, 100, 50)
		for range i + 1 { // A gets one report, B two
			s.frame++
			s.tr.Media(&capture.Media{File: "sim", Frame: s.frame, Time: t0.Add(s.base + time.Second), Src: rtpB, Dst: rtpA, Payload: rr(2, 1, c.fraction)})
		}
		s.bye(1300 * time.Millisecond)
	}
	res := s.tr.Finish()
	var got []string
	for _, st := range res.Streams {
		got = append(got, fmt.Sprintf("%s %d %d %.0f", st.CallID, st.SSRC, st.RTCP.Reports, st.RTCP.FractionLost))
	}
	want := []string{"call-A 1 1 25", "call-A 2 0 0", "call-B 1 2 50", "call-B 2 0 0"}
	if !slices.Equal(got, want) {
		t.Errorf("streams %q, want %q", got, want)
	}
}

// inlineFeed is feed as a capture.Inline handler: the Tracker gets each SIP
// message from Peek, parsed with sip.Options.Light on the reading
// goroutine, and the media from the read buffers, as `sipflow rtp` feeds it.
type inlineFeed struct {
	t   *Tracker
	sip int // messages given to SIP, after Peek
}

func (f *inlineFeed) Peek(m *capture.Message) { f.t.SIP(m) }
func (f *inlineFeed) SIP(*capture.Message)    { f.sip++ }
func (f *inlineFeed) Media(p *capture.Media)  { f.t.Media(p) }

// ownFeed is an inlineFeed that checks the media for copies itself
// (capture.OwnDuplicates), as sipflow rtp does.
type ownFeed struct{ inlineFeed }

func (*ownFeed) OwnDuplicates() bool { return true }

// filterFeed is an ownFeed that lets the reader leave out of Peek what the
// Tracker has no use for (capture.PeekFilter), as sipflow rtp does.
type filterFeed struct{ ownFeed }

func (f *filterFeed) PeekWants(pi capture.PeekInfo) bool { return f.t.PeekWants(pi) }

// TestInlineSameResult reads every fixture with media both ways, serial
// (the full parse, then the Tracker, on the handler goroutine) and inline,
// and wants the same streams, figures and problems. Inline runs twice:
// with the reader's check for copies, and with the Tracker's own
// (capture.OwnDuplicates), which must drop the same copies, and again with
// the messages the Tracker has no use for left out of Peek
// (capture.PeekFilter). pcapng-call.pcapng, captured on two interfaces, has 220 copies, among
// them those of RFC 4733 end packets the sender repeats.
func TestInlineSameResult(t *testing.T) {
	var files []string
	for _, g := range []string{"media/*.pcap", "captures/*.pcap", "captures/*.pcapng"} {
		m, _ := filepath.Glob(filepath.Join("..", "..", "testdata", g))
		files = append(files, m...)
	}
	if len(files) < 10 {
		t.Fatalf("only %d fixtures", len(files))
	}
	for _, f := range files {
		for _, mode := range []string{"inline", "own", "filter"} {
			t.Run(filepath.Base(f)+"/"+mode, func(t *testing.T) {
				str := NewTracker(Options{})
				sst, err := capture.ReadFile(context.Background(), f, capture.Options{Media: true}, feed{str})
				if err != nil {
					t.Fatal(err)
				}
				serial := str.Finish()
				tr := NewTracker(Options{})
				in := &filterFeed{ownFeed{inlineFeed{t: tr}}}
				var h capture.Handler = &in.inlineFeed
				switch mode {
				case "own":
					h = &in.ownFeed
				case "filter":
					h = in
				}
				st, err := capture.ReadFile(context.Background(), f, capture.Options{Media: true}, h)
				if err != nil {
					t.Fatal(err)
				}
				if st.Duplicates != sst.Duplicates || st.MediaPackets != sst.MediaPackets {
					t.Errorf("inline: %d copies dropped, %d media packets; serial: %d, %d", st.Duplicates, st.MediaPackets, sst.Duplicates, sst.MediaPackets)
				}
				inline := tr.Finish()
				if in.sip != st.SIPMessages {
					t.Errorf("SIP got %d messages, the reader counted %d", in.sip, st.SIPMessages)
				}
				if len(inline.Streams) != len(serial.Streams) || len(inline.Calls) != len(serial.Calls) {
					t.Fatalf("inline: %d streams, %d calls; serial: %d, %d", len(inline.Streams), len(inline.Calls), len(serial.Streams), len(serial.Calls))
				}
				for id, cm := range serial.Calls {
					if got, want := callSummary(inline.Calls[id]), callSummary(cm); got != want {
						t.Errorf("call %s:\n inline %s\n serial %s", id, got, want)
					}
				}
			})
		}
	}
}

// udpFrame is an Ethernet, IPv4 and UDP frame of payload, from port sp of
// 10.0.0.1 to port dp of 10.0.0.2, with IP ID id.
func udpFrame(sp, dp, id uint16, payload []byte) []byte {
	b := make([]byte, 14+20+8+len(payload))
	binary.BigEndian.PutUint16(b[12:], 0x0800)
	ip := b[14:]
	ip[0], ip[8], ip[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(payload)))
	binary.BigEndian.PutUint16(ip[4:], id)
	copy(ip[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	u := ip[20:]
	binary.BigEndian.PutUint16(u[0:], sp)
	binary.BigEndian.PutUint16(u[2:], dp)
	binary.BigEndian.PutUint16(u[4:], uint16(8+len(payload)))
	copy(u[8:], payload)
	return b
}

// rtpPacket is a PCMU packet of 160 bytes.
func rtpPacket(seq uint16, ts, ssrc uint32) []byte {
	b := make([]byte, 12+160)
	b[0] = 0x80
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	return b
}

// TestCopiesAfterSilence: the Tracker gives the copy-check records of
// streams silent for 5 s back to a pool when a stream needs one. A new
// stream then takes a silent one's record, the silent one gets a record
// afresh when it sends again, and a copy of a packet of either is still
// found. (An earlier version took the records back every 65,536 packets,
// and a stream that sent again at that very packet lost its record: a nil
// record, a panic the reader turned into a warning, the packet lost.)
func TestCopiesAfterSilence(t *testing.T) {
	var file bytes.Buffer
	file.Write([]byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0})
	t0 := int64(1_700_000_000) * 1e9
	var id uint16
	write := func(ns int64, frame []byte) {
		var h [16]byte
		binary.LittleEndian.PutUint32(h[0:], uint32(ns/1e9))
		binary.LittleEndian.PutUint32(h[4:], uint32(ns%1e9/1e3))
		binary.LittleEndian.PutUint32(h[8:], uint32(len(frame)))
		binary.LittleEndian.PutUint32(h[12:], uint32(len(frame)))
		file.Write(h[:])
		file.Write(frame)
	}
	send := func(ns int64, port uint16, seq uint16, ssrc uint32) []byte {
		id++
		f := udpFrame(port, port+1000, id, rtpPacket(seq, uint32(seq)*160, ssrc))
		write(ns, f)
		return f
	}
	for i := range 100 { // A: 2 s
		send(t0+int64(i)*20e6, 4000, uint16(i), 0xA)
	}
	for i := range 300 { // B: from 2 s to 8 s
		send(t0+2e9+int64(i)*20e6, 4002, uint16(i), 0xB)
	}
	// C begins at 8 s: A, silent for 6 s, gives its record back, and C
	// takes it; then A sends again, and each has a packet copied
	for i := range 10 {
		send(t0+8e9+int64(i)*20e6, 4004, uint16(i), 0xC)
	}
	write(t0+8e9+200e6+1e3, send(t0+8e9+200e6, 4004, 10, 0xC))
	write(t0+8e9+220e6+1e3, send(t0+8e9+220e6, 4000, 100, 0xA))

	tr := NewTracker(Options{Heuristic: true})
	st, err := capture.Read(context.Background(), "silence", bytes.NewReader(file.Bytes()), capture.Options{Media: true}, &ownFeed{inlineFeed{t: tr}})
	if err != nil {
		t.Fatal(err)
	}
	if st.BadPackets != 0 || st.Duplicates != 2 {
		t.Fatalf("%d bad packets (%v), %d copies dropped; want 0 and 2", st.BadPackets, st.Warnings, st.Duplicates)
	}
	want := map[uint32]int{0xA: 101, 0xB: 300, 0xC: 11}
	for _, s := range tr.Finish().Streams {
		if s.Packets != want[s.SSRC] || s.Duplicates != 0 {
			t.Errorf("stream %X: %d packets, %d duplicates; want %d, 0", s.SSRC, s.Packets, s.Duplicates, want[s.SSRC])
		}
	}
	// A's record is a fresh one: it holds its last packet (100) alone; C's
	// is A's old one, emptied: nothing of A's packet 50 is left in it
	for _, st := range tr.streams {
		switch {
		case st.copies == nil:
			t.Errorf("stream %X has no record", st.ssrc)
		case st.ssrc == 0xA && (st.copies.last[50] != 0 || st.copies.last[100] == 0):
			t.Errorf("stream A kept its record through 6 s of silence")
		case st.ssrc == 0xC && st.copies.last[50] != 0:
			t.Errorf("stream C's record holds another stream's packet")
		}
	}
}
