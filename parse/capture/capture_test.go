package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/parse/hep"
	"github.com/sipflow/sipflow/parse/packet"
	"github.com/sipflow/sipflow/parse/pcap"
	"github.com/sipflow/sipflow/parse/sip"
	"github.com/sipflow/sipflow/parse/ws"
)

// frame is one packet of a generated capture (Ethernet, IPv4, UDP or TCP).
type frame struct {
	at       time.Duration // after t0
	src, dst string        // "ip:port"
	tcp      bool
	seq      uint32
	flags    uint8
	payload  string
	ipid     uint16 // IPv4 identification; 0 means 1
	zeroID   bool   // identification 0 (as a sender that sets none, or IPv6)
}

var t0 = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// buildPcap writes a classic little-endian microsecond pcap of frames.
func buildPcap(frames []frame) []byte {
	le := binary.LittleEndian
	var b []byte
	b = le.AppendUint32(b, 0xa1b2c3d4)
	b = le.AppendUint16(b, 2)
	b = le.AppendUint16(b, 4)
	b = append(b, make([]byte, 8)...)
	b = le.AppendUint32(b, 262144)
	b = le.AppendUint32(b, 1) // Ethernet
	for _, f := range frames {
		pkt := packetBytes(f)
		ts := t0.Add(f.at)
		b = le.AppendUint32(b, uint32(ts.Unix()))
		b = le.AppendUint32(b, uint32(ts.Nanosecond()/1000))
		b = le.AppendUint32(b, uint32(len(pkt)))
		b = le.AppendUint32(b, uint32(len(pkt)))
		b = append(b, pkt...)
	}
	return b
}

func packetBytes(f frame) []byte {
	be := binary.BigEndian
	src, dst := netip.MustParseAddrPort(f.src), netip.MustParseAddrPort(f.dst)
	var l4 []byte
	proto := byte(17)
	if f.tcp {
		proto = 6
		l4 = be.AppendUint16(l4, src.Port())
		l4 = be.AppendUint16(l4, dst.Port())
		l4 = be.AppendUint32(l4, f.seq)
		l4 = be.AppendUint32(l4, 0)
		l4 = append(l4, 5<<4, f.flags|packet.FlagACK, 0xff, 0xff, 0, 0, 0, 0)
	} else {
		l4 = be.AppendUint16(l4, src.Port())
		l4 = be.AppendUint16(l4, dst.Port())
		l4 = be.AppendUint16(l4, uint16(8+len(f.payload)))
		l4 = be.AppendUint16(l4, 0)
	}
	l4 = append(l4, f.payload...)
	ip := []byte{0x45, 0}
	ip = be.AppendUint16(ip, uint16(20+len(l4)))
	id := f.ipid
	switch {
	case f.zeroID:
		id = 0
	case id == 0:
		id = 1
	}
	ip = be.AppendUint16(ip, id)
	ip = append(ip, 0x40, 0, 64, proto, 0, 0)
	s4, d4 := src.Addr().As4(), dst.Addr().As4()
	ip = append(ip, s4[:]...)
	ip = append(ip, d4[:]...)
	eth := []byte{0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 8, 0}
	return append(append(eth, ip...), l4...)
}

func readBytes(t testing.TB, b []byte, opts Options) (*counter, Stats) {
	t.Helper()
	c := &counter{keep: true}
	st, err := Read(context.Background(), "test.pcap", bytes.NewReader(b), opts, c)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return c, st
}

const (
	inv   = "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 4\r\n\r\nv=0\n"
	ok200 = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:bob@example.com>;tag=2\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
	bye   = "BYE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK2\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:bob@example.com>;tag=2\r\nCall-ID: c1\r\nCSeq: 2 BYE\r\n\r\nno length body"
)

func rtp(seq uint16) string {
	b := []byte{0x80, 0x08}
	b = binary.BigEndian.AppendUint16(b, seq)
	b = binary.BigEndian.AppendUint32(b, uint32(seq)*160)
	b = binary.BigEndian.AppendUint32(b, 0x1234)
	return string(append(b, make([]byte, 160)...))
}

func stun() string {
	b := []byte{0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42}
	return string(append(b, make([]byte, 12)...))
}

