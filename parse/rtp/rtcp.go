package rtp

import (
	"fmt"

	"github.com/pion/rtcp"
)

// ReportBlock is one reception report (in an SR or RR): what the reporter
// (SSRC of the SR/RR) received from Source.
type ReportBlock struct {
	Source       uint32
	FractionLost uint8  // of 256
	TotalLost    uint32 // cumulative, 24 bits
	LastSeq      uint32 // extended highest sequence number received
	Jitter       uint32 // interarrival jitter, in timestamp units
	LSR          uint32 // middle 32 bits of the last SR's NTP time, 0 if none
	DLSR         uint32 // delay since that SR, in 1/65536 s
}

// Sender is the sender info of an SR.
type Sender struct {
	NTPTime      uint64
	RTPTime      uint32
	PacketCount  uint32
	OctetCount   uint32
	HasSenderRep bool
}

// VoIPMetrics is an RTCP XR VoIP metrics block (RFC 3611 section 4.7):
// what the reporter measured on the stream from Source.
type VoIPMetrics struct {
	Source         uint32
	LossRate       uint8  // of 256
	DiscardRate    uint8  // of 256
	RoundTripDelay uint16 // ms
	EndSystemDelay uint16 // ms
	RFactor        uint8  // 127 = unavailable
	MOSLQ, MOSCQ   uint8  // x10, 127 = unavailable
	JBNominal      uint16 // ms
}

// Report is what one RTCP compound packet says.
type Report struct {
	Kind    Kind   // of the first packet
	SSRC    uint32 // of the reporter (SR/RR/XR sender), else of the first SDES chunk or BYE source
	Sender  Sender // set for an SR
	Blocks  []ReportBlock
	CNAMEs  map[uint32]string // SDES CNAME per SSRC
	Bye     []uint32          // sources that said goodbye
	VoIP    []VoIPMetrics
	Packets int // RTCP packets in the compound
}

// Kind is an RTCP packet type.
type Kind uint8

const (
	KindOther Kind = iota
	KindSR
	KindRR
	KindSDES
	KindBye
	KindXR
)

var kindNames = [...]string{"other", "SR", "RR", "SDES", "BYE", "XR"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// DecodeRTCP decodes a compound RTCP packet into r, resetting it. Packets
// of types it does not know are counted and skipped.
func DecodeRTCP(b []byte, r *Report) (err error) {
	*r = Report{Blocks: r.Blocks[:0], Bye: r.Bye[:0], VoIP: r.VoIP[:0]}
	if !IsRTCP(b) {
		return ErrNotRTCP
	}
	defer func() {
		if p := recover(); p != nil { // pion must never take the process down
			err = fmt.Errorf("%w: decoder panic: %v", ErrBadRTCP, p)
		}
	}()
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadRTCP, err)
	}
	r.Packets = len(pkts)
	for i, p := range pkts {
		k := KindOther
		switch p := p.(type) {
		case *rtcp.SenderReport:
			k = KindSR
			if i == 0 || r.SSRC == 0 {
				r.SSRC = p.SSRC
			}
			r.Sender = Sender{NTPTime: p.NTPTime, RTPTime: p.RTPTime, PacketCount: p.PacketCount, OctetCount: p.OctetCount, HasSenderRep: true}
			r.addBlocks(p.Reports)
		case *rtcp.ReceiverReport:
			k = KindRR
			if i == 0 || r.SSRC == 0 {
				r.SSRC = p.SSRC
			}
			r.addBlocks(p.Reports)
		case *rtcp.SourceDescription:
			k = KindSDES
			for _, c := range p.Chunks {
				if i == 0 && r.SSRC == 0 {
					r.SSRC = c.Source
				}
				for _, it := range c.Items {
					if it.Type == rtcp.SDESCNAME {
						if r.CNAMEs == nil {
							r.CNAMEs = make(map[uint32]string, 1)
						}
						r.CNAMEs[c.Source] = it.Text
					}
				}
			}
		case *rtcp.Goodbye:
			k = KindBye
			if i == 0 && len(p.Sources) > 0 {
				r.SSRC = p.Sources[0]
			}
			r.Bye = append(r.Bye, p.Sources...)
		case *rtcp.ExtendedReport:
			k = KindXR
			if i == 0 {
				r.SSRC = p.SenderSSRC
			}
			for _, rb := range p.Reports {
				if v, ok := rb.(*rtcp.VoIPMetricsReportBlock); ok {
					r.VoIP = append(r.VoIP, VoIPMetrics{
						Source: v.SSRC, LossRate: v.LossRate, DiscardRate: v.DiscardRate,
						RoundTripDelay: v.RoundTripDelay, EndSystemDelay: v.EndSystemDelay,
						RFactor: v.RFactor, MOSLQ: v.MOSLQ, MOSCQ: v.MOSCQ, JBNominal: v.JBNominal,
					})
				}
			}
		}
		if i == 0 {
			r.Kind = k
		}
	}
	return nil
}

func (r *Report) addBlocks(rs []rtcp.ReceptionReport) {
	for _, b := range rs {
		r.Blocks = append(r.Blocks, ReportBlock{
			Source: b.SSRC, FractionLost: b.FractionLost, TotalLost: b.TotalLost,
			LastSeq: b.LastSequenceNumber, Jitter: b.Jitter, LSR: b.LastSenderReport, DLSR: b.Delay,
		})
	}
}
