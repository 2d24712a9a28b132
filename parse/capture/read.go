package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/bits"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/sipflow/sipflow/parse/hep"
	"github.com/sipflow/sipflow/parse/packet"
	"github.com/sipflow/sipflow/parse/pcap"
	"github.com/sipflow/sipflow/parse/sip"
	"github.com/sipflow/sipflow/parse/tcp"
)

// MaxWarnings bounds Stats.Warnings per file; past it the last entry wraps
// ErrMaxWarnings and further problems are only counted.
const MaxWarnings = 100

// Sentinel errors found in Warning.Err.
var (
	ErrMaxWarnings = errors.New("capture: too many warnings, the rest are not listed")
	ErrPanic       = errors.New("capture: decoder panic")
	ErrGap         = errors.New("capture: TCP bytes missing, message dropped")
	ErrStream      = errors.New("capture: undecodable stream data skipped")
)

// DefaultDuplicateWindow is used when Options.DuplicateWindow is zero.
const DefaultDuplicateWindow = 5 * time.Millisecond

func itoa(i int) string { return strconv.Itoa(i) }

// Add merges the counts of o into s (Files adds up too). Warnings are
// appended within the bound of MaxWarnings per merged Stats times the files.
func (s *Stats) Add(o Stats) {
	s.Files += o.Files
	s.Frames += o.Frames
	s.SIPMessages += o.SIPMessages
	s.Broken += o.Broken
	s.Duplicates += o.Duplicates
	s.TLSFlows += o.TLSFlows
	s.MediaPackets += o.MediaPackets
	s.BadPackets += o.BadPackets
	s.Keepalives += o.Keepalives
	s.HEPPackets += o.HEPPackets
	s.Warnings = append(s.Warnings, o.Warnings...)
}

// ReadFile reads the capture file at path (pcap or pcapng, optionally gzip
// or zstd compressed) and hands what it holds to h. The error is non-nil
// only when the file cannot be opened or read at all, is not a capture
// (it wraps pcap.ErrNotCapture), or ctx is done; a truncated file or bad
// packets become Stats.Warnings and counts, and everything readable is
// delivered.
func ReadFile(ctx context.Context, path string, opts Options, h Handler) (Stats, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is named once, below
		}
		return Stats{}, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	return Read(ctx, path, f, opts, h)
}

// Read is ReadFile for an open stream; name is used in messages and in
// Message.File.
func Read(ctx context.Context, name string, rd io.Reader, opts Options, h Handler) (Stats, error) {
	r, err := pcap.NewReader(rd)
	if err != nil {
		return Stats{}, fmt.Errorf("%s: %w", name, err)
	}
	defer r.Close()
	return read(ctx, name, r, opts, h)
}

// reader holds the state of reading one file.
type reader struct {
	file  string
	opts  Options
	h     Handler
	stats Stats
	// inline is h when it is an Inline handler: SIP is parsed and peeked,
	// and media handled, on the reading goroutine (see Inline)
	inline Inline
	filter PeekFilter // the inline handler, if it has no use for some messages
	media  Media      // reused for each inline media call
	// ownDups says the inline handler checks the media for copies itself
	// (OwnDuplicates), with dups for what it does not check
	ownDups bool
	dups    Dups
	peeked  Message // reused for each Peek

	dec *packet.Decoder
	pkt packet.Packet
	hp  hep.Packet
	asm *tcp.Assembler
	rec pcap.Record
	dup dedup
	tls map[tcp.Key]int // open TLS streams per connection (canonical key)

	st *stage // the handler stage
	// With Options.ReuseMessages, Messages and their bytes go round again
	// instead of becoming garbage: on a trunk they are most of what the
	// reader allocates.
	msgs, raws sync.Pool
	cur        *batch // items for the next hand-over to st

	// The frame being processed, for warnings raised inside callbacks.
	frame  int
	offset int64
}

