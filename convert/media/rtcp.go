package media

import (
	"time"

	"github.com/sipflow/sipflow/parse/capture"
	"github.com/sipflow/sipflow/parse/rtp"
)

// rtcpKey names the figures about one SSRC: within the call whose SDP
// announced the RTCP flow, and (call nil) over the whole input. A stream
// takes the input-wide figures about its SSRC, unless the flows of more
// than one call carried RTCP about it (a later call reusing the SSRC, as
// sipp always does): then it takes its own call's.
type rtcpKey struct {
	call *callState
	ssrc uint32
}

// rtcpCalls is which calls' flows carried RTCP about an SSRC.
type rtcpCalls struct {
	first *callState
	many  bool // another call's too
}

// stats returns the figures about ssrc that an RTCP packet of call c
// updates: the input-wide ones, and the call's (nil without a call).
func (t *Tracker) stats(c *callState, ssrc uint32) [2]*RTCPStats {
	if c != nil {
		e := t.rtcpCall[ssrc]
		switch {
		case e.first == nil:
			t.rtcpCall[ssrc] = rtcpCalls{first: c}
		case e.first != c && !e.many:
			t.rtcpCall[ssrc] = rtcpCalls{first: e.first, many: true}
		}
	}
	var out [2]*RTCPStats
	for i, k := range [2]rtcpKey{{nil, ssrc}, {c, ssrc}} {
		if i == 1 && c == nil {
			break
		}
		r := t.rtcp[k]
		if r == nil {
			r = &RTCPStats{RTTMs: -1}
			t.rtcp[k] = r
		}
		out[i] = r
	}
	return out
}

// rtcpOf is what RTCP said about a stream (nil if nothing).
func (t *Tracker) rtcpOf(st *state) *RTCPStats {
	if st.call != nil && t.rtcpCall[st.s.SSRC].many {
		return t.rtcp[rtcpKey{st.call, st.s.SSRC}]
	}
	return t.rtcp[rtcpKey{nil, st.s.SSRC}]
}

// ntpMid is the middle 32 bits of the NTP time of at (what LSR holds).
func ntpMid(ntp uint64) uint32 { return uint32(ntp >> 16) }

// onRTCP reads one RTCP compound packet. Round-trip time is computed as
// Wireshark does, from capture times: the RR's arrival minus the capture
// time of the SR its LSR names, minus DLSR, so clocks need not agree.
func (t *Tracker) onRTCP(p *capture.Media, c *callState) {
	r := &t.report
	if rtp.DecodeRTCP(p.Payload, r) != nil {
		return
	}
	if r.Sender.HasSenderRep {
		for _, st := range t.stats(c, r.SSRC) {
			if st != nil {
				st.SenderReports++
			}
		}
		if len(t.srSeen) > 100000 {
			clear(t.srSeen)
		}
		t.srSeen[ntpMid(r.Sender.NTPTime)] = p.Time
	}
	for ssrc, cname := range r.CNAMEs {
		for _, st := range t.stats(c, ssrc) {
			if st != nil && st.CNAME == "" {
				st.CNAME = cname
			}
		}
	}
	for _, b := range r.Bye {
		for _, st := range t.stats(c, b) {
			if st != nil {
				st.Bye = true
			}
		}
	}
	for _, b := range r.Blocks {
		for _, st := range t.stats(c, b.Source) {
			if st != nil {
				t.block(st, &b, p.Time)
			}
		}
	}
	t.voip(r, c)
}

// block takes one report block about st's SSRC, received at at.
func (t *Tracker) block(st *RTCPStats, b *rtp.ReportBlock, at time.Time) {
	st.Reports++
	st.FractionLost = float64(b.FractionLost) * 100 / 256
	lost := int64(b.TotalLost)
	if lost&0x800000 != 0 {
		lost -= 1 << 24
	}
	st.CumulativeLost = lost
	st.JitterMs = float64(b.Jitter) // in timestamp units until Finish knows the clock
	if st.JitterMs > st.MaxJitterMs {
		st.MaxJitterMs = st.JitterMs
	}
	if b.LSR != 0 {
		if sent, ok := t.srSeen[b.LSR]; ok {
			rtt := at.Sub(sent) - time.Duration(b.DLSR)*time.Second/65536
			if rtt >= 0 && rtt < 10*time.Second {
				st.RTTMs = float64(rtt) / 1e6
				if st.RTTMs > st.MaxRTTMs {
					st.MaxRTTMs = st.RTTMs
				}
			}
		}
	}
}

// voip takes the XR VoIP metrics blocks of r.
func (t *Tracker) voip(r *rtp.Report, c *callState) {
	for _, v := range r.VoIP {
		x := &XRVoIP{
			LossPct: float64(v.LossRate) * 100 / 256, DiscardPct: float64(v.DiscardRate) * 100 / 256,
			RoundTripMs: int(v.RoundTripDelay), EndSystemDelayMs: int(v.EndSystemDelay),
			RFactor: int(v.RFactor), MOSLQ: float64(v.MOSLQ) / 10, MOSCQ: float64(v.MOSCQ) / 10, JBNominalMs: int(v.JBNominal),
		}
		if v.RFactor == 127 {
			x.RFactor = -1
		}
		if v.MOSLQ == 127 {
			x.MOSLQ = -1
		}
		if v.MOSCQ == 127 {
			x.MOSCQ = -1
		}
		for _, st := range t.stats(c, v.Source) {
			if st != nil {
				st.XR = x
			}
		}
	}
}