func TestUDP(t *testing.T) {
	frames := []frame{
		{at: 0, src: "10.0.0.1:5060", dst: "10.0.0.2:5060", payload: inv + "\r\n" + ok200 + bye},
		{at: time.Millisecond, src: "10.0.0.1:5060", dst: "10.0.0.2:5060", payload: "\r\n\r\n"},
		{at: 2 * time.Millisecond, src: "10.0.0.1:5060", dst: "10.0.0.2:5060", payload: stun()},
		{at: 3 * time.Millisecond, src: "10.0.0.1:4000", dst: "10.0.0.2:4002", payload: rtp(1)},
		{at: 4 * time.Millisecond, src: "10.0.0.1:4000", dst: "10.0.0.2:4002", payload: "\x00\x00\x00\x00"},
	}
	c, st := readBytes(t, buildPcap(frames), Options{Media: true})
	if st.Files != 1 || st.Frames != 5 || st.SIPMessages != 3 || st.Keepalives != 3 || st.MediaPackets != 1 || c.media != 1 || len(st.Warnings) != 0 {
		t.Fatalf("stats %+v", st)
	}
	want := []string{inv, ok200, bye}
	for i, m := range c.msgs {
		if string(m.SIP.Raw) != want[i] || m.File != "test.pcap" || m.Frame != 1 || !m.Time.Equal(t0) || m.Time.Location() != time.UTC ||
			m.Src.String() != "10.0.0.1:5060" || m.Dst.String() != "10.0.0.2:5060" || m.Transport != UDP || m.Encap != EncapNone {
			t.Errorf("message %d: %+v", i, m)
		}
	}
	if c.msgs[2].SIP.Method != sip.BYE || string(c.msgs[2].SIP.Body) != "no length body" {
		t.Errorf("BYE body %q", c.msgs[2].SIP.Body)
	}
	// Each message owns its bytes: a copy of exactly its datagram, not a
	// view of the file buffer (whose capacity would run on past it), and not
	// shared with the next message. (Its strings alias those bytes, so the
	// test does not write to them.)
	for i, m := range c.msgs[:2] {
		if cap(m.SIP.Raw) != len(m.SIP.Raw) {
			t.Errorf("message %d: %d bytes with capacity %d: a view of a larger buffer", i, len(m.SIP.Raw), cap(m.SIP.Raw))
		}
	}
	a, b := c.msgs[0].SIP.Raw, c.msgs[1].SIP.Raw
	if &a[:cap(a)][cap(a)-1] == &b[:cap(b)][cap(b)-1] {
		t.Error("messages share a buffer")
	}
}

func TestDuplicates(t *testing.T) {
	frames := []frame{
		{at: 0, src: "10.0.0.1:5060", dst: "10.0.0.2:5060", payload: inv},
		{at: time.Millisecond, src: "10.0.0.1:5060", dst: "10.0.0.2:5060", payload: inv},       // duplicate
		{at: 2 * time.Millisecond, src: "10.0.0.1:5060", dst: "10.0.0.3:5060", payload: inv},   // other destination
		{at: 500 * time.Millisecond, src: "10.0.0.1:5060", dst: "10.0.0.2:5060", payload: inv}, // retransmission
		{at: 600 * time.Millisecond, src: "10.0.0.1:4000", dst: "10.0.0.2:4002", payload: rtp(7)},
		{at: 600*time.Millisecond + 100*time.Microsecond, src: "10.0.0.1:4000", dst: "10.0.0.2:4002", payload: rtp(7)}, // duplicate
		{at: 700 * time.Millisecond, src: "10.0.0.1:4000", dst: "10.0.0.2:4002", payload: rtp(8)},
	}
	b := buildPcap(frames)
	_, st := readBytes(t, b, Options{Media: true})
	if st.SIPMessages != 3 || st.MediaPackets != 2 || st.Duplicates != 2 {
		t.Errorf("media: %+v", st)
	}
	// Without Media, media is counted but not checked for duplicates.
	_, st = readBytes(t, b, Options{})
	if st.SIPMessages != 3 || st.MediaPackets != 3 || st.Duplicates != 1 {
		t.Errorf("default: %+v", st)
	}
	_, st = readBytes(t, b, Options{KeepDuplicates: true})
	if st.SIPMessages != 4 || st.MediaPackets != 3 || st.Duplicates != 0 {
		t.Errorf("keep: %+v", st)
	}
	_, st = readBytes(t, b, Options{DuplicateWindow: 50 * time.Microsecond})
	if st.SIPMessages != 4 || st.Duplicates != 0 {
		t.Errorf("50µs window: %+v", st)
	}
}

