package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"strconv"
	"time"

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

	dec   *packet.Decoder
	pkt   packet.Packet
	hp    hep.Packet
	asm   *tcp.Assembler
	rec   pcap.Record
	media Media
	dup   dedup
	hash  maphash.Hash
	tls   map[tcp.Key]int // open TLS streams per connection (canonical key)

	par   *parser   // the parse stage, nil when parsing inline
	batch []pending // messages for the next hand-over to par

	// The frame being processed, for warnings raised inside callbacks.
	frame  int
	offset int64
}

func read(ctx context.Context, name string, pr *pcap.Reader, opts Options, h Handler) (Stats, error) {
	r := &reader{file: name, opts: opts, h: h, dec: packet.NewDecoder(), tls: map[tcp.Key]int{}}
	r.stats.Files = 1
	r.media.File = name
	win := opts.DuplicateWindow
	if win <= 0 {
		win = DefaultDuplicateWindow
	}
	r.dup.init(int64(win))
	r.asm = tcp.NewAssembler(tcp.Config{}, (*tcpConsumer)(r))
	if !opts.Media {
		r.startParser()
	}
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
	defer r.stopParser()
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
	ok, err := r.dec.Decode(r.rec.LinkType, r.rec.Data, r.rec.Time, p)
	if err != nil {
		r.stats.BadPackets++
		r.warn(r.rec.Frame, r.rec.Offset, err)
		return
	}
	if !ok {
		return
	}
	enc := EncapNone
	if p.Tunneled {
		enc = EncapTunnel
	}
	src, dst := p.SrcAddrPort(), p.DstAddrPort()
	ts := r.rec.Time.UTC()
	switch p.Proto {
	case packet.ProtoUDP:
		// Media nobody asked for is counted, not hashed: on a trunk it is
		// 95% of the packets, and the duplicate check is most of its cost.
		if !r.opts.Media && !hep.IsHEP(p.Payload) && !sip.IsStart(p.Payload) {
			if !isKeepalive(p.Payload) {
				r.stats.MediaPackets++
			}
			return
		}
		if r.duplicate(src, dst, p.Proto, p.IPID, 0, p.Payload, ts) {
			return
		}
		r.udp(p.Payload, r.rec.Frame, ts, src, dst, enc)
	case packet.ProtoTCP:
		if len(p.Payload) > 0 && r.duplicate(src, dst, p.Proto, p.IPID, p.Seq, p.Payload, ts) {
			return
		}
		r.asm.Add(ts, r.rec.Frame, src, dst, p.Seq, p.Flags, p.Payload)
	}
}

// duplicate reports whether an identical packet was seen within the window:
// same addresses, ports, IP identification and payload. The IP ID tells a
// packet captured twice (same ID) from one an application sent twice, such
// as the three identical RFC 4733 end-of-event packets (new IDs).
func (r *reader) duplicate(src, dst netip.AddrPort, proto uint8, ipid, seq uint32, payload []byte, ts time.Time) bool {
	if r.opts.KeepDuplicates || isEventEnd(payload) {
		return false
	}
	var k [16 + 16 + 2 + 2 + 1 + 4 + 4]byte
	a, b := src.Addr().As16(), dst.Addr().As16()
	copy(k[0:], a[:])
	copy(k[16:], b[:])
	k[32], k[33] = byte(src.Port()>>8), byte(src.Port())
	k[34], k[35] = byte(dst.Port()>>8), byte(dst.Port())
	k[36] = proto
	k[37], k[38], k[39], k[40] = byte(seq>>24), byte(seq>>16), byte(seq>>8), byte(seq)
	k[41], k[42], k[43], k[44] = byte(ipid>>24), byte(ipid>>16), byte(ipid>>8), byte(ipid)
	r.hash.Reset()
	r.hash.Write(k[:])
	r.hash.Write(payload)
	if r.dup.seen(r.hash.Sum64(), ts.UnixNano()) {
		r.stats.Duplicates++
		return true
	}
	return false
}

