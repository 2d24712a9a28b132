// Package tcp reassembles TCP byte streams for SIP-sized traffic.
//
// Each direction of a connection is a Stream keyed by its source and
// destination address. Segments are delivered in sequence order:
// retransmitted bytes are dropped, out-of-order segments wait until the gap
// before them fills (up to Config.MaxBuffered bytes, then the gap is skipped
// and recorded). A SYN sets the initial sequence number; a stream picked up
// mid-flow starts at the first segment seen with data. FIN and RST close,
// idle streams expire by capture time, and the number of streams is capped
// (the least recently active is evicted), so memory stays bounded.
//
// The Consumer frames messages out of Stream.Buffered and calls
// Stream.Consume; FrameAt tells which frame and time completed a byte, so a
// message gets the frame of the segment that carried its last byte, as
// Wireshark reports it.
package tcp

import (
	"net/netip"
	"slices"
	"time"
)

// TCP flags, as in the TCP header (and parse/packet).
const (
	FlagFIN = 1
	FlagSYN = 2
	FlagRST = 4
	FlagPSH = 8
	FlagACK = 16
)

// Key is one direction of a TCP connection.
type Key struct {
	Src, Dst netip.AddrPort
}

// Reverse returns the key of the opposite direction.
func (k Key) Reverse() Key { return Key{k.Dst, k.Src} }

// Config bounds an Assembler. Zero fields take the defaults.
type Config struct {
	MaxStreams  int           // streams kept at once; default 100000
	MaxBuffered int           // bytes per stream, in order plus out of order; default 1 MiB
	IdleTimeout time.Duration // capture time without a segment before a stream is closed; default 5 min
}

// Consumer receives stream data.
type Consumer interface {
	// Data is called when new in-order bytes are in s.Buffered(). The
	// consumer frames what it can and calls s.Consume.
	Data(s *Stream)
	// Closed is called once when the stream ends: FIN, RST, idle expiry,
	// eviction or Flush. Buffered() holds what was never consumed. The
	// Stream must not be used after Closed returns.
	Closed(s *Stream)
}

// Stats counts what the assembler did.
type Stats struct {
	Streams        int // streams opened
	Evicted        int // closed because MaxStreams was reached
	Expired        int // closed after IdleTimeout
	Gaps           int // holes skipped (missing bytes) and overflows discarded
	Retransmitted  int // segments that carried no new byte
	OutOfOrder     int // segments buffered ahead of a hole
	DiscardedBytes int // in-order bytes dropped because the consumer left more than MaxBuffered
}

// Stream is one direction of a connection.
type Stream struct {
	Key Key
	// Ctx is the consumer's own state for this stream; the assembler never
	// touches it.
	Ctx any

	buf    []byte // buf[start:] is what Buffered returns
	start  int
	base   uint64 // delivered-byte offset of buf[0]
	next   uint32 // sequence number of the next expected byte
	seqEnd uint64 // the same, counted from the first byte (holes included)
	marks  []mark // frame and time that completed each range of buf, in order
	gaps   []uint64

	pending      []segment // out of order, sorted by offset
	pendingBytes int

	syn      bool
	fin      bool   // a FIN was seen; close when next reaches finSeq
	finSeq   uint32 // sequence number of the FIN
	closed   bool
	lastSeen time.Time
	prev     *Stream // LRU list, least recent first
	nextS    *Stream
}

type mark struct {
	end   uint64 // absolute offset one past the last byte of the range
	frame int
	ts    time.Time
}

type segment struct {
	off   uint64 // sequence offset from the first byte (holes included)
	data  []byte
	frame int
	ts    time.Time
}

// Buffered returns the in-order bytes not yet consumed. The slice is valid
// until the next call into the Assembler or Consume.
func (s *Stream) Buffered() []byte { return s.buf[s.start:] }

// Offset returns the offset of Buffered()[0] among the bytes delivered so
// far (0 is the first byte after the SYN, or the first byte seen); skipped
// holes do not count.
func (s *Stream) Offset() uint64 { return s.base + uint64(s.start) }