func read(ctx context.Context, name string, pr *pcap.Reader, opts Options, h Handler) (Stats, error) {
	r := &reader{file: name, opts: opts, h: h, dec: packet.NewDecoder(), tls: map[tcp.Key]int{}}
	r.stats.Files = 1
	r.inline, _ = h.(Inline)
	r.filter, _ = h.(PeekFilter)
	r.media.File = name
	if od, ok := h.(OwnDuplicates); ok && r.inline != nil && opts.Media && !opts.KeepDuplicates && od.OwnDuplicates() {
		r.ownDups = true
		r.dups.r = r
		r.media.Dups = &r.dups
	}
	win := opts.DuplicateWindow
	if win <= 0 {
		win = DefaultDuplicateWindow
	}
	retain := dedupRetain
	if pr.Format() == pcap.FormatPcap {
		retain = dedupRetainOne
	}
	r.dup.init(int64(win), retain)
	r.asm = tcp.NewAssembler(tcp.Config{}, (*tcpConsumer)(r))
	r.startStage()
	for {
		done, err := r.records(ctx, pr)
		if err != nil {
			r.finish()
			return r.stats, fmt.Errorf("%s: %w", name, err)
		}
		if done {
			break
		}
		// a record panicked: it was counted; go on with the next one
	}
	r.finish()
	return r.stats, nil
}

// records reads and processes records until the end of the file (done), ctx
// is done (err), or a record panics: the panic becomes a counted warning on
// that frame and records returns so that read can go on. One deferred
// recover per run of records, not per record, keeps the hot loop cheap.
func (r *reader) records(ctx context.Context, pr *pcap.Reader) (done bool, err error) {
	defer r.recoverFrame()
	for {
		if r.stats.Frames&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return true, err
			}
		}
		err := pr.Next(&r.rec)
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			// The reader stops at the first broken record; what came
			// before was delivered.
			off := int64(-1) // pcapng: the error text has the offset
			if pr.Format() == pcap.FormatPcap {
				off = 24 // after the file header
				if r.stats.Frames > 0 {
					off = r.rec.Offset + 16 + int64(len(r.rec.Data))
				}
			}
			r.warn(r.stats.Frames+1, off, err)
			return true, nil
		}
		r.stats.Frames++
		r.frame, r.offset = r.rec.Frame, r.rec.Offset
		r.record()
	}
}

// finish flushes the TCP streams still open and waits for the parse stage.
func (r *reader) finish() {
	defer r.stopStage()
	defer r.recoverFrame()
	r.asm.Flush()
}

func (r *reader) warn(frame int, off int64, err error) {
	r.warnTo(&r.stats, Warning{File: r.file, Frame: frame, Offset: off, Err: err})
}

// warnTo records w in st, up to MaxWarnings.
func (r *reader) warnTo(st *Stats, w Warning) {
	switch n := len(st.Warnings); {
	case n < MaxWarnings-1:
		st.Warnings = append(st.Warnings, w)
	case n == MaxWarnings-1:
		w.Err = ErrMaxWarnings
		st.Warnings = append(st.Warnings, w)
	}
}

// recoverFrame turns a panic into a counted warning on the current frame.
func (r *reader) recoverFrame() {
	if v := recover(); v != nil {
		r.stats.BadPackets++
		r.warn(r.frame, r.offset, fmt.Errorf("%w: %v", ErrPanic, v))
	}
}

