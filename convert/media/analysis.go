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
type analysis struct {
	started     bool
	flags       int
	startSeq    int
	stopSeq     int
	seqNum      int
	seqCycles   int
	under       bool
	sequence    int // packets out of sequence
	wrongTS     int
	timestamp   int64 // extended
	firstTS     int64 // extended timestamp of the first packet
	startTime   float64
	time        float64
	lastNominal float64
	pt          int
	regPT       int
	delta       float64
	maxDelta    float64
	minDelta    float64
	meanDelta   float64
	jitter      float64
	minJitter   float64
	maxJitter   float64
	meanJitter  float64
	diff        float64
	skew        float64
	maxSkew     float64
	totalNr     int
	clockRate   int
	markers     int
	ptChanges   int
}

// add analyses one packet. now is ms since the first packet of the input,
// extTS the extended (unwrapped) RTP timestamp, clock the clock rate
// Wireshark would use (0: none, no jitter), tevent whether the payload type
// is a telephone-event one.
func (s *analysis) add(now float64, seq int, extTS int64, pt int, marker bool, clock int, tevent bool) {
	if marker {
		s.markers++
	}
	if !s.started {
		s.started = true
		s.startSeq, s.stopSeq, s.seqNum = seq, seq, seq
		s.time = now
		s.timestamp, s.firstTS = extTS, extTS
		s.startTime = now
		s.pt, s.regPT = pt, pt
		s.minDelta, s.minJitter = -1, -1
		s.totalNr = 1
		s.flags = flagFirst
		if marker {
			s.flags |= flagMarker
		}
		return
	}
	s.flags = 0
	// tshark 4.0: "in time sequence" is relative to the first packet
	inTime := s.firstTS <= extTS
	if !inTime {
		s.flags |= flagWrongTimestamp
		s.wrongTS++
	}
	switch {
	case seq < s.startSeq && inTime && !s.under:
		s.seqCycles++
		s.under = true
	case seq == 0 && s.stopSeq == 65535 && inTime && !s.under:
		s.seqCycles++
		s.under = true
	case seq > s.startSeq && inTime && s.under:
		s.under = false
	}
	switch {
	case inTime && s.seqNum+1 == seq:
		s.seqNum = seq
	case inTime && s.seqNum == 65535 && seq == 0:
		s.seqNum = seq
	case inTime && (s.seqNum+1 < seq || s.seqNum-seq > 0xFF00):
		s.seqNum = seq
		s.sequence++
		s.flags |= flagWrongSeq
	case s.seqNum+1 > seq:
		s.sequence++
		s.flags |= flagWrongSeq
	}
	if pt == ptCN || pt == ptCNOld {
		s.flags |= flagPTCN
	}
	if s.pt == ptCN || s.pt == ptCNOld {
		s.flags |= flagFollowPTCN
	}
	if pt != s.pt {
		s.flags |= flagPTChange
		s.ptChanges++
	}
	s.pt = pt
	if tevent {
		s.flags |= flagTEvent
	}

	var curJitter float64
	if inTime {
		// tshark 4.0: the nominal time is the timestamp since the first
		// packet; lastNominal moves only on packets with a clock rate
		// (not on telephone events), time on every in-sequence packet.
		if clock != 0 {
			s.clockRate = clock
			nominal := float64(extTS-s.firstTS) / float64(clock/1000) // integer division, as in C
			expected := s.time + (nominal - s.lastNominal)
			curDiff := math.Abs(now - expected)
			curJitter = (15*s.jitter + curDiff) / 16
			s.delta = now - s.time
			s.jitter = curJitter
			s.diff = curDiff
			s.lastNominal = nominal
			s.skew = nominal - (now - s.startTime)
			if math.Abs(s.skew) > math.Abs(s.maxSkew) {
				s.maxSkew = s.skew
			}
		} else {
			s.delta = now - s.time
		}
	}
	if marker {
		s.flags |= flagMarker
	}
	if s.flags&(flagFirst|flagMarker|flagPTCN|flagWrongTimestamp|flagFollowPTCN) == 0 {
		if s.delta > s.maxDelta {
			s.maxDelta = s.delta
		}
		if s.minDelta == -1 || s.delta < s.minDelta {
			s.minDelta = s.delta
		}
		s.meanDelta = (s.meanDelta*float64(s.totalNr-1) + s.delta) / float64(s.totalNr)
		if clock != 0 {
			if s.jitter > s.maxJitter {
				s.maxJitter = s.jitter
			}
			s.meanJitter = (s.meanJitter*float64(s.totalNr-1) + curJitter) / float64(s.totalNr)
			if s.minJitter == -1 || s.jitter < s.minJitter {
				s.minJitter = s.jitter
			}
		}
	}
	if s.flags&flagPTCN == 0 {
		s.regPT = s.pt
	}
	if inTime {
		s.time = now
	}
	s.timestamp = extTS
	s.stopSeq = seq
	s.totalNr++
}

// expected is Wireshark's packet_expected.
func (s *analysis) expected() int {
	return s.stopSeq + s.seqCycles*0x10000 - s.startSeq + 1
}

// unwrap extends a 32-bit RTP timestamp given the last extended one.
func unwrap(last int64, ts uint32, first bool) int64 {
	if first {
		return int64(ts) + 1<<32
	}
	return last + int64(int32(ts-uint32(last)))
}