// Consume discards the first n buffered bytes.
func (s *Stream) Consume(n int) {
	n = min(max(n, 0), len(s.buf)-s.start)
	s.start += n
	off := s.Offset()
	i := 0
	for i < len(s.marks)-1 && s.marks[i].end <= off {
		i++
	}
	if i > 0 {
		s.marks = append(s.marks[:0], s.marks[i:]...)
	}
	for len(s.gaps) > 0 && s.gaps[0] <= off {
		s.gaps = s.gaps[1:]
	}
	if s.start == len(s.buf) {
		s.base += uint64(s.start)
		s.buf, s.start = s.buf[:0], 0
	}
}

// FrameAt returns the frame number and time of the segment that completed
// byte i of Buffered(): the segment that carried it or, for bytes that
// waited out of order, the segment that filled the hole before them.
func (s *Stream) FrameAt(i int) (frame int, ts time.Time) {
	off := s.Offset() + uint64(max(i, 0))
	j, _ := slices.BinarySearchFunc(s.marks, off, func(m mark, off uint64) int {
		if m.end <= off {
			return -1
		}
		return 1
	})
	if j >= len(s.marks) {
		j = len(s.marks) - 1
	}
	if j < 0 {
		return 0, time.Time{}
	}
	return s.marks[j].frame, s.marks[j].ts
}

// GapAt returns the offset in Buffered() of the first byte that follows a
// hole (missing bytes were skipped just before it), or -1. A message that
// does not end before it cannot be complete; consuming up to or past it
// clears it.
func (s *Stream) GapAt() int {
	if len(s.gaps) == 0 {
		return -1
	}
	return int(s.gaps[0] - s.Offset())
}

// Closed reports whether the stream has ended (set before Consumer.Closed).
func (s *Stream) Closed() bool { return s.closed }

// Assembler reassembles every stream of a capture. It is not safe for
// concurrent use.
type Assembler struct {
	cfg     Config
	c       Consumer
	streams map[Key]*Stream
	head    *Stream // least recently active
	tail    *Stream
	now     time.Time
	stats   Stats
	free    []*Stream

	// Closed streams remembered for a while, so late retransmissions do
	// not open a new stream and deliver the bytes twice.
	tombs     map[Key]tomb
	tombOrder []tombRef
}

type tomb struct {
	next uint32
	ts   time.Time
}

type tombRef struct {
	k  Key
	ts time.Time
}

// bury remembers a closed stream's next sequence number, pruning old ones.
func (a *Assembler) bury(s *Stream) {
	for len(a.tombOrder) > 0 {
		r := a.tombOrder[0]
		if a.now.Sub(r.ts) <= a.cfg.IdleTimeout && len(a.tombOrder) < a.cfg.MaxStreams {
			break
		}
		if t, ok := a.tombs[r.k]; ok && t.ts.Equal(r.ts) {
			delete(a.tombs, r.k)
		}
		a.tombOrder = a.tombOrder[1:]
	}
	if len(a.tombOrder) == 0 {
		a.tombOrder = a.tombOrder[:0:0]
	}
	a.tombs[s.Key] = tomb{s.next, s.lastSeen}
	a.tombOrder = append(a.tombOrder, tombRef{s.Key, s.lastSeen})
}

// NewAssembler returns an Assembler that feeds c.
func NewAssembler(cfg Config, c Consumer) *Assembler {
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = 100000
	}
	if cfg.MaxBuffered <= 0 {
		cfg.MaxBuffered = 1 << 20
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 5 * time.Minute
	}
	return &Assembler{cfg: cfg, c: c, streams: make(map[Key]*Stream), tombs: make(map[Key]tomb)}
}

// Stats returns the counts so far.
func (a *Assembler) Stats() Stats { return a.stats }

// Len returns the number of open streams.
func (a *Assembler) Len() int { return len(a.streams) }

