// Package media finds the RTP, RTCP and T.38 streams of each call from the
// SDP offers and answers in its SIP messages (or, with Options.Heuristic,
// from the packets alone), measures each stream exactly as Wireshark's RTP
// analysis does (ui/tap-rtp-analysis.c: delta, jitter with the 1/16 filter,
// skew, sequence errors, lost = expected - received), reads RTCP reports,
// RFC 4733 DTMF events and comfort noise, estimates an ITU-T G.107 E-model
// MOS per stream, and flags what went wrong (one-way audio, no media, NAT,
// private addresses, media after BYE, gaps, SSRC changes, payload types
// nobody negotiated).
//
// A Tracker is fed SIP messages and media datagrams in capture order
// (capture.Options.Media) and keeps one small state per stream, so memory is
// bounded by the number of streams, not by the number of packets.
package media

import (
	"fmt"
	"net/netip"
	"time"
)

// DefaultJitterBuffer is the fixed jitter buffer the MOS estimate assumes.
const DefaultJitterBuffer = 60 * time.Millisecond

// Options tune the Tracker.
type Options struct {
	// Heuristic also takes as RTP the UDP flows no SDP announced: version 2,
	// a payload type outside 72-76, and a stable SSRC with rising sequence
	// numbers over two packets.
	Heuristic bool
	// JitterBuffer is the fixed playout buffer simulated for the MOS: a
	// packet later than this behind its nominal time counts as lost. Zero
	// means DefaultJitterBuffer.
	JitterBuffer time.Duration
	// AfterBye is how long after a BYE media may still flow before it is a
	// problem. Zero means 500 ms.
	AfterBye time.Duration
	// Gap is the silence between two packets of a stream that is a problem.
	// Zero means 1 s.
	Gap time.Duration
}

// Kind says what a stream carries.
type Kind uint8

const (
	KindRTP  Kind = iota // RTP (or SRTP, measured from its clear header)
	KindFax              // T.38 over UDPTL
	KindRTCP             // an RTCP flow nobody matched to an RTP stream (not in Result.Streams)
)