func TestDedupTable(t *testing.T) {
	var d dedup
	d.init(10, 10)
	// Many distinct hashes within one window force growth; then all expire.
	for i := 1; i <= 5000; i++ {
		if d.seen(uint64(i)*0x9e3779b97f4a7c15, 5) {
			t.Fatalf("hash %d seen", i)
		}
	}
	for i := 1; i <= 5000; i++ {
		if !d.seen(uint64(i)*0x9e3779b97f4a7c15, 15) {
			t.Fatalf("hash %d not seen", i)
		}
	}
	// Long after: both generations have been cleared.
	if d.seen(0x9e3779b97f4a7c15, 100) || d.gens[d.cur].n != 1 || d.gens[d.cur^1].n != 0 {
		t.Fatalf("after expiry: %d and %d entries", d.gens[d.cur].n, d.gens[d.cur^1].n)
	}
}

func TestDedupInterleaved(t *testing.T) {
	for _, tc := range []struct {
		name   string
		retain int64
		span   int64 // ms interface 0 goes on before interface 1's copy comes
		want   bool
	}{
		{"pcapng 270ms", dedupRetain, 270, true},
		{"pcapng 0.9s", dedupRetain, 900, true}, // remembered for at least half the retention
		{"pcap 90ms", dedupRetainOne, 90, true},
		// a classic pcap holds one interface: copies so far apart in the
		// file are not looked for
		{"pcap 270ms", dedupRetainOne, 270, false},
	} {
		var d dedup
		d.init(int64(DefaultDuplicateWindow), tc.retain)
		h := func(i int64) uint64 { return uint64(i) * 0x9e3779b97f4a7c15 }
		ms := int64(time.Millisecond)
		d.seen(h(1), 1235*ms) // interface 0
		for i := int64(1); i <= 10; i++ {
			d.seen(h(i+1), (1235+tc.span*i/10)*ms)
		}
		if got := d.seen(h(1), 1235*ms+40_000); got != tc.want { // interface 1's copy, 40 µs later
			t.Errorf("%s: copy from the other interface seen %v, want %v", tc.name, got, tc.want)
		}
		if d.seen(h(5), (1235+tc.span*4/10)*ms+6*ms) { // same bytes 6 ms apart: a new packet
			t.Errorf("%s: packet outside the window seen as a duplicate", tc.name)
		}
	}
}

func TestTCP(t *testing.T) {
	msg := inv + ok200
	cut1, cut2 := 50, len(inv)+10
	frames := []frame{
		{at: 0, src: "10.0.0.1:40000", dst: "10.0.0.2:5060", tcp: true, seq: 99, flags: packet.FlagSYN},
		{at: 1 * time.Millisecond, src: "10.0.0.1:40000", dst: "10.0.0.2:5060", tcp: true, seq: 100, payload: msg[:cut1]},
		{at: 2 * time.Millisecond, src: "10.0.0.1:40000", dst: "10.0.0.2:5060", tcp: true, seq: 100 + uint32(cut2), payload: msg[cut2:]}, // out of order
		{at: 3 * time.Millisecond, src: "10.0.0.1:40000", dst: "10.0.0.2:5060", tcp: true, seq: 100 + uint32(cut1), payload: msg[cut1:cut2]},
		{at: 4 * time.Millisecond, src: "10.0.0.1:40000", dst: "10.0.0.2:5060", tcp: true, seq: 100 + uint32(cut1), payload: msg[cut1:cut2]}, // retransmission
		{at: 5 * time.Millisecond, src: "10.0.0.1:40000", dst: "10.0.0.2:5060", tcp: true, seq: 100 + uint32(len(msg)), payload: "\r\n\r\n" + bye},
	}
	c, st := readBytes(t, buildPcap(frames), Options{KeepDuplicates: true})
	if st.SIPMessages != 3 {
		t.Fatalf("stats %+v", st)
	}
	want := []struct {
		raw   string
		frame int
	}{{inv, 4}, {ok200, 4}, {bye, 6}} // the BYE has no Content-Length: no body, delivered when the stream is flushed
	for i, w := range want {
		m := c.msgs[i]
		raw := w.raw
		if i == 2 {
			raw = strings.TrimSuffix(bye, "no length body")
		}
		if string(m.SIP.Raw) != raw || m.Frame != w.frame || m.Transport != TCP || m.Src.String() != "10.0.0.1:40000" {
			t.Errorf("message %d: frame %d transport %v raw %q", i, m.Frame, m.Transport, m.SIP.Raw)
		}
	}
}