// Add takes one TCP segment. payload is copied when needed and may be
// reused after Add returns. ts is the capture time, which drives idle
// expiry; frame is recorded for FrameAt.
func (a *Assembler) Add(ts time.Time, frame int, src, dst netip.AddrPort, seq uint32, flags uint8, payload []byte) {
	if ts.After(a.now) {
		a.now = ts
	}
	a.expire()
	k := Key{src, dst}
	s := a.streams[k]
	if flags&FlagRST != 0 {
		if s != nil {
			a.addData(s, ts, frame, seq, payload)
			a.close(s)
		}
		if r := a.streams[k.Reverse()]; r != nil {
			a.close(r)
		}
		return
	}
	if flags&FlagSYN != 0 {
		if s != nil && s.syn && s.next == seq+1 && s.Offset() == 0 && len(s.buf) == 0 {
			a.touch(s, ts) // retransmitted SYN
			return
		}
		if s != nil {
			a.close(s) // port reuse
		}
		s = a.open(k, ts)
		s.syn, s.next = true, seq+1
		seq++
		if len(payload) == 0 {
			return
		}
	}
	if s == nil {
		if len(payload) == 0 {
			return // a bare ACK or FIN of a stream we do not know
		}
		if tb, ok := a.tombs[k]; ok {
			// A late retransmission of a closed stream carries nothing new.
			d := int32(seq - tb.next)
			if int64(d)+int64(len(payload)) <= 0 {
				a.stats.Retransmitted++
				return
			}
			if d < 0 {
				payload, seq = payload[-d:], tb.next
			}
			delete(a.tombs, k)
		}
		s = a.open(k, ts)
		s.next = seq
	}
	a.touch(s, ts)
	a.addData(s, ts, frame, seq, payload)
	if flags&FlagFIN != 0 && !s.fin {
		s.fin, s.finSeq = true, seq+uint32(len(payload))
	}
	if s.fin && int32(s.next-s.finSeq) >= 0 {
		a.close(s)
	}
}

// Flush closes every stream, least recently active first. Call it at the
// end of the capture.
func (a *Assembler) Flush() {
	for a.head != nil {
		a.close(a.head)
	}
}

func (a *Assembler) open(k Key, ts time.Time) *Stream {
	if len(a.streams) >= a.cfg.MaxStreams && a.head != nil {
		a.stats.Evicted++
		a.close(a.head)
	}
	var s *Stream
	if n := len(a.free); n > 0 {
		s, a.free = a.free[n-1], a.free[:n-1]
		buf := s.buf[:0]
		marks := s.marks[:0]
		*s = Stream{buf: buf, marks: marks}
	} else {
		s = &Stream{}
	}
	s.Key, s.lastSeen = k, ts
	a.streams[k] = s
	a.stats.Streams++
	s.prev = a.tail
	if a.tail != nil {
		a.tail.nextS = s
	} else {
		a.head = s
	}
	a.tail = s
	return s
}

func (a *Assembler) unlink(s *Stream) {
	if s.prev != nil {
		s.prev.nextS = s.nextS
	} else {
		a.head = s.nextS
	}
	if s.nextS != nil {
		s.nextS.prev = s.prev
	} else {
		a.tail = s.prev
	}
	s.prev, s.nextS = nil, nil
}

func (a *Assembler) touch(s *Stream, ts time.Time) {
	if ts.After(s.lastSeen) {
		s.lastSeen = ts
	}
	if a.tail == s {
		return
	}
	a.unlink(s)
	s.prev = a.tail
	a.tail.nextS = s
	a.tail = s
}

func (a *Assembler) expire() {
	for a.head != nil && a.now.Sub(a.head.lastSeen) > a.cfg.IdleTimeout {
		a.stats.Expired++
		a.close(a.head)
	}
}

