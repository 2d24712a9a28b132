package media

import "math"

// Payload types with a special meaning in the analysis.
const (
	ptCN    = 13
	ptCNOld = 19
)

// wsFlags are the per-packet flags of Wireshark's analysis.
const (
	flagFirst = 1 << iota
	flagMarker
	flagWrongSeq
	flagPTChange
	flagPTCN
	flagFollowPTCN
	flagWrongTimestamp
	flagTEvent
)

// analysis is Wireshark's tap_rtp_stat_t and rtppacket_analyse
// (ui/tap-rtp-analysis.c), figure for figure: times in ms relative to the
// first packet of the capture, the 1/16 jitter filter, "regular" packets
// (not the first, no marker, not CN, not after CN, timestamp not backwards)
// only for min/mean/max delta and jitter, and lost = expected - received.
//
// It is every packet's work on a trunk, for streams that each see a packet
// every few hundred packets of the capture: it keeps what a packet needs in
// as few cache lines as it can (values that hold in 32 bits in 32 bits,
// Wireshark's per-packet delta, diff and skew in locals), as a missed line
// costs more than the arithmetic.
type analysis struct {
	// floats, ms
	startTime   float64
	time        float64
	lastNominal float64
	jitter      float64
	maxDelta    float64
	minDelta    float64
	meanDelta   float64
	minJitter   float64
	maxJitter   float64
	meanJitter  float64
	maxSkew     float64
	firstTS     int64 // extended timestamp of the first packet
	startSeq    int32
	stopSeq     int32
	seqNum      int32
	seqCycles   int32
	sequence    int32 // packets out of sequence
	wrongTS     int32
	totalNr     int32
	clockRate   int32
	markers     int32
	ptChanges   int32
	pt          int16
	regPT       int16
	flags       uint8
	started     bool
	under       bool
}

// add analyses one packet. now is ms since the first packet of the input,
// extTS the extended (unwrapped) RTP timestamp, in what the payload type
// means: the clock rate Wireshark would use (0: none, no jitter), and
// whether it is a telephone-event one.
func (s *analysis) add(now float64, seq int, extTS int64, pt int, marker bool, in *ptInfo) {
	clock := in.clock
	if marker {
		s.markers++
	}
	sq := int32(seq)
	if !s.started {
		s.started = true
		s.startSeq, s.stopSeq, s.seqNum = sq, sq, sq
		s.time = now
		s.firstTS = extTS
		s.startTime = now
		s.pt, s.regPT = int16(pt), int16(pt)
		s.minDelta, s.minJitter = -1, -1
		s.totalNr = 1
		s.flags = flagFirst
		if marker {
			s.flags |= flagMarker
		}
		return
	}
	var flags uint8
	// tshark 4.0: "in time sequence" is relative to the first packet
	inTime := s.firstTS <= extTS
	if !inTime {
		flags |= flagWrongTimestamp
		s.wrongTS++
	}
	switch {
	case sq < s.startSeq && inTime && !s.under:
		s.seqCycles++
		s.under = true
	case sq == 0 && s.stopSeq == 65535 && inTime && !s.under:
		s.seqCycles++
		s.under = true
	case sq > s.startSeq && inTime && s.under:
		s.under = false
	}
	switch {
	case inTime && s.seqNum+1 == sq:
		s.seqNum = sq
	case inTime && s.seqNum == 65535 && sq == 0:
		s.seqNum = sq
	case inTime && (s.seqNum+1 < sq || s.seqNum-sq > 0xFF00):
		s.seqNum = sq
		s.sequence++
		flags |= flagWrongSeq
	case s.seqNum+1 > sq:
		s.sequence++
		flags |= flagWrongSeq
	}
	if pt == ptCN || pt == ptCNOld {
		flags |= flagPTCN
	}
	if s.pt == ptCN || s.pt == ptCNOld {
		flags |= flagFollowPTCN
	}
	if int16(pt) != s.pt {
		flags |= flagPTChange
		s.ptChanges++
	}
	s.pt = int16(pt)
	if in.tevent {
		flags |= flagTEvent
	}

	// delta is only read below for packets in time sequence, which set it
	var curJitter, delta float64
	if inTime {
		// tshark 4.0: the nominal time is the timestamp since the first
		// packet; lastNominal moves only on packets with a clock rate
		// (not on telephone events), time on every in-sequence packet.
		delta = now - s.time
		if clock != 0 {
			s.clockRate = clock
			nominal := float64(extTS-s.firstTS) / in.khzInt // clock/1000 in integers, as in C
			expected := s.time + (nominal - s.lastNominal)
			curDiff := math.Abs(now - expected)
			curJitter = (15*s.jitter + curDiff) / 16
			s.jitter = curJitter
			s.lastNominal = nominal
			skew := nominal - (now - s.startTime)
			if math.Abs(skew) > math.Abs(s.maxSkew) {
				s.maxSkew = skew
			}
		}
	}
	if marker {
		flags |= flagMarker
	}
	s.flags = flags
	if flags&(flagFirst|flagMarker|flagPTCN|flagWrongTimestamp|flagFollowPTCN) == 0 {
		if delta > s.maxDelta {
			s.maxDelta = delta
		}
		if s.minDelta == -1 || delta < s.minDelta {
			s.minDelta = delta
		}
		n := float64(s.totalNr)
		s.meanDelta = (s.meanDelta*(n-1) + delta) / n
		if clock != 0 {
			if s.jitter > s.maxJitter {
				s.maxJitter = s.jitter
			}
			s.meanJitter = (s.meanJitter*(n-1) + curJitter) / n
			if s.minJitter == -1 || s.jitter < s.minJitter {
				s.minJitter = s.jitter
			}
		}
	}
	if flags&flagPTCN == 0 {
		s.regPT = s.pt
	}
	if inTime {
		s.time = now
	}
	s.stopSeq = sq
	s.totalNr++
}

// expected is Wireshark's packet_expected.
func (s *analysis) expected() int {
	return int(s.stopSeq) + int(s.seqCycles)*0x10000 - int(s.startSeq) + 1
}

// unwrap extends a 32-bit RTP timestamp given the last extended one.
func unwrap(last int64, ts uint32, first bool) int64 {
	if first {
		return int64(ts) + 1<<32
	}
	return last + int64(int32(ts-uint32(last)))
}