// record processes the current record.
func (r *reader) record() {
	p := &r.pkt
	var ok bool
	var err error
	if r.rec.LinkType == layers.LinkTypeEthernet && r.dec.Idle() && packet.DecodeEthernetUDP4(r.rec.Data, p) {
		ok = true // the Decoder's own fast path, without its call
	} else {
		ok, err = r.dec.DecodeUnrecovered(r.rec.LinkType, r.rec.Data, r.rec.Time, p) // records() recovers
	}
	if err != nil {
		r.stats.BadPackets++
		r.warn(r.rec.Frame, r.rec.Offset, err)
		return
	}
	if !ok {
		return
	}
	var isHEP, isSIP bool
	if p.Proto == packet.ProtoUDP {
		// Media nobody asked for is counted, not hashed: on a trunk it is
		// 95% of the packets, and the duplicate check is most of its cost.
		// the first byte rules out most media before a call: HEP begins
		// with 'H' (HEP3) or its version (1, 2), SIP with a capital
		// letter, RTP and RTCP with 0x80-0xbf
		b := p.Payload
		isHEP = len(b) > 0 && (b[0] == 'H' || b[0] == 1 || b[0] == 2) && hep.IsHEP(b)
		isSIP = !isHEP && len(b) > 0 && b[0] >= 'A' && b[0] <= 'Z' && sip.IsStart(b)
		// (RTP and RTCP, 0x80-0xbf, are no keepalive: STUN begins with
		// two zero bits, a CRLF or zero keepalive is 4 bytes at most)
		if r.ownDups && !isHEP && !isSIP && (len(b) > 4 && b[0]&0xc0 != 0 || !isKeepalive(b)) {
			r.ownMedia(p) // the hot path of a trunk's RTP
			return
		}
		if !r.opts.Media && !isHEP && !isSIP {
			if !isKeepalive(p.Payload) {
				r.stats.MediaPackets++
			}
			return
		}
	}
	enc := EncapNone
	if p.Tunneled {
		enc = EncapTunnel
	}
	src, dst := p.SrcAddrPort(), p.DstAddrPort()
	ts := r.rec.Time // UTC (pcap.Record)
	switch p.Proto {
	case packet.ProtoUDP:
		// (with OwnDuplicates, the handler's media went to ownMedia: what
		// is left is checked here)
		if r.udpDuplicate(p, isHEP, isSIP, ts.UnixNano()) {
			r.stats.Duplicates++
			return
		}
		r.udp(p.Payload, r.rec.Frame, ts, src, dst, enc, isHEP, isSIP)
	case packet.ProtoTCP:
		if len(p.Payload) > 0 && r.duplicate(p, p.Seq, p.Payload, ts.UnixNano()) {
			r.stats.Duplicates++
			return
		}
		r.asm.Add(ts, r.rec.Frame, src, dst, p.Seq, p.Flags, p.Payload)
	}
}

// mediaKeyLen is how much of a media payload the duplicate check hashes.
const mediaKeyLen = 32

// udpDuplicate is duplicate for the UDP datagram in p.
func (r *reader) udpDuplicate(p *packet.Packet, isHEP, isSIP bool, ns int64) bool {
	key := p.Payload
	if !isHEP && !isSIP && len(key) > mediaKeyLen {
		// RTP and RTCP say which packet they are in their first
		// bytes (SSRC, sequence, timestamp): hashing those, the
		// length and the IP ID is enough, and it is the hot path.
		key = key[:mediaKeyLen]
	}
	return r.duplicate(p, uint32(len(p.Payload)), key, ns)
}

// duplicate reports whether an identical packet was seen within the window:
// same addresses, ports, IP identification and payload. The IP ID tells a
// packet captured twice (same ID) from one an application sent twice, such
// as the three identical RFC 4733 end-of-event packets (new IDs). The
// caller counts the copy, and drops it.
func (r *reader) duplicate(p *packet.Packet, seq uint32, payload []byte, ns int64) bool { // seq: the TCP sequence number, or the UDP payload length
	if r.opts.KeepDuplicates || p.IPID == 0 && isEventEnd(payload) {
		return false // without an IP ID, a repeated end-of-event packet is the sender's
	}
	return r.dup.seen(dupHash(p, seq, payload), ns)
}