// udp handles one UDP datagram: HEP, SIP, keepalive or media.
func (r *reader) udp(b []byte, frame int, ts time.Time, src, dst netip.AddrPort, enc Encap) {
	if hep.IsHEP(b) {
		r.hepPacket(b, frame, ts)
		return
	}
	if isKeepalive(b) {
		r.stats.Keepalives++
		return
	}
	if sip.IsStart(b) {
		r.datagram(b, frame, ts, src, dst, UDP, enc)
		return
	}
	r.stats.MediaPackets++
	if r.opts.Media {
		m := &r.media
		m.Frame, m.Time, m.Src, m.Dst, m.Payload = frame, ts, src, dst, b
		r.h.Media(m)
		m.Payload = nil
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
		n, complete, err := sip.MessageLen(b)
		if err == nil && complete && n < len(b) {
			rest := bytes.TrimLeft(b[n:], "\r\n")
			if sip.IsStart(rest) {
				r.deliver(b[:n], frame, ts, src, dst, tr, enc)
				b = rest
				continue
			}
		}
		r.deliver(b, frame, ts, src, dst, tr, enc)
		return
	}
}

// deliver copies one message's bytes (the one copy out of the read buffers)
// and hands it to the parse stage: inline when media is delivered too (the
// handler then sees SIP and media in capture order), else in batches to the
// parser goroutine, so that reading and parsing use two cores.
func (r *reader) deliver(b []byte, frame int, ts time.Time, src, dst netip.AddrPort, tr Transport, enc Encap) {
	m := &Message{File: r.file, Frame: frame, Time: ts.UTC(), Src: src, Dst: dst, Transport: tr, Encap: enc}
	raw := make([]byte, len(b))
	copy(raw, b)
	if r.par == nil {
		r.parse(&r.stats, pending{m: m, raw: raw, offset: r.offset})
		return
	}
	r.batch = append(r.batch, pending{m: m, raw: raw, offset: r.offset})
	if len(r.batch) == cap(r.batch) {
		r.flushBatch()
	}
}

// pending is a message waiting for the parse stage.
type pending struct {
	m      *Message
	raw    []byte
	offset int64
}

// batchSize is how many messages go to the parser goroutine at once.
const batchSize = 64

// parser is the parse stage running in its own goroutine.
type parser struct {
	in    chan []pending
	done  chan struct{}
	stats Stats // SIPMessages, Broken and Warnings counted by the stage
}

func (r *reader) startParser() {
	r.par = &parser{in: make(chan []pending, 4), done: make(chan struct{})}
	r.batch = make([]pending, 0, batchSize)
	go func() {
		defer close(r.par.done)
		for batch := range r.par.in {
			for _, p := range batch {
				r.parse(&r.par.stats, p)
			}
		}
	}()
}

func (r *reader) flushBatch() {
	if len(r.batch) == 0 {
		return
	}
	r.par.in <- r.batch
	r.batch = make([]pending, 0, batchSize)
}

// stopParser waits for the parse stage to finish and merges its counts.
func (r *reader) stopParser() {
	if r.par == nil {
		return
	}
	r.flushBatch()
	close(r.par.in)
	<-r.par.done
	ps := &r.par.stats
	r.stats.SIPMessages += ps.SIPMessages
	r.stats.Broken += ps.Broken
	r.stats.BadPackets += ps.BadPackets
	for _, w := range ps.Warnings {
		r.warnTo(&r.stats, w)
	}
	r.par = nil
}

