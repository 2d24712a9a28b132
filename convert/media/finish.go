package media

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"time"
)

// Result is every stream found, in order of first packet, and the media
// of each Call-ID that had SDP or streams.
type Result struct {
	Streams []*Stream
	// Calls is the media of each Call-ID's call; when the Call-ID was used
	// again by a new dialog after a BYE, the later calls follow in Next.
	Calls map[string]*CallMedia
}

// ForCall returns the streams and problems of a call: those of its
// Call-IDs (its legs), streams in order of first packet. start and end are
// the call's first and last message: of a Call-ID that holds several calls
// (CallMedia.Next), only those that began between them are taken; a
// Call-ID of one call is taken whole.
func (r *Result) ForCall(ids []string, start, end time.Time) *CallMedia {
	out := &CallMedia{Start: start}
	if len(ids) > 0 {
		out.CallID = ids[0]
	}
	seen := false
	r.each(ids, start, end, func(cm *CallMedia) {
		out.Streams = append(out.Streams, cm.Streams...)
		out.Problems = append(out.Problems, cm.Problems...)
		out.Fax = out.Fax || cm.Fax
		out.LogOnly = cm.LogOnly && (out.LogOnly || !seen)
		seen = true
	})
	slices.SortStableFunc(out.Streams, byFirst)
	slices.SortStableFunc(out.Problems, func(a, b Problem) int { return a.Time.Compare(b.Time) })
	return out
}

// Call is the part of r that is one call's, chosen as ForCall chooses, as a
// Result of its own: for what renders a whole Result.
func (r *Result) Call(ids []string, start, end time.Time) *Result {
	out := &Result{Calls: make(map[string]*CallMedia)}
	last := make(map[string]*CallMedia)
	r.each(ids, start, end, func(cm *CallMedia) {
		c := *cm
		c.Next = nil
		if prev := last[c.CallID]; prev != nil {
			prev.Next = &c
		} else {
			out.Calls[c.CallID] = &c
		}
		last[c.CallID] = &c
		out.Streams = append(out.Streams, c.Streams...)
	})
	slices.SortStableFunc(out.Streams, byFirst)
	return out
}

// each calls f with the media of each call of the Call-IDs ids that
// ForCall takes for a call from start to end.
func (r *Result) each(ids []string, start, end time.Time, f func(*CallMedia)) {
	for _, id := range ids {
		first := r.Calls[id]
		for cm := first; cm != nil; cm = cm.Next {
			if first.Next != nil && (cm.Start.Before(start) || cm.Start.After(end)) {
				continue // one of several calls in the Call-ID, not this one
			}
			f(cm)
		}
	}
}

// byFirst orders streams by their first packet.
func byFirst(a, b *Stream) int {
	if c := a.First.Compare(b.First); c != 0 {
		return c
	}
	return cmp.Compare(a.FirstFrame, b.FirstFrame)
}

// CallOf returns the media of the call that holds s, nil for a stream of
// no call (found by the heuristic).
func (r *Result) CallOf(s *Stream) *CallMedia {
	for cm := r.Calls[s.CallID]; cm != nil; cm = cm.Next {
		if slices.Contains(cm.Streams, s) {
			return cm
		}
	}
	return nil
}

// Finish computes every figure and problem and returns the result. The
// Tracker must not be used afterwards.
func (t *Tracker) Finish() *Result {
	res := &Result{Calls: make(map[string]*CallMedia, len(t.order))}
	for _, st := range t.streams {
		t.finishStream(st)
		res.Streams = append(res.Streams, st.s)
	}
	slices.SortStableFunc(res.Streams, byFirst)
	last := make(map[string]*CallMedia, len(t.order)) // each Call-ID's latest call
	for _, c := range t.order {
		cm := &CallMedia{CallID: c.id, Start: c.start, Streams: c.streams, Fax: c.fax, LogOnly: !c.captured}
		if c.captured || len(c.streams) > 0 {
			t.detect(c)
		}
		cm.Problems = append(cm.Problems, c.problems...)
		for _, s := range c.streams {
			cm.Problems = append(cm.Problems, s.Problems...)
		}
		slices.SortStableFunc(cm.Problems, func(a, b Problem) int { return a.Time.Compare(b.Time) })
		if prev := last[c.id]; prev != nil {
			prev.Next = cm
		} else {
			res.Calls[c.id] = cm
		}
		last[c.id] = cm
	}
	return res
}