// dupHash hashes what makes a packet the same packet: its addresses,
// ports, protocol, IP ID, seq and payload. It runs on every packet, so it
// is wyhash's 128-bit multiply-and-fold over 16 bytes at a time, a few
// nanoseconds for an RTP key where hash/maphash took several times that.
// The table keeps 44 bits of it: with the few thousand packets a window
// holds, a false match is a one in a billion chance.
func dupHash(p *packet.Packet, seq uint32, payload []byte) uint64 {
	const k0, k1, k2, k3 = 0xa0761d6478bd642f, 0xe7037ed1a0b428db, 0x8ebc6af09c88c6e3, 0x589965cc75374cc3
	var h uint64
	if p.Src.Is4() && p.Dst.Is4() {
		s, d := p.Src.As4(), p.Dst.As4()
		h = uint64(binary.BigEndian.Uint32(s[:]))<<32 | uint64(binary.BigEndian.Uint32(d[:]))
	} else {
		s, d := p.Src.As16(), p.Dst.As16()
		h = mix(le64(s[:8])^k0, le64(s[8:])^k1)
		h = mix(le64(d[:8])^h, le64(d[8:])^k2)
	}
	h = mix(uint64(p.SrcPort)<<48|uint64(p.DstPort)<<32|uint64(p.Proto)^h^k0, uint64(seq)<<32|uint64(p.IPID)^k3)
	n := len(payload)
	for len(payload) >= 16 {
		h = mix(le64(payload[:8])^h, le64(payload[8:16])^k1)
		payload = payload[16:]
	}
	var t [16]byte
	copy(t[:], payload)
	h = mix(le64(t[:8])^h, le64(t[8:])^k2)
	return mix(h^k0, uint64(n)^k3)
}

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// udp handles one UDP datagram: HEP, SIP, keepalive or media. isHEP and
// isSIP are hep.IsHEP and sip.IsStart of b, which record has looked at.
func (r *reader) udp(b []byte, frame int, ts time.Time, src, dst netip.AddrPort, enc Encap, isHEP, isSIP bool) {
	switch {
	case isHEP:
		r.hepPacket(b, frame, ts)
		return
	case isSIP:
		r.datagram(b, frame, ts, src, dst, UDP, enc)
		return
	}
	if isKeepalive(b) {
		r.stats.Keepalives++
		return
	}
	r.stats.MediaPackets++
	if r.opts.Media {
		r.deliverMedia(b, frame, ts, src, dst)
	}
}

// hepPacket unwraps a HEP packet and handles the SIP inside with HEP's
// addresses and time.
func (r *reader) hepPacket(b []byte, frame int, ts time.Time) {
	if err := hep.Decode(b, &r.hp); err != nil {
		r.stats.BadPackets++
		r.warn(frame, r.offset, err)
		return
	}
	r.stats.HEPPackets++
	hp := &r.hp
	if hp.ProtoType != hep.ProtoTypeSIP || !sip.IsStart(hp.Payload) {
		return // logs, RTCP reports, QoS: not SIP
	}
	t := ts
	if !hp.Time.IsZero() {
		t = hp.Time
	}
	tr := UDP
	switch hp.Proto {
	case packet.ProtoTCP:
		tr = TCP
	case packet.ProtoSCTP:
		tr = SCTP
	}
	r.datagram(hp.Payload, frame, t, hp.Src, hp.Dst, tr, EncapHEP)
}

// datagram delivers the SIP messages of one datagram (or HEP payload): each
// framed by Content-Length while another start line follows, the last one
// running to the end of the datagram.
func (r *reader) datagram(b []byte, frame int, ts time.Time, src, dst netip.AddrPort, tr Transport, enc Encap) {
	for len(b) > 0 {
		f, complete, err := sip.MessageFrame(b)
		if err == nil && complete && f.Len < len(b) {
			rest := bytes.TrimLeft(b[f.Len:], "\r\n")
			if sip.IsStart(rest) {
				r.deliver(b[:f.Len], frame, ts, src, dst, tr, enc, f.Len > f.Body, f.CSeqMethod)
				b = rest
				continue
			}
		}
		// the whole datagram: a body unless its headers end it
		r.deliver(b, frame, ts, src, dst, tr, enc, err != nil || !complete || len(b) > f.Body, f.CSeqMethod)
		return
	}
}

// frameHints are deliver's hints for a message b of a stream: whether
// bytes follow the blank line that ends its headers (true when there is
// none), and its CSeq method if MessageFrame can tell.
func frameHints(b []byte) (body bool, cseq sip.Method) {
	f, complete, err := sip.MessageFrame(b)
	return err != nil || !complete || len(b) > f.Body, f.CSeqMethod
}

// deliver copies one message's bytes (the one copy out of the read
// buffers) and queues it for the handler stage.
func (r *reader) deliver(b []byte, frame int, ts time.Time, src, dst netip.AddrPort, tr Transport, enc Encap, body bool, cseq sip.Method) {
	var raw []byte
	if r.opts.ReuseMessages {
		if v, ok := r.raws.Get().(*[]byte); ok && cap(*v) >= len(b) {
			raw = (*v)[:len(b)]
		}
	}
	if raw == nil {
		c := len(b)
		if r.opts.ReuseMessages {
			c = max(c, 1024) // room for the next messages it will carry
		}
		raw = make([]byte, len(b), c)
	}
	copy(raw, b)
	r.cur.sips = append(r.cur.sips, pending{
		raw: raw, offset: r.offset, frame: frame, ts: ts, src: src, dst: dst, tr: tr, enc: enc,
	})
	if r.inline != nil && (r.filter == nil || r.peekWants(raw, body, cseq)) {
		r.peek(raw, frame, ts, src, dst, tr, enc)
	}
	r.queued()
}