// parse tokenizes one message and hands it to the handler, counting into st.
// A panic in the parser or the handler becomes a counted warning.
func (r *reader) parse(st *Stats, p pending) {
	defer func() {
		if v := recover(); v != nil {
			st.BadPackets++
			r.warnTo(st, Warning{File: r.file, Frame: p.m.Frame, Offset: p.offset, Err: fmt.Errorf("%w: %v", ErrPanic, v)})
		}
	}()
	if err := sip.ParseWith(p.raw, &p.m.SIP, sip.Options{NoSDP: r.opts.NoSDP}); err != nil {
		r.warnTo(st, Warning{File: r.file, Frame: p.m.Frame, Offset: p.offset, Err: err})
		return
	}
	st.SIPMessages++
	if len(p.m.SIP.Problems) > 0 {
		st.Broken++
	}
	r.h.SIP(p.m)
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

// dedup remembers packet hashes for a short capture-time window, in a
// fixed-size open-addressing table plus a ring in arrival order, so the hot
// path does not allocate once warmed up.
type dedup struct {
	window int64
	retain int64 // how long entries stay, behind the latest time seen
	latest int64
	ring   []dupEntry // circular, arrival order
	head   int
	n      int
	slots  []dupEntry // open addressing, h == 0 is empty
}

type dupEntry struct {
	h  uint64
	ts int64
}

const maxDedup = 1 << 20

// dedupRetain is how long a packet is remembered, in capture time behind the
// latest packet. It is much longer than the window because a capture of
// several interfaces (dumpcap -i a -i b) writes each interface's packets in
// batches: the second copy of a packet can come a few hundred packets later
// in the file, yet carry a time within microseconds of the first.
const dedupRetain = int64(2 * time.Second)

func (d *dedup) init(window int64) {
	d.window = window
	d.retain = max(window, dedupRetain)
	d.ring = make([]dupEntry, 1024)
	d.slots = make([]dupEntry, 2048)
}

// seen reports whether h was recorded within the window of ts, recording it
// otherwise.
func (d *dedup) seen(h uint64, ts int64) bool {
	if h == 0 {
		h = 1
	}
	d.latest = max(d.latest, ts)
	for d.n > 0 {
		e := d.ring[d.head]
		if d.latest-e.ts <= d.retain && d.n < maxDedup {
			break
		}
		d.remove(e)
		d.head = (d.head + 1) & (len(d.ring) - 1)
		d.n--
	}
	mask := len(d.slots) - 1
	for i := int(h) & mask; d.slots[i].h != 0; i = (i + 1) & mask {
		if d.slots[i].h == h {
			if dt := ts - d.slots[i].ts; dt <= d.window && dt >= -d.window {
				return true
			}
			d.slots[i].ts = ts // same packet long before (time went backwards)
			d.push(h, ts)
			return false
		}
	}
	if d.n == len(d.ring) {
		d.grow()
	}
	d.insert(h, ts)
	d.push(h, ts)
	return false
}

func (d *dedup) push(h uint64, ts int64) {
	if d.n == len(d.ring) {
		d.grow()
	}
	d.ring[(d.head+d.n)&(len(d.ring)-1)] = dupEntry{h, ts}
	d.n++
}

func (d *dedup) insert(h uint64, ts int64) {
	mask := len(d.slots) - 1
	i := int(h) & mask
	for d.slots[i].h != 0 {
		i = (i + 1) & mask
	}
	d.slots[i] = dupEntry{h, ts}
}

// remove deletes e from the table if it is still the live entry for e.h,
// with backward-shift deletion.
func (d *dedup) remove(e dupEntry) {
	mask := len(d.slots) - 1
	i := int(e.h) & mask
	for d.slots[i].h != e.h {
		if d.slots[i].h == 0 {
			return
		}
		i = (i + 1) & mask
	}
	if d.slots[i].ts != e.ts {
		return
	}
	for j := i; ; {
		d.slots[i].h = 0
		for {
			j = (j + 1) & mask
			if d.slots[j].h == 0 {
				return
			}
			k := int(d.slots[j].h) & mask
			// Move j to i unless its home k lies cyclically in (i, j].
			if (i <= j && (k <= i || k > j)) || (i > j && k <= i && k > j) {
				break
			}
		}
		d.slots[i] = d.slots[j]
		i = j
	}
}

// grow doubles the ring and the table.
func (d *dedup) grow() {
	ring := make([]dupEntry, 2*len(d.ring))
	for i := 0; i < d.n; i++ {
		ring[i] = d.ring[(d.head+i)&(len(d.ring)-1)]
	}
	d.ring, d.head = ring, 0
	old := d.slots
	d.slots = make([]dupEntry, 2*len(ring))
	for _, e := range old {
		if e.h != 0 {
			d.insert(e.h, e.ts)
		}
	}
}