func TestWebSocket(t *testing.T) {
	req := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: sip\r\n\r\n"
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
	key := [4]byte{0xde, 0xad, 0xbe, 0xef}
	var cli []byte
	cli = append(cli, req...)
	cli = ws.AppendFrame(cli, &ws.Frame{Opcode: ws.OpText, Masked: true, Key: key}, []byte(inv[:40]))
	cli = ws.AppendFrame(cli, &ws.Frame{Fin: true, Opcode: ws.OpContinuation, Masked: true, Key: key}, []byte(inv[40:]))
	var srv []byte
	srv = append(srv, resp...)
	srv = ws.AppendFrame(srv, &ws.Frame{Fin: true, Opcode: ws.OpPing}, nil)
	srv = ws.AppendFrame(srv, &ws.Frame{Fin: true, Opcode: ws.OpText}, []byte(ok200))
	frames := []frame{
		{at: 0, src: "10.0.0.1:50000", dst: "10.0.0.2:8080", tcp: true, seq: 1, payload: string(cli[:30])},
		{at: 1 * time.Millisecond, src: "10.0.0.2:8080", dst: "10.0.0.1:50000", tcp: true, seq: 1, payload: string(srv)},
		{at: 2 * time.Millisecond, src: "10.0.0.1:50000", dst: "10.0.0.2:8080", tcp: true, seq: 31, payload: string(cli[30:])},
	}
	c, st := readBytes(t, buildPcap(frames), Options{})
	if st.SIPMessages != 2 || len(st.Warnings) != 0 {
		t.Fatalf("stats %+v", st)
	}
	if m := c.msgs[0]; m.Transport != WS || string(m.SIP.Raw) != ok200 || m.Frame != 2 {
		t.Errorf("first: %v %d %q", m.Transport, m.Frame, m.SIP.Raw)
	}
	if m := c.msgs[1]; m.Transport != WS || string(m.SIP.Raw) != inv || m.Frame != 3 || m.Src.String() != "10.0.0.1:50000" {
		t.Errorf("second: %v %d %q", m.Transport, m.Frame, m.SIP.Raw)
	}
}

func TestHEP(t *testing.T) {
	h := hep.Packet{Src: netip.MustParseAddrPort("192.0.2.1:5060"), Dst: netip.MustParseAddrPort("192.0.2.2:5060"),
		Proto: 17, Time: time.Date(2020, 1, 1, 0, 0, 0, 123000, time.UTC), ProtoType: hep.ProtoTypeSIP, CaptureID: 1, Payload: []byte(inv)}
	udp := hep.AppendHEP3(nil, &h)
	h.Payload = []byte(ok200)
	h.Proto = 6
	stream := hep.AppendHEP3(nil, &h)
	h.Payload, h.ProtoType = []byte("a log line"), hep.ProtoTypeLog
	stream = hep.AppendHEP3(stream, &h)
	frames := []frame{
		{at: 0, src: "10.0.0.1:40000", dst: "10.0.0.9:9060", payload: string(udp)},
		{at: time.Millisecond, src: "10.0.0.1:40001", dst: "10.0.0.9:9061", tcp: true, seq: 7, payload: string(stream[:20])},
		{at: 2 * time.Millisecond, src: "10.0.0.1:40001", dst: "10.0.0.9:9061", tcp: true, seq: 27, payload: string(stream[20:])},
	}
	c, st := readBytes(t, buildPcap(frames), Options{})
	if st.SIPMessages != 2 || st.HEPPackets != 3 {
		t.Fatalf("stats %+v", st)
	}
	m := c.msgs[0]
	if m.Encap != EncapHEP || m.Transport != UDP || m.Src.String() != "192.0.2.1:5060" || !m.Time.Equal(h.Time) || string(m.SIP.Raw) != inv {
		t.Errorf("UDP HEP: %+v", m)
	}
	m = c.msgs[1]
	if m.Encap != EncapHEP || m.Transport != TCP || m.Frame != 3 || string(m.SIP.Raw) != ok200 {
		t.Errorf("TCP HEP: %+v", m)
	}
}