// peekWants asks the PeekFilter about a message from its start line (which
// the reader has checked), its CSeq method and whether it may have a body.
func (r *reader) peekWants(b []byte, body bool, cseq sip.Method) bool {
	pi := PeekInfo{CSeqMethod: cseq, Body: body}
	if len(b) > 11 && string(b[:8]) == "SIP/2.0 " {
		d := b[8:11]
		if d[0] < '0' || d[0] > '9' || d[1] < '0' || d[1] > '9' || d[2] < '0' || d[2] > '9' {
			return true
		}
		pi.Status = int(d[0]-'0')*100 + int(d[1]-'0')*10 + int(d[2]-'0')
		return r.filter.PeekWants(pi)
	}
	sp := bytes.IndexByte(b, ' ')
	if sp <= 0 {
		return true
	}
	pi.Request, pi.Method = true, sip.ParseMethod(b[:sp])
	return r.filter.PeekWants(pi)
}

// ownMedia hands a media datagram to an inline handler that checks it for
// copies itself (OwnDuplicates), straight from the decoded packet: it is
// udp and deliverMedia for the trunk's RTP, without their arguments.
func (r *reader) ownMedia(p *packet.Packet) {
	m := &r.media
	m.Frame, m.Time = r.rec.Frame, r.rec.Time // pcap.Record.Time is UTC
	m.Src, m.Dst = p.SrcAddrPort(), p.DstAddrPort()
	m.Payload, m.IPID = p.Payload, p.IPID
	r.inline.Media(m)
	m.Payload = nil
	if r.dups.dropped {
		r.dups.dropped = false
		r.stats.Duplicates++
	} else {
		r.stats.MediaPackets++
	}
}

// deliverMedia copies a media datagram into the current batch's arena and
// queues it for the handler stage.
func (r *reader) deliverMedia(b []byte, frame int, ts time.Time, src, dst netip.AddrPort) {
	if r.inline != nil {
		// straight from the read buffer: records() recovers a panic
		m := &r.media
		m.Frame, m.Time, m.Src, m.Dst, m.Payload = frame, ts, src, dst, b
		m.IPID = r.pkt.IPID
		r.inline.Media(m)
		m.Payload = nil
		return
	}
	lo := len(r.cur.arena)
	r.cur.arena = append(r.cur.arena, b...)
	r.cur.media = append(r.cur.media, mediaItem{
		nsip: int32(len(r.cur.sips)), lo: int32(lo), hi: int32(len(r.cur.arena)),
		frame: frame, ts: ts.UnixNano(), offset: r.offset,
		src: pack(src), dst: pack(dst),
	})
	r.queued()
}

// peek shows an Inline handler a SIP message at once, on the reading
// goroutine, parsed with sip.Options.Light: what a media analysis needs,
// at half the cost of the full parse the parser goroutine then makes.
// Peek keeps nothing of it, so one Message serves every call.
func (r *reader) peek(raw []byte, frame int, ts time.Time, src, dst netip.AddrPort, tr Transport, enc Encap) {
	m := &r.peeked
	m.File, m.Frame, m.Time, m.Src, m.Dst, m.Transport, m.Encap = r.file, frame, ts.UTC(), src, dst, tr, enc
	if sip.ParseWith(raw, &m.SIP, sip.Options{Light: true, Owned: true}) != nil {
		return // not SIP: the parser will say so
	}
	r.inline.Peek(m)
}

// pending is a SIP message waiting to be parsed (the Message is made in the
// handler stage, which has the time to spare), then to be handled.
type pending struct {
	m        *Message // set by the parser, nil if the bytes are not SIP
	raw      []byte
	offset   int64
	frame    int
	ts       time.Time
	src, dst netip.AddrPort
	tr       Transport
	enc      Encap
}