// close delivers what waits behind holes, then ends the stream.
func (a *Assembler) close(s *Stream) {
	if len(s.pending) > 0 {
		a.skipGap(s)
		a.deliver(s)
	}
	s.closed = true
	a.unlink(s)
	delete(a.streams, s.Key)
	a.bury(s)
	a.c.Closed(s)
	s.Ctx = nil
	s.pending = nil
	if cap(s.buf) <= 64<<10 && len(a.free) < 64 {
		a.free = append(a.free, s)
	}
}

// addData places one segment's payload.
func (a *Assembler) addData(s *Stream, ts time.Time, frame int, seq uint32, p []byte) {
	if len(p) == 0 {
		return
	}
	d := int64(int32(seq - s.next))
	if d <= 0 {
		if -d >= int64(len(p)) {
			a.stats.Retransmitted++
			return
		}
		p = p[-d:]
		s.buf = append(s.buf, p...)
		s.next += uint32(len(p))
		s.seqEnd += uint64(len(p))
		s.marks = append(s.marks, mark{s.base + uint64(len(s.buf)), frame, ts})
		if len(s.pending) > 0 {
			a.drain(s, frame, ts)
		}
		a.deliver(s)
		return
	}
	// Ahead of a hole: keep a copy, in sequence order.
	a.stats.OutOfOrder++
	seg := segment{off: s.seqEnd + uint64(d), data: append([]byte(nil), p...), frame: frame, ts: ts}
	i, _ := slices.BinarySearchFunc(s.pending, seg.off, func(g segment, off uint64) int {
		if g.off <= off {
			return -1
		}
		return 1
	})
	s.pending = slices.Insert(s.pending, i, seg)
	s.pendingBytes += len(p)
	if s.pendingBytes+len(s.buf)-s.start > a.cfg.MaxBuffered {
		a.skipGap(s)
		a.deliver(s)
	}
}

// drain moves pending segments that now touch the in-order end into buf,
// marking them completed by frame/ts.
func (a *Assembler) drain(s *Stream, frame int, ts time.Time) {
	i := 0
	for ; i < len(s.pending); i++ {
		g := s.pending[i]
		if g.off > s.seqEnd {
			break
		}
		s.pendingBytes -= len(g.data)
		if skip := s.seqEnd - g.off; skip < uint64(len(g.data)) {
			n := uint64(len(g.data)) - skip
			s.buf = append(s.buf, g.data[skip:]...)
			s.next += uint32(n)
			s.seqEnd += n
		}
	}
	if i > 0 {
		s.pending = append(s.pending[:0], s.pending[i:]...)
		end := s.base + uint64(len(s.buf))
		if m := len(s.marks); m > 0 && s.marks[m-1].frame == frame && s.marks[m-1].ts.Equal(ts) {
			s.marks[m-1].end = end
		} else {
			s.marks = append(s.marks, mark{end, frame, ts})
		}
	}
}

// skipGap gives up on the hole before the first pending segment: the bytes
// after it follow the buffered ones directly, with a gap marker between.
func (a *Assembler) skipGap(s *Stream) {
	if len(s.pending) == 0 {
		return
	}
	g := s.pending[0]
	s.next += uint32(g.off - s.seqEnd)
	s.seqEnd = g.off
	a.stats.Gaps++
	s.gaps = append(s.gaps, s.base+uint64(len(s.buf)))
	a.drain(s, g.frame, g.ts)
}

// deliver hands new bytes to the consumer and enforces MaxBuffered on what
// it leaves.
func (a *Assembler) deliver(s *Stream) {
	if len(s.buf) == s.start {
		return
	}
	a.c.Data(s)
	if n := len(s.buf) - s.start; n > a.cfg.MaxBuffered {
		a.stats.DiscardedBytes += n
		a.stats.Gaps++
		s.Consume(n)
		s.gaps = append(s.gaps[:0], s.Offset())
		s.marks = s.marks[:0]
	} else if s.start > 0 && s.start >= len(s.buf)/2 {
		// Compact: move the unconsumed tail to the front.
		n := copy(s.buf, s.buf[s.start:])
		s.base += uint64(s.start)
		s.buf, s.start = s.buf[:n], 0
	}
}
