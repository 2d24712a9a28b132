// Package rtp decodes RTP (RFC 3550), RTCP (SR, RR, SDES, BYE, XR VoIP
// metrics of RFC 3611) and RFC 4733 telephone events from UDP payloads.
//
// RTP headers are decoded by github.com/pion/rtp into a Packet the caller
// owns and reuses (no allocation per packet); pion accepts version 0, so
// Decode checks the version itself. SRTP (RFC 3711) keeps the RTP header in
// the clear, so an SRTP packet decodes like RTP: only its payload (and the
// authentication tag counted in it) is unreadable. RTCP compound packets are
// decoded by github.com/pion/rtcp into a Report (RTCP is a few packets per
// second, so its allocations do not matter).
package rtp

import (
	"encoding/binary"
	"errors"
	"fmt"

	pionrtp "github.com/pion/rtp"
)

var (
	ErrTruncated  = errors.New("rtp: truncated packet")
	ErrVersion    = errors.New("rtp: version is not 2")
	ErrPadding    = errors.New("rtp: bad padding")
	ErrNotRTCP    = errors.New("rtp: not an RTCP packet")
	ErrBadRTCP    = errors.New("rtp: malformed RTCP")
	ErrBadEvent   = errors.New("rtp: malformed telephone event")
	ErrRTCPPacket = errors.New("rtp: RTCP payload type in an RTP position")
)

// HeaderLen is the fixed RTP header length.
const HeaderLen = 12

// Packet is one decoded RTP packet. Payload aliases the buffer given to
// Decode and is valid only as long as that buffer is.
type Packet struct {
	pionrtp.Header
	Payload []byte // without padding
	Padding int    // padding bytes removed from the end
}

// Decode decodes b into p, resetting every field. It returns ErrVersion for
// anything but version 2 and ErrTruncated when the header (with its CSRCs
// and extension) or the padding does not fit.
func Decode(b []byte, p *Packet) error {
	if len(b) < HeaderLen {
		return fmt.Errorf("%w: %d bytes", ErrTruncated, len(b))
	}
	if v := b[0] >> 6; v != 2 {
		return fmt.Errorf("%w: version %d", ErrVersion, v)
	}
	n, err := p.Header.Unmarshal(b)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrTruncated, err)
	}
	p.Payload = b[n:]
	p.Padding = 0
	if p.Header.Padding {
		if len(p.Payload) == 0 {
			return fmt.Errorf("%w: padding bit set on an empty payload", ErrPadding)
		}
		pad := int(p.Payload[len(p.Payload)-1])
		if pad == 0 || pad > len(p.Payload) {
			return fmt.Errorf("%w: %d padding bytes in a %d-byte payload", ErrPadding, pad, len(p.Payload))
		}
		p.Padding = pad
		p.Payload = p.Payload[:len(p.Payload)-pad]
	}
	return nil
}

// Fixed is the fixed part of an RTP header, decoded by hand without
// CSRCs or extensions: the hot path of stream analysis needs nothing more.
type Fixed struct {
	Marker      bool
	PayloadType uint8
	Seq         uint16
	Timestamp   uint32
	SSRC        uint32
	PayloadLen  int // bytes after the header, CSRCs and extension, padding included
	PayloadOff  int // offset of the payload in the packet
}

// DecodeFixed decodes the fixed header of b into f with the same checks as
// Decode (version 2, CSRCs and extension inside the packet), without
// allocating and without touching pion's slices.
func DecodeFixed(b []byte, f *Fixed) error {
	if len(b) < HeaderLen {
		return ErrTruncated
	}
	if b[0]>>6 != 2 {
		return ErrVersion
	}
	off := HeaderLen + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 {
		if len(b) < off+4 {
			return ErrTruncated
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	}
	if off > len(b) {
		return ErrTruncated
	}
	f.Marker = b[1]&0x80 != 0
	f.PayloadType = b[1] & 0x7f
	f.Seq = binary.BigEndian.Uint16(b[2:])
	f.Timestamp = binary.BigEndian.Uint32(b[4:])
	f.SSRC = binary.BigEndian.Uint32(b[8:])
	f.PayloadOff = off
	f.PayloadLen = len(b) - off
	return nil
}

// IsRTCP says whether b looks like an RTCP packet: version 2, a first
// packet type 192-223 (SR 200, RR 201, SDES 202, BYE 203, APP 204, the
// feedback types 205-207, XR 207; 192-199 are FIR/NACK/SMPTE/IJ), and a
// length that fits. It is how RTCP on a multiplexed port (RFC 5761) is told
// from RTP, whose payload types 72-95 it would otherwise take.
func IsRTCP(b []byte) bool {
	if len(b) < 4 || b[0]>>6 != 2 {
		return false
	}
	if b[1] < 192 || b[1] > 223 {
		return false
	}
	return 4*(int(binary.BigEndian.Uint16(b[2:]))+1) <= len(b)
}

// Plausible says whether b could be an RTP packet seen without signalling:
// version 2, a header that fits, and a payload type that is not in the
// RTCP-conflict range 72-76 (RFC 5761 section 4). Stream finders add the
// stable-SSRC, rising-sequence test on top.
func Plausible(b []byte) bool {
	var f Fixed
	if DecodeFixed(b, &f) != nil {
		return false
	}
	return f.PayloadType < 72 || f.PayloadType > 76
}
