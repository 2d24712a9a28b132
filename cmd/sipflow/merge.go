package main

import (
	"context"
	"hash/maphash"
	"net/netip"
	"time"

	"github.com/sipflow/sipflow/parse/capture"
)

// maxMerged is how many inputs are read side by side and merged by time.
// Captures taken at the same time on several interfaces or boxes are a
// handful of files; above this, files are read one after another (a rotated
// capture set, already in time order), so that memory stays bounded.
const maxMerged = 8

// mergeWindow is how close in time the same packet seen in two inputs must
// be to count as one (a router's ingress and egress captures).
const mergeWindow = 5 * time.Millisecond

// mergedItem is one SIP message or media datagram of one input.
type mergedItem struct {
	sip   *capture.Message
	media capture.Media // Payload points into the batch's own copy
	t     time.Time
}

// source is one input read in its own goroutine.
type source struct {
	ch    chan []mergedItem
	batch []mergedItem
	next  int
	done  bool
	st    capture.Stats
	err   error
}

// sourceHandler batches what one input's reader delivers.
type sourceHandler struct {
	ctx   context.Context
	ch    chan []mergedItem
	batch []mergedItem
	arena []byte
}

const mergeBatch = 256

func (h *sourceHandler) SIP(m *capture.Message) {
	h.batch = append(h.batch, mergedItem{sip: m, t: m.Time})
	h.flushIfFull()
}

func (h *sourceHandler) Media(p *capture.Media) {
	if cap(h.arena)-len(h.arena) < len(p.Payload) {
		h.arena = make([]byte, 0, max(64<<10, len(p.Payload)))
	}
	lo := len(h.arena)
	h.arena = append(h.arena, p.Payload...)
	m := *p
	m.Payload = h.arena[lo:len(h.arena):len(h.arena)]
	h.batch = append(h.batch, mergedItem{media: m, t: p.Time})
	h.flushIfFull()
}

func (h *sourceHandler) flushIfFull() {
	if len(h.batch) == mergeBatch {
		h.flush()
	}
}

func (h *sourceHandler) flush() {
	if len(h.batch) == 0 {
		return
	}
	select {
	case h.ch <- h.batch:
	case <-h.ctx.Done():
	}
	h.batch = make([]mergedItem, 0, mergeBatch)
}

// readMerged reads files side by side and hands their messages and media to
// h in time order (input order on ties), dropping a packet that another
// input already holds (same addresses and bytes within mergeWindow). Each
// input's own duplicates were dropped by its reader. It returns the stats of
// each input, in order, and their errors.
func (rd *inputReader) readMerged(ctx context.Context, files []string, h capture.Handler) ([]capture.Stats, []error) {
	srcs := make([]*source, len(files))
	for i, f := range files {
		s := &source{ch: make(chan []mergedItem, 4)}
		srcs[i] = s
		go func() {
			sh := &sourceHandler{ctx: ctx, ch: s.ch, batch: make([]mergedItem, 0, mergeBatch)}
			s.st, s.err = rd.read(ctx, f, sh)
			sh.flush()
			close(s.ch) // publishes st and err to the merger
		}()
	}
	seen := newCrossDedup(rd.capture.KeepDuplicates)
	for ctx.Err() == nil {
		best := -1
		for i, s := range srcs {
			if !s.head() {
				continue
			}
			if best < 0 || s.batch[s.next].t.Before(srcs[best].batch[srcs[best].next].t) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		s := srcs[best]
		it := &s.batch[s.next]
		s.next++
		if seen.dup(it, best) {
			s.st.Duplicates++
			continue
		}
		if it.sip != nil {
			h.SIP(it.sip)
		} else {
			h.Media(&it.media)
		}
		*it = mergedItem{} // release
	}
	stats := make([]capture.Stats, len(srcs))
	errs := make([]error, len(srcs))
	for i, s := range srcs {
		for !s.done { // drain (after a cancel) so that the reader can end
			if _, ok := <-s.ch; !ok {
				s.done = true
			}
		}
		stats[i], errs[i] = s.st, s.err
	}
	return stats, errs
}

// head makes s.batch[s.next] the input's next item; false when it has none.
func (s *source) head() bool {
	for !s.done && s.next == len(s.batch) {
		b, ok := <-s.ch
		if !ok {
			s.done = true
			break
		}
		s.batch, s.next = b, 0
	}
	return !s.done || s.next < len(s.batch)
}

// crossDedup finds the same packet in two inputs.
type crossDedup struct {
	off  bool
	seed maphash.Seed
	last map[crossKey]crossSeen
	ring []crossRec // insertion order, to forget old entries
}

type crossRec struct {
	k crossKey
	t time.Time
}

type crossKey struct {
	src, dst netip.AddrPort
	h        uint64
}

type crossSeen struct {
	t     time.Time
	input int
}

func newCrossDedup(off bool) *crossDedup {
	return &crossDedup{off: off, seed: maphash.MakeSeed(), last: map[crossKey]crossSeen{}}
}

// dup reports whether it was already delivered from another input within
// mergeWindow; otherwise it remembers it.
func (d *crossDedup) dup(it *mergedItem, input int) bool {
	if d.off {
		return false
	}
	var k crossKey
	if it.sip != nil {
		k = crossKey{it.sip.Src, it.sip.Dst, maphash.Bytes(d.seed, it.sip.SIP.Raw)}
	} else {
		k = crossKey{it.media.Src, it.media.Dst, maphash.Bytes(d.seed, it.media.Payload)}
	}
	if prev, ok := d.last[k]; ok && prev.input != input {
		if dt := it.t.Sub(prev.t); dt <= mergeWindow && dt >= -mergeWindow {
			return true
		}
	}
	d.last[k] = crossSeen{t: it.t, input: input}
	d.ring = append(d.ring, crossRec{k, it.t})
	// forget what is far behind: the merge is in time order
	n := 0
	for n < len(d.ring) && it.t.Sub(d.ring[n].t) > time.Second {
		if e, ok := d.last[d.ring[n].k]; ok && e.t.Equal(d.ring[n].t) {
			delete(d.last, d.ring[n].k)
		}
		n++
	}
	d.ring = d.ring[n:]
	if cap(d.ring) > 4096 && len(d.ring) < cap(d.ring)/4 {
		d.ring = append([]crossRec(nil), d.ring...)
	}
	return false
}