func (k Kind) String() string {
	switch k {
	case KindRTP:
		return "rtp"
	case KindFax:
		return "fax"
	case KindRTCP:
		return "rtcp"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// ProblemKind names a problem a detector found.
type ProblemKind uint8

const (
	OneWay           ProblemKind = iota + 1 // media in one direction only while the call was up
	NoMedia                                 // answered, but no media at all
	UnexpectedSource                        // media from an address other than the SDP said (NAT)
	PrivateSDP                              // SDP with a private address sent to a public peer
	AfterBye                                // media still flowing after the BYE
	Gap                                     // silence over Options.Gap inside a stream
	SSRCChange                              // a new SSRC on the same flow mid-call
	UnnegotiatedPT                          // payload type not in the negotiated answer
	SequenceErrors                          // Wireshark's "wrong sequence" / "wrong timestamp" flags
)

var problemNames = [...]string{"", "one-way", "no-media", "unexpected-source", "private-sdp", "after-bye", "gap", "ssrc-change", "unnegotiated-pt", "sequence-errors"}

func (k ProblemKind) String() string {
	if int(k) < len(problemNames) && k != 0 {
		return problemNames[k]
	}
	return fmt.Sprintf("ProblemKind(%d)", uint8(k))
}

// Problem is one finding, with where it shows.
type Problem struct {
	Kind   ProblemKind
	Detail string    // plain words, with the figures
	Time   time.Time // when it shows (zero if it is about the whole stream)
	File   string
	Frame  int // 0 if not tied to a frame
}

func (p Problem) String() string { return p.Kind.String() + ": " + p.Detail }

// DTMF is one RFC 4733 telephone event.
type DTMF struct {
	Digit    string
	Time     time.Time // first packet of the event
	Duration time.Duration
	Volume   uint8 // -dBm0
	Ended    bool  // an end-of-event packet was seen
	Frame    int
}

// RTCPStats is what RTCP said about a stream: the far end's reception
// reports on it (SR/RR report blocks and XR VoIP metrics naming its SSRC),
// and its sender's own SR, SDES and BYE.
type RTCPStats struct {
	SenderReports int    // SRs from this stream's SSRC
	CNAME         string // SDES CNAME of this stream's SSRC
	Bye           bool   // BYE from this stream's SSRC

	Reports        int     // report blocks about this stream from the far end
	FractionLost   float64 // percent, from the last report block
	CumulativeLost int64   // from the last report block (24-bit signed)
	JitterMs       float64 // interarrival jitter of the last report block, in ms (0 if the clock rate is unknown)
	MaxJitterMs    float64
	RTTMs          float64 // last round-trip time from LSR/DLSR, -1 if none
	MaxRTTMs       float64

	// XR VoIP metrics (RFC 3611 4.7) about this stream, the last one seen.
	XR *XRVoIP
}

// XRVoIP is an RTCP XR VoIP metrics block in plain units.
type XRVoIP struct {
	LossPct, DiscardPct float64
	RoundTripMs         int
	EndSystemDelayMs    int
	RFactor             int     // -1 if unavailable (127)
	MOSLQ, MOSCQ        float64 // -1 if unavailable
	JBNominalMs         int
}

// Stream is one RTP (or T.38) stream: one source address, destination
// address and SSRC, with Wireshark's figures and sipflow's.
type Stream struct {
	CallID    string // the Call-ID whose SDP announced it, "" for a heuristic stream
	Kind      Kind
	Src, Dst  netip.AddrPort
	SSRC      uint32
	Signalled bool   // announced by SDP (else found by --rtp-heuristic)
	SRTP      bool   // the SDP said RTP/SAVP(F): measured from the clear header
	Media     string // SDP media type: audio, video, image

	PayloadType int    // first payload type
	Payloads    []int  // distinct payload types in order of appearance
	Codec       string // encoding name of the first payload type (rtpmap, else the static table)
	ClockRate   int    // Hz, 0 if unknown (Wireshark then computes no jitter)

	File                             string
	FirstFrame                       int
	First, Last                      time.Time
	Packets                          int
	Expected                         int
	Lost                             int // expected - packets; negative with duplicates, as Wireshark prints it
	LostPct                          float64
	Duplicates                       int // a sequence number seen again among the last 64
	SequenceErrors                   int // Wireshark's count of packets out of sequence
	WrongTimestamps                  int // packets whose timestamp went backwards
	Markers                          int
	PTChanges                        int
	MinDelta, MeanDelta, MaxDelta    float64 // ms, regular packets only
	MinJitter, MeanJitter, MaxJitter float64 // ms, regular packets only
	MaxSkew                          float64 // ms
	ComfortNoise                     int     // CN packets (PT 13, 19 or rtpmap CN)
	Events                           []DTMF
	JitterBufferLate                 int     // packets a fixed jitter buffer would discard
	Bytes                            int64   // RTP payload bytes
	MaxGap                           float64 // ms, the longest silence between packets

	RTCP RTCPStats

	// E-model (ITU-T G.107) estimate for this direction.
	R, MOS     float64 // -1 when not computed (no clock rate, video, fax)
	EffLossPct float64 // loss plus jitter-buffer discards, percent
	DelayMs    float64 // one-way delay assumed for the E-model

	Problems []Problem
}

// CallMedia is the media of one call in a Call-ID.
type CallMedia struct {
	CallID string
	Start  time.Time // the call's first SIP message
	// Next is the next call in the same Call-ID: a new dialog (an INVITE
	// without To tag) after this call's BYE, as when a Call-ID is used
	// again, or the same call was captured twice. Nil for most calls.
	Next     *CallMedia
	Streams  []*Stream
	Problems []Problem // call-level and every stream's
	Fax      bool      // T.38 was negotiated
	// LogOnly says every message of the call came from a text log: its
	// media could not be seen, and no media problem is looked for.
	LogOnly bool
}