// mediaItem is a media datagram waiting for the handler: its payload is
// arena[lo:hi] of its batch. It holds no pointer, so queueing the 95% of a
// trunk that is RTP costs the garbage collector nothing.
type mediaItem struct {
	nsip     int32 // SIP messages queued before it in the batch
	lo, hi   int32
	frame    int
	ts       int64 // Unix nanoseconds
	offset   int64
	src, dst packedAddr
}

// packedAddr is a netip.AddrPort without its zone pointer.
type packedAddr struct {
	ip   [16]byte
	port uint16
	v4   bool
}

func pack(ap netip.AddrPort) packedAddr {
	a := ap.Addr()
	return packedAddr{ip: a.As16(), port: ap.Port(), v4: a.Is4()}
}

func (p packedAddr) addrPort() netip.AddrPort {
	if p.v4 {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(p.ip[12:16])), p.port)
	}
	return netip.AddrPortFrom(netip.AddrFrom16(p.ip), p.port)
}

// batch is what goes to the handler stage at once: SIP messages and media
// datagrams, each in capture order, media items saying where they stand
// among the SIP ones, and the bytes of the media payloads.
type batch struct {
	sips  []pending
	media []mediaItem
	arena []byte
}

const (
	batchItems = 256     // items per batch
	batchBytes = 1 << 16 // arena bytes per batch (a batch is sent when either fills)
	nBatches   = 8       // batches in flight; more are never allocated
)

// stage is the handler stage, in two goroutines of its own so that reading
// and decoding, SIP parsing, and the Handler (grouping, media analysis) each
// run beside the others: the parser turns each batch's SIP bytes into
// Messages, then the deliverer hands messages and media to the Handler in
// capture order and recycles the batch.
type stage struct {
	in     chan *batch // to the parser
	out    chan *batch // from the parser to the deliverer
	free   chan *batch
	done   chan struct{}
	pstats Stats // the parser's: SIPMessages, Broken, BadPackets, Warnings
	dstats Stats // the deliverer's: BadPackets, Warnings
	media  Media // reused for each media call
	made   int   // batches made so far (by the reader goroutine)
}

func (r *reader) startStage() {
	st := &stage{
		in:   make(chan *batch, nBatches),
		out:  make(chan *batch, nBatches),
		free: make(chan *batch, nBatches),
		done: make(chan struct{}),
	}
	st.media.File = r.file
	r.st = st
	r.cur = st.newBatch()
	go func() { // the parser
		defer close(st.out)
		for b := range st.in {
			for i := range b.sips {
				r.parse(&st.pstats, &b.sips[i])
			}
			st.out <- b
		}
	}()
	go func() { // the deliverer
		defer close(st.done)
		for b := range st.out {
			var si, mj int
			for !r.deliverBatch(st, b, &si, &mj) {
				// an item panicked: it was counted; go on with the next
			}
			clear(b.sips) // release the messages
			b.sips, b.media, b.arena = b.sips[:0], b.media[:0], b.arena[:0]
			st.free <- b
		}
	}()
}

// queued sends the current batch once it is full.
func (r *reader) queued() {
	if len(r.cur.sips) == cap(r.cur.sips) || len(r.cur.media) == cap(r.cur.media) || len(r.cur.arena) >= batchBytes {
		r.flushBatch()
	}
}

func (r *reader) flushBatch() {
	if len(r.cur.sips) == 0 && len(r.cur.media) == 0 {
		return
	}
	r.st.in <- r.cur
	select {
	case r.cur = <-r.st.free:
	default:
		if r.st.made < nBatches { // made as they are needed: a small file takes one
			r.cur = r.st.newBatch()
		} else {
			r.cur = <-r.st.free
		}
	}
}

// newBatch makes one of the nBatches batches.
func (st *stage) newBatch() *batch {
	st.made++
	return &batch{
		sips:  make([]pending, 0, batchItems),
		media: make([]mediaItem, 0, batchItems),
		arena: make([]byte, 0, batchBytes+2048),
	}
}

// stopStage waits for the handler stage to finish and merges its counts.
func (r *reader) stopStage() {
	if r.st == nil {
		return
	}
	r.flushBatch()
	close(r.st.in)
	<-r.st.done
	for _, ps := range []*Stats{&r.st.pstats, &r.st.dstats} {
		r.stats.SIPMessages += ps.SIPMessages
		r.stats.Broken += ps.Broken
		r.stats.BadPackets += ps.BadPackets
		for _, w := range ps.Warnings {
			r.warnTo(&r.stats, w)
		}
	}
	r.st = nil
}