func (t *Tracker) finishStream(st *state) {
	s := st.s
	if s.Kind == KindFax {
		return
	}
	if st.packets > 0 {
		s.Packets, s.Bytes, s.ClockRate, s.MaxGap = st.packets, st.bytes, int(st.clockRate), float64(st.maxGapNs)/1e6
		s.Last = s.First.Add(time.Duration(st.lastNs - st.firstNs))
	}
	a := &st.a
	s.Expected = a.expected()
	s.Lost = s.Expected - int(a.totalNr)
	if s.Expected > 0 {
		s.LostPct = float64(s.Lost) * 100 / float64(s.Expected)
	}
	s.SequenceErrors = int(a.sequence)
	s.WrongTimestamps = int(a.wrongTS)
	s.Markers = int(a.markers)
	s.PTChanges = int(a.ptChanges)
	s.MinDelta, s.MeanDelta, s.MaxDelta = max(a.minDelta, 0), a.meanDelta, a.maxDelta
	s.MinJitter, s.MeanJitter, s.MaxJitter = max(a.minJitter, 0), a.meanJitter, a.maxJitter
	s.MaxSkew = a.maxSkew
	if s.SequenceErrors > 0 || s.WrongTimestamps > 0 {
		s.Problems = append(s.Problems, Problem{Kind: SequenceErrors,
			Detail: nPackets(s.SequenceErrors) + " out of sequence, " + strconv.Itoa(s.WrongTimestamps) + " with a timestamp going back"})
	}
	if r := t.rtcpOf(st); r != nil {
		s.RTCP = *r
		if s.ClockRate > 0 {
			s.RTCP.JitterMs = r.JitterMs * 1000 / float64(s.ClockRate)
			s.RTCP.MaxJitterMs = r.MaxJitterMs * 1000 / float64(s.ClockRate)
		} else {
			s.RTCP.JitterMs, s.RTCP.MaxJitterMs = 0, 0
		}
	} else {
		s.RTCP.RTTMs = -1
	}
	t.emodel(st)
}

// emodel estimates R and MOS for a stream: effective loss is lost packets
// plus those the jitter buffer discards; delay is half the RTCP round trip
// (when known) plus the jitter buffer plus one packet time.
func (t *Tracker) emodel(st *state) {
	s := st.s
	if s.ClockRate == 0 || s.Expected <= 0 || (s.Media != "" && s.Media != "audio") {
		return
	}
	imp, _ := ImpairmentOf(s.Codec)
	lost := max(s.Lost, 0) + s.JitterBufferLate
	ppl := float64(lost) * 100 / float64(s.Expected)
	ppl = min(ppl, 100)
	burst := 1.0
	if events := st.lossEvents + s.JitterBufferLate; events > 0 && lost > 0 {
		burst = float64(lost) / float64(events) * (1 - ppl/100)
	}
	delay := float64(t.opts.JitterBuffer)/1e6 + s.MeanDelta
	if s.RTCP.RTTMs > 0 {
		delay += s.RTCP.RTTMs / 2
	}
	s.EffLossPct = ppl
	s.DelayMs = delay
	s.R = RFactor(imp, ppl, burst, delay)
	s.MOS = MOS(s.R)
}

