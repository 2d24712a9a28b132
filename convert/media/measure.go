package media

import (
	"strconv"
	"time"

	"github.com/sipflow/sipflow/parse/capture"
	"github.com/sipflow/sipflow/parse/rtp"
)

// measure adds one RTP packet to its stream. p is the datagram, for its
// time, file and frame; ns is its time in Unix ns, now in Wireshark's ms.
func (t *Tracker) measure(st *state, b []byte, h *rtp.Fixed, p *capture.Media, ns int64, now float64) {
	s := st.s
	pt := int(h.PayloadType)
	if int32(pt) != st.infoPT { // or the endpoint changed (endpoint.changed)
		st.info, st.infoPT = infoOf(pt, st.maps()), int32(pt)
	}
	in := &st.info
	first := st.packets == 0
	st.extTS = unwrap(st.extTS, h.Timestamp, first)
	if first {
		s.PayloadType = pt
		s.Codec = codecName(pt, st.maps())
		st.clockRate = in.clock
		s.First, st.firstNs = p.Time, ns
		st.lastPT = int32(pt)
	} else {
		// duplicates: the same sequence number among the last 256
		d := uint16(st.lastSeq - h.Seq)
		if d < 256 && st.seen[h.Seq/64%4]&(1<<(h.Seq%64)) != 0 {
			s.Duplicates++
		}
		// gaps: silence over the limit, unless comfort noise, a marker
		// (talkspurt after DTX) or a hold in the SDP explains it
		gap := time.Duration(ns - st.lastNs)
		if gap > t.opts.Gap && !h.Marker && !isCN(int(st.lastPT), st.maps()) && (st.call == nil || st.ep == nil || !st.call.heldDuring(st.ep.index, st.lastNs, ns)) {
			s.Problems = append(s.Problems, Problem{Kind: Gap, Time: p.Time, File: s.File, Frame: p.Frame,
				Detail: "no packet for " + fmtDur(gap)})
		}
		if int64(gap) > st.maxGapNs {
			st.maxGapNs = int64(gap) // in ms in Finish: the same as the greatest in ms
		}
		// loss events for the burst ratio
		if ahead := h.Seq - st.lastSeq; ahead > 1 && ahead < 0x8000 {
			st.lossEvents++
		}
	}
	// the sequence window: clear what is 256 behind when moving ahead
	// (one ahead: the bit is set below in any case)
	if first || int16(h.Seq-st.lastSeq) > 0 {
		if !first && h.Seq-st.lastSeq != 1 {
			for q := st.lastSeq + 1; q != h.Seq+1 && uint16(q-st.lastSeq) <= 256; q++ {
				st.seen[q/64%4] &^= 1 << (q % 64)
			}
		}
		st.lastSeq = h.Seq
	}
	st.seen[h.Seq/64%4] |= 1 << (h.Seq % 64)

	if st.clockRate == 0 && in.clock != 0 {
		st.clockRate = in.clock
	}
	if int32(pt) != st.lastPT || first || st.ptCheck {
		if !containsInt(s.Payloads, pt) {
			s.Payloads = append(s.Payloads, pt)
		}
		st.checkPT(pt, p.Time, p.Frame)
	}
	st.lastPT = int32(pt)
	st.lastNs = ns
	st.a.add(now, int(h.Seq), st.extTS, pt, h.Marker, in)
	st.packets++
	st.bytes += int64(h.PayloadLen)
	if in.cn {
		s.ComfortNoise++
	}
	if in.event {
		t.event(st, h, b[h.PayloadOff:], p.Time, p.Frame)
		return
	}
	// fixed jitter buffer: a packet later than the buffer behind the
	// fastest transit seen is discarded
	if in.clock != 0 && !in.cn {
		transit := now - float64(st.extTS-st.firstTS)/in.khz
		if !st.jbInit {
			st.jbInit, st.firstTS, st.jbBase = true, st.extTS, now
		} else if transit < st.jbBase {
			st.jbBase = transit
		} else if transit-st.jbBase > t.jbMs {
			s.JitterBufferLate++
		}
	}
}

// checkPT flags a payload type the answer in force does not have (on the
// stream's hop), once per payload type: a re-INVITE that changes the codec
// makes the new one right from then on, and leaves the old one right
// before. Sent before any answer, it is checked in Finish, against the
// last answer.
func (st *state) checkPT(pt int, at time.Time, frame int) {
	st.ptCheck = false
	if st.call == nil || st.ep == nil || containsInt(st.badPTs, pt) {
		return
	}
	ans := st.call.answerOn(st.ep)
	if ans == nil {
		if !containsInt(st.unchecked, pt) {
			st.unchecked = append(st.unchecked, pt)
		}
		return
	}
	if st.ep.index >= len(ans.media) || containsInt(ans.media[st.ep.index].formats, pt) {
		return
	}
	st.badPTs = append(st.badPTs, pt)
	s := st.s
	s.Problems = append(s.Problems, Problem{Kind: UnnegotiatedPT, Time: at, File: s.File, Frame: frame,
		Detail: "payload type " + strconv.Itoa(pt) + " is not in the answer " + fmtInts(ans.media[st.ep.index].formats)})
}

// maps are the rtpmaps of the stream's endpoint, nil if it has none.
func (st *state) maps() []pmap {
	if st.ep == nil {
		return nil
	}
	return st.ep.maps
}

// ptInfo is what a payload type means for the analysis.
type ptInfo struct {
	clock int32 // clock rate Wireshark uses, 0 if none (or under 1000 Hz)
	// the clock in kHz, as the jitter buffer divides by it, and as
	// Wireshark does (in integers, clock/1000): divisions each packet
	// would otherwise make
	khz, khzInt float64
	tevent      bool // telephone-event by its rtpmap (clockFor)
	cn          bool // comfort noise
	event       bool // RFC 4733 events (isEvent)
}

func infoOf(pt int, maps []pmap) ptInfo {
	clock, tevent := clockFor(pt, maps)
	if clock > 0 && clock < 1000 {
		clock = 0 // Wireshark would divide by zero (clock/1000 in integers)
	}
	return ptInfo{clock: int32(clock), khz: float64(clock) / 1000, khzInt: float64(clock / 1000),
		tevent: tevent, cn: isCN(pt, maps), event: isEvent(pt, maps)}
}

// event follows RFC 4733 events: a new event starts with a new timestamp.
func (t *Tracker) event(st *state, h *rtp.Fixed, pl []byte, at time.Time, frame int) {
	ev, err := rtp.DecodeEvent(pl)
	if err != nil {
		return
	}
	s := st.s
	if len(s.Events) == 0 || st.lastEvTS != h.Timestamp {
		if len(s.Events) >= 1000 {
			return
		}
		s.Events = append(s.Events, DTMF{Digit: ev.Digit(), Time: at, Volume: ev.Volume, Frame: frame})
		st.lastEvTS = h.Timestamp
	}
	cur := &s.Events[len(s.Events)-1]
	rate := 8000
	if maps := st.ep; maps != nil {
		for _, m := range maps.maps {
			if m.pt == int(h.PayloadType) && m.clock > 0 {
				rate = m.clock
			}
		}
	}
	d := time.Duration(ev.Duration) * time.Second / time.Duration(rate)
	if d > cur.Duration {
		cur.Duration = d
	}
	if ev.End {
		cur.Ended = true
	}
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