// deliverBatch hands the items of b from sips[*si] and media[*mj] on to
// the Handler, in capture order, and reports whether it got to the end. A
// panic in the Handler becomes a counted warning on that item's frame and
// ends the call early, the item skipped: one deferred recover per run of
// items, not per packet.
func (r *reader) deliverBatch(st *stage, b *batch, si, mj *int) (done bool) {
	var frame int
	var offset int64
	defer func() {
		if v := recover(); v != nil {
			st.dstats.BadPackets++
			r.warnTo(&st.dstats, Warning{File: r.file, Frame: frame, Offset: offset, Err: fmt.Errorf("%w: %v", ErrPanic, v)})
		}
	}()
	m := &st.media
	for {
		switch {
		case *mj < len(b.media) && *si >= int(b.media[*mj].nsip):
			mi := &b.media[*mj]
			*mj++
			frame, offset = mi.frame, mi.offset
			m.Frame, m.Time = mi.frame, time.Unix(0, mi.ts).UTC()
			m.Src, m.Dst = mi.src.addrPort(), mi.dst.addrPort()
			m.Payload = b.arena[mi.lo:mi.hi:mi.hi]
			r.h.Media(m)
			m.Payload = nil
		case *si < len(b.sips):
			p := &b.sips[*si]
			*si++
			if p.m == nil {
				continue // not SIP after all: the parser said so
			}
			frame, offset = p.frame, p.offset
			r.h.SIP(p.m)
			if r.opts.ReuseMessages { // the handler said it keeps nothing of it
				raw := p.raw[:cap(p.raw)]
				r.raws.Put(&raw)
				r.msgs.Put(p.m)
			}
		default:
			return true
		}
	}
}

// parse tokenizes one message into p.m (nil if it is not SIP), counting
// into st. A panic in the parser becomes a counted warning.
func (r *reader) parse(st *Stats, p *pending) {
	defer func() {
		if v := recover(); v != nil {
			p.m = nil
			st.BadPackets++
			r.warnTo(st, Warning{File: r.file, Frame: p.frame, Offset: p.offset, Err: fmt.Errorf("%w: %v", ErrPanic, v)})
		}
	}()
	var m *Message
	if r.opts.ReuseMessages {
		m, _ = r.msgs.Get().(*Message)
	}
	if m == nil {
		m = new(Message)
	}
	// ParseWith resets m.SIP, keeping the capacity of its slices.
	m.File, m.Frame, m.Time, m.Src, m.Dst, m.Transport, m.Encap = r.file, p.frame, p.ts.UTC(), p.src, p.dst, p.tr, p.enc
	if err := sip.ParseWith(p.raw, &m.SIP, sip.Options{NoSDP: r.opts.NoSDP, Owned: true}); err != nil {
		r.warnTo(st, Warning{File: r.file, Frame: p.frame, Offset: p.offset, Err: err})
		if r.opts.ReuseMessages {
			r.msgs.Put(m)
		}
		return
	}
	st.SIPMessages++
	if len(m.SIP.Problems) > 0 {
		st.Broken++
	}
	p.m = m
}

// isEventEnd reports an RFC 4733 end-of-event packet: a bare RTP header and
// a 4-byte event with the E bit. The sender repeats it identically (three
// times, by the RFC's advice) back to back, so over IPv6, where no IP ID
// tells them apart, it would pass for a capture duplicate.
func isEventEnd(b []byte) bool {
	return len(b) == 16 && b[0] == 0x80 && b[13]&0x80 != 0
}

// isKeepalive reports CRLF keepalives (RFC 5626), zero-filled datagrams and
// STUN messages.
func isKeepalive(b []byte) bool {
	if len(b) == 0 {
		return true
	}
	if len(b) <= 4 {
		allCRLF, allZero := true, true
		for _, c := range b {
			allCRLF = allCRLF && (c == '\r' || c == '\n')
			allZero = allZero && c == 0
		}
		if allCRLF || allZero {
			return true
		}
	}
	// STUN: top two bits zero, length a multiple of 4 matching the
	// datagram, magic cookie 0x2112A442.
	if len(b) >= 20 && b[0]&0xc0 == 0 && b[4] == 0x21 && b[5] == 0x12 && b[6] == 0xa4 && b[7] == 0x42 &&
		int(b[2])<<8|int(b[3]) == len(b)-20 {
		return true
	}
	return false
}