// detect runs the call-level detectors.
func (t *Tracker) detect(c *callState) {
	var toSide [2]int // packets while the call was up, by the side they went to
	var any int
	for _, st := range c.states {
		s := st.s
		any += s.Packets
		if st.ep == nil {
			continue
		}
		to := st.ep.side
		if !st.toEP {
			to = to.other()
		}
		if !c.answered.IsZero() && (c.bye.IsZero() || s.First.Before(c.bye)) && !s.Last.Before(c.answered) {
			toSide[to] += s.Packets
		}
		// NAT: the source is not what the other side's SDP announced
		if want := st.wantSrc; want.IsValid() && want != s.Src && s.Kind == KindRTP {
			s.Problems = append(s.Problems, Problem{Kind: UnexpectedSource, Time: s.First, File: s.File, Frame: s.FirstFrame,
				Detail: "media from " + s.Src.String() + ", SDP said " + want.String()})
		}
		// media after BYE
		if !c.bye.IsZero() && s.Last.Sub(c.bye) > t.opts.AfterBye {
			s.Problems = append(s.Problems, Problem{Kind: AfterBye, Time: s.Last, File: s.File,
				Detail: "media until " + fmtDur(s.Last.Sub(c.bye)) + " after the BYE"})
		}
		// payload types sent before any answer, against the last one (the
		// others were checked as they were sent: measure)
		if ans := c.answerOn(st.ep); ans != nil && st.ep.index < len(ans.media) && s.Kind == KindRTP {
			allowed := ans.media[st.ep.index].formats
			for _, pt := range st.unchecked {
				if !containsInt(allowed, pt) && !containsInt(st.badPTs, pt) {
					s.Problems = append(s.Problems, Problem{Kind: UnnegotiatedPT, Time: s.First, File: s.File, Frame: s.FirstFrame,
						Detail: "payload type " + strconv.Itoa(pt) + " is not in the answer " + fmtInts(allowed)})
				}
			}
		}
	}
	if c.answered.IsZero() {
		return
	}
	if up := c.bye.Sub(c.answered); !c.bye.IsZero() && up >= 0 && up < minUp {
		return // hung up at once: too short to say media was missing
	}
	var addrs []netip.Addr // the negotiated media's, when no packet of it was seen
	if any == 0 && c.last[caller] != nil && c.last[callee] != nil {
		addrs = sdpAddrs(c)
	}
	switch {
	case len(addrs) > 0 && c.noneAsked():
		// the SDP in force asks for no media (inactive, 0.0.0.0)
	case len(addrs) > 0:
		detail := "answered, but no media was seen in either direction"
		if !t.sawMediaOf(addrs) {
			// a proxy's capture looks like this: say so
			detail += ", nor any packet from or to " + joinAddrs(addrs) + " at all: none was sent, or it did not pass where the capture was taken"
		}
		c.problems = append(c.problems, Problem{Kind: NoMedia, Time: c.answered, Detail: detail})
	case c.oneWayAsked():
		// the SDP in force asks for media one way (sendonly, recvonly,
		// inactive, on hold): one way is what it got
	case toSide[caller] > 0 && toSide[callee] == 0:
		c.problems = append(c.problems, Problem{Kind: OneWay, Time: c.answered, Detail: "media only toward the caller (" + nPackets(toSide[caller]) + "), none toward the callee"})
	case toSide[callee] > 0 && toSide[caller] == 0:
		c.problems = append(c.problems, Problem{Kind: OneWay, Time: c.answered, Detail: "media only toward the callee (" + nPackets(toSide[callee]) + "), none toward the caller"})
	}
}

// minUp is how long a call must be up (from its 2xx to its BYE) before
// missing media, one way or both, is a problem: phones start sending
// within a few hundred ms of the answer, and a call hung up sooner (an
// answering-machine check, a caller giving up) has none to miss.
const minUp = time.Second

// sdpAddrs lists the addresses of the active m= lines of the call's latest
// SDP on each side, in order, once each (none: no media was negotiated).
func sdpAddrs(c *callState) []netip.Addr {
	var out []netip.Addr
	for _, in := range c.last {
		for _, m := range in.media {
			if a := m.addr.Addr(); m.addr.IsValid() && !a.IsUnspecified() && !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

func joinAddrs(addrs []netip.Addr) string {
	var b []byte
	for i, a := range addrs {
		if i > 0 {
			b = append(b, " or "...)
		}
		b = a.AppendTo(b)
	}
	return string(b)
}

// sawMediaOf says whether any media datagram of the input came from or went
// to one of addrs. The flows remember every address pair seen, so the set
// is made once, at the first call that asks.
func (t *Tracker) sawMediaOf(addrs []netip.Addr) bool {
	if t.mediaAddrs == nil {
		t.mediaAddrs = map[netip.Addr]bool{}
		for _, f := range t.flows4 {
			t.mediaAddrs[f.key.src.Addr()], t.mediaAddrs[f.key.dst.Addr()] = true, true
		}
		for _, f := range t.flows6 {
			t.mediaAddrs[f.key.src.Addr()], t.mediaAddrs[f.key.dst.Addr()] = true, true
		}
	}
	for _, a := range addrs {
		if t.mediaAddrs[a] {
			return true
		}
	}
	return false
}

// nPackets is "1 packet" or "n packets".
func nPackets(n int) string {
	if n == 1 {
		return "1 packet"
	}
	return strconv.Itoa(n) + " packets"
}

func fmtDur(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

func fmtInts(xs []int) string {
	b := []byte{'['}
	for i, x := range xs {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendInt(b, int64(x), 10)
	}
	return string(append(b, ']'))
}

func itoa(n int) string { return strconv.Itoa(n) }

func atoi(s string) (int, error) { return strconv.Atoi(s) }

func hex32(v uint32) string { return fmt.Sprintf("0x%08X", v) }

// cgnat is RFC 6598 shared address space, private in practice.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

func private(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsPrivate() || cgnat.Contains(a)
}

func public(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsGlobalUnicast() && !private(a)
}
