package packet

import (
	"net/netip"
	"slices"
	"time"
)

// fragKey identifies the fragments of one datagram.
type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
	v6       bool
}

type span struct{ lo, hi int }

// fragSet is one datagram being reassembled.
type fragSet struct {
	key   fragKey
	first time.Time // capture time of the first fragment seen
	seq   uint64
	buf   []byte // fragment data at its offset
	have  []span // sorted, merged ranges of buf received
	total int    // payload length, -1 until the last fragment arrives
}

type orderEntry struct {
	key fragKey
	seq uint64
}

// maxFree bounds the recycled fragment sets kept by a Decoder.
const maxFree = 16

// addFragment stores one fragment. When the datagram is complete it returns
// its payload (owned by the Decoder, valid until the next Decode) and done.
// limit is the largest payload the datagram may have.
func (d *Decoder) addFragment(key fragKey, off int, data []byte, more bool, ts time.Time, limit int) ([]byte, bool, error) {
	d.stats.Fragments++
	end := off + len(data)
	s := d.sets[key]
	if end > limit {
		if s != nil {
			d.drop(s)
		}
		d.stats.Oversize++
		return nil, false, malformed("fragment at offset %d with %d bytes ends past %d", off, len(data), limit)
	}
	if s == nil {
		s = d.newSet(key, ts)
	}
	if !more {
		s.total = end
	}
	if end > len(s.buf) {
		grow := end - len(s.buf)
		s.buf = slices.Grow(s.buf, grow)[:end]
		d.held += grow
	}
	copy(s.buf[off:end], data)
	s.have = addSpan(s.have, span{off, end})
	if s.total >= 0 && len(s.have) == 1 && s.have[0].lo == 0 && s.have[0].hi >= s.total {
		payload := s.buf[:s.total]
		d.held -= len(s.buf)
		// hand the set's buffer to the caller, keep the old one for reuse
		s.buf, d.reasm = d.reasm[:0], s.buf
		d.release(s)
		d.stats.Reassembled++
		return payload, true, nil
	}
	for d.held > d.maxPending() && d.head < len(d.order) {
		d.evictOldest()
	}
	return nil, false, nil
}

// addSpan inserts r into the sorted, merged list and merges neighbours.
func addSpan(have []span, r span) []span {
	if r.hi <= r.lo {
		return have
	}
	i := 0
	for i < len(have) && have[i].hi < r.lo {
		i++
	}
	j := i
	for j < len(have) && have[j].lo <= r.hi {
		r.lo = min(r.lo, have[j].lo)
		r.hi = max(r.hi, have[j].hi)
		j++
	}
	return slices.Replace(have, i, j, r)
}

func (d *Decoder) newSet(key fragKey, ts time.Time) *fragSet {
	var s *fragSet
	if n := len(d.free); n > 0 {
		s = d.free[n-1]
		d.free = d.free[:n-1]
	} else {
		s = new(fragSet)
	}
	d.seq++
	s.key, s.first, s.seq, s.total = key, ts, d.seq, -1
	s.buf, s.have = s.buf[:0], s.have[:0]
	if d.sets == nil {
		d.sets = make(map[fragKey]*fragSet)
	}
	d.sets[key] = s
	d.order = append(d.order, orderEntry{key, s.seq})
	return s
}

// release forgets a set that is finished or dropped.
func (d *Decoder) release(s *fragSet) {
	delete(d.sets, s.key)
	if len(d.free) < maxFree && cap(s.buf) <= 1<<17 {
		d.free = append(d.free, s)
	}
}

func (d *Decoder) drop(s *fragSet) {
	d.held -= len(s.buf)
	d.release(s)
}

// front returns the oldest live set, skipping stale order entries.
func (d *Decoder) front() *fragSet {
	for d.head < len(d.order) {
		e := d.order[d.head]
		if s := d.sets[e.key]; s != nil && s.seq == e.seq {
			return s
		}
		d.head++
	}
	d.order, d.head = d.order[:0], 0
	return nil
}

func (d *Decoder) evictOldest() {
	if s := d.front(); s != nil {
		d.drop(s)
		d.stats.Evicted++
		d.head++
	}
	d.compact()
}

// expire drops the sets whose first fragment is older than the timeout.
func (d *Decoder) expire(ts time.Time) {
	for {
		s := d.front()
		if s == nil || ts.Sub(s.first) <= d.timeout() {
			break
		}
		d.drop(s)
		d.stats.Expired++
		d.head++
	}
	d.compact()
}

// compact trims consumed order entries once they are half the slice.
func (d *Decoder) compact() {
	if d.head > 64 && d.head > len(d.order)/2 {
		n := copy(d.order, d.order[d.head:])
		d.order, d.head = d.order[:n], 0
	}
}

func (d *Decoder) timeout() time.Duration {
	if d.FragmentTimeout <= 0 {
		return DefaultFragmentTimeout
	}
	return d.FragmentTimeout
}

func (d *Decoder) maxPending() int {
	if d.MaxPending <= 0 {
		return DefaultMaxPending
	}
	return d.MaxPending
}