func TestTLS(t *testing.T) {
	hello := "\x16\x03\x01\x00\x05hello"
	frames := []frame{
		{at: 0, src: "10.0.0.1:40000", dst: "10.0.0.2:5061", tcp: true, seq: 1, payload: hello},
		{at: 1, src: "10.0.0.2:5061", dst: "10.0.0.1:40000", tcp: true, seq: 1, payload: "\x16\x03\x03\x00\x02sh"},
		{at: 2, src: "10.0.0.1:40000", dst: "10.0.0.2:5061", tcp: true, seq: 11, payload: "\x17\x03\x03\x00\x03INV"},
		{at: 3, src: "10.0.0.3:40000", dst: "10.0.0.2:5061", tcp: true, seq: 1, payload: "\x8f\x01 binary stuff on 5061"},
	}
	_, st := readBytes(t, buildPcap(frames), Options{})
	if st.TLSFlows != 2 || st.SIPMessages != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestTruncatedAndBad(t *testing.T) {
	frames := []frame{
		{at: 0, src: "10.0.0.1:5060", dst: "10.0.0.2:5060", payload: inv},
		{at: 1, src: "10.0.0.1:5060", dst: "10.0.0.2:5060", payload: ok200},
	}
	b := buildPcap(frames)
	// A bad IPv4 header length in the second frame.
	bad := bytes.Clone(b)
	bad[24+16+len(packetBytes(frames[0]))+16+14] = 0x41
	_, st := readBytes(t, bad, Options{})
	if st.SIPMessages != 1 || st.BadPackets != 1 || len(st.Warnings) != 1 || st.Warnings[0].Frame != 2 ||
		!errors.Is(st.Warnings[0].Err, packet.ErrMalformed) || st.Warnings[0].Offset != int64(24+16+len(packetBytes(frames[0]))) {
		t.Errorf("bad packet: %+v", st)
	}
	// Cut in the middle of the second record.
	_, st = readBytes(t, b[:len(b)-10], Options{})
	if st.SIPMessages != 1 || st.Frames != 1 || len(st.Warnings) != 1 || !errors.Is(st.Warnings[0].Err, pcap.ErrTruncated) || st.Warnings[0].File != "test.pcap" ||
		st.Warnings[0].Frame != 2 || st.Warnings[0].Offset != int64(24+16+len(packetBytes(frames[0]))) {
		t.Errorf("truncated: %+v", st)
	}
}

func TestNotCapture(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "notes.txt")
	os.WriteFile(p, []byte("INVITE sip:x SIP/2.0\r\n\r\nthis is a text file, not a capture"), 0o644)
	_, err := ReadFile(context.Background(), p, Options{}, &counter{})
	if !errors.Is(err, pcap.ErrNotCapture) || !strings.Contains(err.Error(), p) {
		t.Errorf("text file: %v", err)
	}
	_, err = ReadFile(context.Background(), filepath.Join(dir, "missing.pcap"), Options{}, &counter{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Read(ctx, "x", bytes.NewReader(buildPcap([]frame{{src: "1.1.1.1:1", dst: "2.2.2.2:2", payload: "x"}})), Options{}, &counter{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestMaxWarnings(t *testing.T) {
	var frames []frame
	for i := 0; i < MaxWarnings+20; i++ {
		frames = append(frames, frame{at: time.Duration(i), src: "10.0.0.1:5060", dst: "10.0.0.2:5060", payload: "x"})
	}
	b := buildPcap(frames)
	// Break every IPv4 header.
	off := 24
	for range frames {
		b[off+16+14] = 0x41
		off += 16 + int(binary.LittleEndian.Uint32(b[off+8:]))
	}
	_, st := readBytes(t, b, Options{})
	if st.BadPackets != MaxWarnings+20 || len(st.Warnings) != MaxWarnings || !errors.Is(st.Warnings[MaxWarnings-1].Err, ErrMaxWarnings) {
		t.Errorf("bad %d warnings %d", st.BadPackets, len(st.Warnings))
	}
}

type nopHandler struct{ media int }

func (nopHandler) SIP(*Message)    {}
func (h *nopHandler) Media(*Media) { h.media++ }

// BenchmarkRTP reads a generated capture of RTP packets (the bulk of a
// trunk): it must not allocate per packet.
func BenchmarkRTP(b *testing.B) {
	var frames []frame
	for i := 0; i < 10000; i++ {
		port := 4000 + 2*(i%50)
		frames = append(frames, frame{at: time.Duration(i) * 400 * time.Microsecond, src: "10.0.0.1:" + itoa(port), dst: "10.0.0.2:" + itoa(port+1000), payload: rtp(uint16(i / 50))})
	}
	data := buildPcap(frames)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h := &nopHandler{}
		st, err := Read(context.Background(), "bench", bytes.NewReader(data), Options{Media: true}, h)
		if err != nil || st.MediaPackets != len(frames) || h.media != len(frames) {
			b.Fatalf("%v %+v", err, st)
		}
	}
	b.ReportMetric(float64(testing.AllocsPerRun(1, func() {
		Read(context.Background(), "bench", bytes.NewReader(data), Options{Media: true}, &nopHandler{})
	}))/float64(len(frames)), "allocs/pkt")
}

func mustAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// TestRTPAllocs: reading RTP must not allocate per packet (the fixed cost
// of a file is a few dozen allocations).
func TestRTPAllocs(t *testing.T) {
	var frames []frame
	for i := 0; i < 5000; i++ {
		frames = append(frames, frame{at: time.Duration(i) * 100 * time.Microsecond, src: "10.0.0.1:4000", dst: "10.0.0.2:4002", payload: rtp(uint16(i))})
	}
	data := buildPcap(frames)
	allocs := testing.AllocsPerRun(3, func() {
		Read(context.Background(), "bench", bytes.NewReader(data), Options{Media: true}, &nopHandler{})
	})
	if allocs > 100 {
		t.Errorf("%.0f allocations for %d RTP packets", allocs, len(frames))
	}
}

func TestEventEndNotDuplicate(t *testing.T) {
	end := string([]byte{0x80, 0x65, 0x1f, 0x37, 0, 0, 0x0f, 0xa0, 0x12, 0x34, 0x56, 0x78, 0x01, 0x8a, 0x03, 0x20})
	three := func(ids [3]uint16, zero bool) []frame {
		var fs []frame
		for i, id := range ids {
			fs = append(fs, frame{at: time.Duration(i) * 10 * time.Microsecond, src: "10.0.0.1:6000", dst: "10.0.0.2:6100", payload: end, ipid: id, zeroID: zero})
		}
		return fs
	}
	for _, tc := range []struct {
		name   string
		frames []frame
		dups   int
	}{
		{"no IP ID: the sender's three end packets", three([3]uint16{}, true), 0},
		{"new IP IDs: the sender's three end packets", three([3]uint16{7, 8, 9}, false), 0},
		{"same IP ID: one packet captured three times", three([3]uint16{7, 7, 7}, false), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, st := readBytes(t, buildPcap(tc.frames), Options{Media: true})
			if st.MediaPackets != 3-tc.dups || st.Duplicates != tc.dups {
				t.Errorf("%+v", st)
			}
		})
	}
}

// panicky panics on the first SIP message it is given.
type panicky struct{ n int }

func (p *panicky) SIP(*Message) {
	p.n++
	if p.n == 1 {
		panic("handler bug")
	}
}
func (p *panicky) Media(*Media) {}

// TestPanicGoesOn: a panic while handling one message is a counted warning
// naming its frame, and the messages after it are still delivered, in both
// the inline (Media) and the two-goroutine path.
func TestPanicGoesOn(t *testing.T) {
	b := buildPcap([]frame{
		{at: 0, src: "10.0.0.1:5060", dst: "10.0.0.2:5060", payload: inv},
		{at: time.Millisecond, src: "10.0.0.2:5060", dst: "10.0.0.1:5060", payload: ok200},
	})
	for _, media := range []bool{false, true} {
		h := &panicky{}
		st, err := Read(context.Background(), "p.pcap", bytes.NewReader(b), Options{Media: media}, h)
		if err != nil {
			t.Fatal(err)
		}
		if h.n != 2 || st.BadPackets != 1 || len(st.Warnings) != 1 ||
			!errors.Is(st.Warnings[0].Err, ErrPanic) || st.Warnings[0].Frame != 1 {
			t.Errorf("media=%v: handled %d, stats %+v", media, h.n, st)
		}
	}
}

// orderHandler records what it is given, in order.
type orderHandler struct{ got []string }

func (o *orderHandler) SIP(m *Message) { o.got = append(o.got, "sip#"+itoa(m.Frame)) }
func (o *orderHandler) Media(m *Media) {
	o.got = append(o.got, "media#"+itoa(m.Frame)+"@"+m.Src.String()+">"+m.Dst.String()+" "+itoa(len(m.Payload)))
}

// TestMediaOrder: with media on, SIP messages and media datagrams reach
// the handler in capture order, across batch boundaries, with their
// addresses, frames and payloads intact.
func TestMediaOrder(t *testing.T) {
	var frames []frame
	var want []string
	for i := 0; i < 700; i++ {
		at := time.Duration(i) * time.Millisecond
		if i%97 == 5 {
			frames = append(frames, frame{at: at, src: "10.0.0.1:5060", dst: "10.0.0.2:5060", payload: inv})
			want = append(want, "sip#"+itoa(i+1))
			continue
		}
		p := rtp(uint16(i))
		frames = append(frames, frame{at: at, src: "10.0.0.1:4000", dst: "[::ffff:10.0.0.2]:4002", payload: p})
		want = append(want, "media#"+itoa(i+1)+"@10.0.0.1:4000>10.0.0.2:4002 "+itoa(len(p)))
	}
	h := &orderHandler{}
	if _, err := Read(context.Background(), "o.pcap", bytes.NewReader(buildPcap(frames)), Options{Media: true, KeepDuplicates: true}, h); err != nil {
		t.Fatal(err)
	}
	if len(h.got) != len(want) {
		t.Fatalf("%d items, want %d", len(h.got), len(want))
	}
	for i := range want {
		if h.got[i] != want[i] {
			t.Fatalf("item %d: %s, want %s", i, h.got[i], want[i])
		}
	}
}

// copier keeps a copy of what it needs, as a Handler under ReuseMessages must.
type copier struct{ got []string }

func (c *copier) SIP(m *Message) {
	c.got = append(c.got, strings.Clone(m.SIP.CallID)+" "+itoa(int(m.SIP.CSeq))+" "+itoa(m.Frame)+" "+itoa(len(m.SIP.Headers))+" "+string(m.SIP.Raw[:min(12, len(m.SIP.Raw))]))
}
func (c *copier) Media(*Media) {}

// TestReuseMessages: with Messages and buffers reused, a Handler that copies
// what it keeps sees exactly what it sees without reuse.
func TestReuseMessages(t *testing.T) {
	var frames []frame
	for i := 0; i < 3000; i++ {
		p := inv
		if i%3 == 1 {
			p = ok200
		}
		p = strings.Replace(p, "Call-ID: c1", "Call-ID: c"+itoa(i), 1)
		frames = append(frames, frame{at: time.Duration(i) * time.Millisecond, src: "10.0.0.1:5060", dst: "10.0.0.2:5060", payload: p, ipid: uint16(i + 1)})
	}
	b := buildPcap(frames)
	var want, got copier
	if _, err := Read(context.Background(), "r.pcap", bytes.NewReader(b), Options{}, &want); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(context.Background(), "r.pcap", bytes.NewReader(b), Options{ReuseMessages: true}, &got); err != nil {
		t.Fatal(err)
	}
	if len(want.got) != 3000 || !slices.Equal(got.got, want.got) {
		t.Fatalf("%d messages with reuse, %d without; first difference at %d", len(got.got), len(want.got), firstDiff(got.got, want.got))
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// mediaPanicky panics on the first media datagram it is given.
type mediaPanicky struct{ n int }

func (p *mediaPanicky) SIP(*Message) {}
func (p *mediaPanicky) Media(*Media) {
	p.n++
	if p.n == 1 {
		panic("media handler bug")
	}
}

// TestMediaPanicGoesOn: a panic on one media datagram is a warning on its
// frame; the datagrams after it are still delivered.
func TestMediaPanicGoesOn(t *testing.T) {
	var frames []frame
	for i := range 5 {
		frames = append(frames, frame{at: time.Duration(i) * time.Millisecond, src: "10.0.0.1:4000", dst: "10.0.0.2:4002", payload: rtp(uint16(i)), ipid: uint16(i + 1)})
	}
	h := &mediaPanicky{}
	st, err := Read(context.Background(), "m.pcap", bytes.NewReader(buildPcap(frames)), Options{Media: true}, h)
	if err != nil {
		t.Fatal(err)
	}
	if h.n != 5 || st.BadPackets != 1 || len(st.Warnings) != 1 || !errors.Is(st.Warnings[0].Err, ErrPanic) || st.Warnings[0].Frame != 1 {
		t.Errorf("handled %d, stats %+v", h.n, st)
	}
}

// inlineOrder is an Inline handler that logs what it sees: Peek and Media
// on the reading goroutine into got, SIP on the handler goroutine into sips.
type inlineOrder struct {
	got  []string
	sips []string
}

func (o *inlineOrder) Peek(m *Message) {
	o.got = append(o.got, "sip#"+itoa(m.Frame))
	if m.SIP.CallID != "c1" || m.SIP.CSeq != 1 || m.SIP.From.Tag != "1" {
		o.got = append(o.got, "bad peek: "+m.SIP.CallID)
	}
}
func (o *inlineOrder) SIP(m *Message) {
	o.sips = append(o.sips, "sip#"+itoa(m.Frame))
	if len(m.SIP.Via) != 1 { // the full parse
		o.sips = append(o.sips, "not fully parsed")
	}
}
func (o *inlineOrder) Media(m *Media) {
	o.got = append(o.got, "media#"+itoa(m.Frame)+"@"+m.Src.String()+">"+m.Dst.String()+" "+itoa(len(m.Payload)))
}

// TestInline: an Inline handler sees each SIP message in Peek (light
// parse) before the media after it, the media in capture order, and every
// message again, fully parsed, in SIP, in order. Serial gives a handler
// the same order from a reader of one goroutine.
func TestInline(t *testing.T) {
	var frames []frame
	var want, wantSIP []string
	for i := 0; i < 700; i++ {
		at := time.Duration(i) * time.Millisecond
		if i%97 == 5 {
			frames = append(frames, frame{at: at, src: "10.0.0.1:5060", dst: "10.0.0.2:5060", payload: inv})
			want = append(want, "sip#"+itoa(i+1))
			wantSIP = append(wantSIP, "sip#"+itoa(i+1))
			continue
		}
		p := rtp(uint16(i))
		frames = append(frames, frame{at: at, src: "10.0.0.1:4000", dst: "[::ffff:10.0.0.2]:4002", payload: p})
		want = append(want, "media#"+itoa(i+1)+"@10.0.0.1:4000>10.0.0.2:4002 "+itoa(len(p)))
	}
	pcapBytes := buildPcap(frames)
	for _, reuse := range []bool{false, true} {
		h := &inlineOrder{}
		if _, err := Read(context.Background(), "o.pcap", bytes.NewReader(pcapBytes), Options{Media: true, KeepDuplicates: true, ReuseMessages: reuse}, h); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(h.got, want) {
			t.Errorf("reuse %v: Peek and Media saw %d items, item %d differs", reuse, len(h.got), firstDiff(h.got, want))
		}
		if !slices.Equal(h.sips, wantSIP) {
			t.Errorf("reuse %v: SIP saw %v, want %v", reuse, h.sips, wantSIP)
		}
	}
	// Serial: Peek then SIP for each message, on the one goroutine of a
	// plain Handler; the reader does not take it for an Inline one.
	h := &inlineOrder{}
	s := Serial(h)
	if _, ok := s.(Inline); ok {
		t.Fatal("Serial(h) is an Inline handler")
	}
	if _, err := Read(context.Background(), "o.pcap", bytes.NewReader(pcapBytes), Options{Media: true, KeepDuplicates: true}, s); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(h.got, want) || !slices.Equal(h.sips, wantSIP) {
		t.Errorf("Serial: Peek and Media differ at item %d of %d, SIP at %d of %d", firstDiff(h.got, want), len(h.got), firstDiff(h.sips, wantSIP), len(h.sips))
	}
	if o := (&orderHandler{}); Serial(o) != Handler(o) {
		t.Error("Serial changed a plain Handler")
	}
}
