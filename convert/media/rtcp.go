package media

import (
	"time"

	"github.com/sipflow/sipflow/parse/capture"
	"github.com/sipflow/sipflow/parse/rtp"
)

func (t *Tracker) stats(ssrc uint32) *RTCPStats {
	r := t.rtcp[ssrc]
	if r == nil {
		r = &RTCPStats{RTTMs: -1}
		t.rtcp[ssrc] = r
	}
	return r
}

// ntpMid is the middle 32 bits of the NTP time of at (what LSR holds).
func ntpMid(ntp uint64) uint32 { return uint32(ntp >> 16) }

// onRTCP reads one RTCP compound packet. Round-trip time is computed as
// Wireshark does, from capture times: the RR's arrival minus the capture
// time of the SR its LSR names, minus DLSR, so clocks need not agree.
func (t *Tracker) onRTCP(p *capture.Media) {
	r := &t.report
	if rtp.DecodeRTCP(p.Payload, r) != nil {
		return
	}
	if r.Sender.HasSenderRep {
		t.stats(r.SSRC).SenderReports++
		if len(t.srSeen) > 100000 {
			clear(t.srSeen)
		}
		t.srSeen[ntpMid(r.Sender.NTPTime)] = p.Time
	}
	for ssrc, cname := range r.CNAMEs {
		if st := t.stats(ssrc); st.CNAME == "" {
			st.CNAME = cname
		}
	}
	for _, b := range r.Bye {
		t.stats(b).Bye = true
	}
	for _, b := range r.Blocks {
		st := t.stats(b.Source)
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
				rtt := p.Time.Sub(sent) - time.Duration(b.DLSR)*time.Second/65536
				if rtt >= 0 && rtt < 10*time.Second {
					st.RTTMs = float64(rtt) / 1e6
					if st.RTTMs > st.MaxRTTMs {
						st.MaxRTTMs = st.RTTMs
					}
				}
			}
		}
	}
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
		t.stats(v.Source).XR = x
	}
}