// dedup remembers packet hashes for a short capture-time window. The table
// is two generations of open-addressing slots, each covering half the
// retention: when the newer one is older than that, the older one is cleared
// and takes its place. No entry is ever deleted on its own, so the hot path
// is one insert and at most two probes, and it does not allocate once the
// tables have grown to the traffic's rate. An entry is one word (44 bits of
// hash, 20 bits of time in 100 µs ticks), so a busy trunk's second of
// packets stays within the processor's cache.
type dedup struct {
	window int64 // in ticks
	retain int64 // how long entries stay, behind the latest time seen (ns)
	latest int64
	start  int64 // latest time when the current generation began
	cur    int
	gens   [2]dupGen
}

type dupGen struct {
	slots []uint64 // hash bits | time ticks; 0 is empty
	n     int
}

const (
	dupTick     = int64(100 * time.Microsecond)
	dupTimeBits = 20 // 2^20 ticks = 104 s, far more than the retention
	dupTimeMask = 1<<dupTimeBits - 1
)

// maxDedup bounds one generation; a fuller one ends early.
const maxDedup = 1 << 21

// dedupRetain is how long a packet is remembered, in capture time behind the
// latest packet. It is much longer than the window because a capture of
// several interfaces (dumpcap -i a -i b) writes each interface's packets in
// batches: the second copy of a packet can come a few hundred packets later
// in the file, yet carry a time within microseconds of the first.
//
// A classic pcap holds one interface (or interfaces merged in time order by
// mergecap or tcpdump -i any), whose copies of a packet lie close together
// in the file: dedupRetainOne covers the reordering of a multi-processor
// capture with room to spare, and keeps the table small enough for the
// processor's cache on a trunk (64 KB at 12,000 packets a second).
const (
	dedupRetain    = int64(2 * time.Second)
	dedupRetainOne = int64(200 * time.Millisecond)
)

func (d *dedup) init(window, retain int64) {
	d.window = max(window/dupTick, 1)
	d.retain = max(window, retain)
	for i := range d.gens {
		d.gens[i].slots = make([]uint64, 1024)
	}
}

// seen reports whether h was recorded within the window of ts, recording it
// otherwise.
func (d *dedup) seen(h uint64, ts int64) bool {
	key := h &^ dupTimeMask
	if key == 0 {
		key = 1 << dupTimeBits
	}
	tick := uint64(ts/dupTick) & dupTimeMask
	if ts > d.latest {
		d.latest = ts
	}
	if d.latest-d.start > d.retain/2 || d.gens[d.cur].n >= maxDedup {
		d.cur ^= 1
		g := &d.gens[d.cur]
		clear(g.slots)
		g.n = 0
		d.start = d.latest
	}
	for k := range d.gens {
		g := &d.gens[k]
		mask := len(g.slots) - 1
		for i := int(key>>dupTimeBits) & mask; g.slots[i] != 0; i = (i + 1) & mask {
			if e := g.slots[i]; e&^dupTimeMask == key {
				// time difference in ticks, modulo 2^20, as a signed number
				dt := int64((tick-e&dupTimeMask)&dupTimeMask) << (64 - dupTimeBits) >> (64 - dupTimeBits)
				if dt <= d.window && dt >= -d.window {
					return true
				}
			}
		}
	}
	g := &d.gens[d.cur]
	if 2*(g.n+1) > len(g.slots) {
		g.grow()
	}
	g.insert(key | tick)
	return false
}

func (g *dupGen) insert(e uint64) {
	mask := len(g.slots) - 1
	i := int(e>>dupTimeBits) & mask
	for g.slots[i] != 0 {
		i = (i + 1) & mask
	}
	g.slots[i] = e
	g.n++
}

func (g *dupGen) grow() {
	old := g.slots
	g.slots = make([]uint64, 2*len(old))
	g.n = 0
	for _, e := range old {
		if e != 0 {
			g.insert(e)
		}
	}
}
