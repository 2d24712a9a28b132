// Package hep decodes HEP (Homer Encapsulation Protocol) versions 1, 2 and
// 3, the format capture agents (heplify, Kamailio siptrace, OpenSIPS,
// FreeSWITCH, Asterisk res_hep) use to mirror SIP to a HOMER server.
//
// Decode fills a caller-owned Packet. Payload points into the input buffer,
// except for a compressed HEP3 payload (chunk 0x10), which is inflated into
// a buffer the Packet keeps and reuses across calls.
package hep

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"
)

// Sentinel errors.
var (
	ErrNotHEP    = errors.New("hep: not a HEP packet")
	ErrMalformed = errors.New("hep: malformed packet")
)

// MaxPayload bounds the size a compressed payload may inflate to.
const MaxPayload = 1 << 20

// Protocol types carried in chunk 0x0b (and what HEP2 implies: SIP).
const (
	ProtoTypeSIP  = 1
	ProtoTypeXMPP = 2
	ProtoTypeSDP  = 3
	ProtoTypeRTP  = 4
	ProtoTypeRTCP = 5
	ProtoTypeLog  = 100
)

// Chunk types of HEP3 (vendor 0, the generic ones).
const (
	chunkFamily      = 0x01
	chunkProto       = 0x02
	chunkIPv4Src     = 0x03
	chunkIPv4Dst     = 0x04
	chunkIPv6Src     = 0x05
	chunkIPv6Dst     = 0x06
	chunkSrcPort     = 0x07
	chunkDstPort     = 0x08
	chunkTsSec       = 0x09
	chunkTsUsec      = 0x0a
	chunkProtoType   = 0x0b
	chunkCaptureID   = 0x0c
	chunkAuthKey     = 0x0e
	chunkPayload     = 0x0f
	chunkCompressed  = 0x10
	chunkCorrelation = 0x11
)

// Packet is one decoded HEP packet. Decode resets every field.
type Packet struct {
	Version       int // 1, 2 or 3
	Src, Dst      netip.AddrPort
	Proto         uint8     // IP protocol of the original packet: 17 UDP, 6 TCP, 132 SCTP...
	Time          time.Time // UTC; zero for HEP1, which carries no time
	ProtoType     uint8     // what the payload is: 1 SIP (HEP1/2 imply SIP)
	CaptureID     uint32
	CorrelationID string
	Compressed    bool   // the payload came in chunk 0x10 and was inflated
	Payload       []byte // points into the input, or into the Packet's own buffer when Compressed

	inflated bytes.Buffer
}

// IsHEP reports whether b starts like a HEP packet. It is cheap: it looks at
// the magic (HEP3) or at the fixed header fields (HEP1/2) only.
func IsHEP(b []byte) bool {
	if len(b) >= 4 && b[0] == 'H' && b[1] == 'E' && b[2] == 'P' && b[3] == '3' {
		return true
	}
	if len(b) < 16 || (b[0] != 1 && b[0] != 2) {
		return false
	}
	switch {
	case b[1] == 16 && b[2] == 2: // IPv4
	case b[1] == 40 && b[2] == 10 && len(b) >= 40: // IPv6
	default:
		return false
	}
	return b[3] == 17 || b[3] == 6 || b[3] == 132
}

// MessageLen frames the first HEP3 message in a stream buffer (HEP over
// TCP). n is the message's total length when known; complete reports
// whether b holds all of it. err wraps ErrNotHEP when b does not start with
// the HEP3 magic, ErrMalformed when the length is impossible.
func MessageLen(b []byte) (n int, complete bool, err error) {
	const magic = "HEP3"
	m := min(len(b), 4)
	if string(b[:m]) != magic[:m] {
		return 0, false, fmt.Errorf("%w: no HEP3 magic", ErrNotHEP)
	}
	if len(b) < 6 {
		return 0, false, nil
	}
	n = int(binary.BigEndian.Uint16(b[4:6]))
	if n < 6 {
		return 0, false, fmt.Errorf("%w: total length %d", ErrMalformed, n)
	}
	return n, len(b) >= n, nil
}

// Decode decodes one HEP packet from b into p. The payload must be all of
// b for HEP1/2 (they carry no length); for HEP3 the total length is
// honoured and bytes after it are ignored.
func Decode(b []byte, p *Packet) error {
	buf := p.inflated
	*p = Packet{}
	p.inflated = buf
	p.inflated.Reset()
	if len(b) >= 4 && string(b[:4]) == "HEP3" {
		return p.decode3(b)
	}
	if len(b) >= 1 && (b[0] == 1 || b[0] == 2) {
		return p.decode12(b)
	}
	return ErrNotHEP
}

// decode12 decodes HEP version 1 and 2:
//
//	u8 version, u8 header length, u8 family, u8 proto, u16 sport, u16 dport,
//	src and dst address (4 or 16 bytes each),
//	version 2 only: u32 sec, u32 usec, u16 capture id (little endian, as
//	the x86 agents write them), then the payload.
func (p *Packet) decode12(b []byte) error {
	if len(b) < 8 {
		return fmt.Errorf("%w: %d bytes, short HEP%d header", ErrMalformed, len(b), b[0])
	}
	p.Version = int(b[0])
	hl := int(b[1])
	var alen int
	switch b[2] {
	case 2:
		alen = 4
	case 10:
		alen = 16
	default:
		return fmt.Errorf("%w: HEP%d address family %d at byte 2", ErrMalformed, p.Version, b[2])
	}
	if hl != 8+2*alen {
		return fmt.Errorf("%w: HEP%d header length %d at byte 1", ErrMalformed, p.Version, hl)
	}
	if len(b) < hl {
		return fmt.Errorf("%w: %d bytes, header needs %d", ErrMalformed, len(b), hl)
	}
	p.Proto = b[3]
	sport := binary.BigEndian.Uint16(b[4:6])
	dport := binary.BigEndian.Uint16(b[6:8])
	var src, dst netip.Addr
	if alen == 4 {
		src = netip.AddrFrom4([4]byte(b[8:12]))
		dst = netip.AddrFrom4([4]byte(b[12:16]))
	} else {
		src = netip.AddrFrom16([16]byte(b[8:24]))
		dst = netip.AddrFrom16([16]byte(b[24:40]))
	}
	p.Src = netip.AddrPortFrom(src, sport)
	p.Dst = netip.AddrPortFrom(dst, dport)
	p.ProtoType = ProtoTypeSIP
	off := hl
	if p.Version == 2 {
		if len(b) < off+10 {
			return fmt.Errorf("%w: %d bytes, HEP2 time header needs %d", ErrMalformed, len(b), off+10)
		}
		sec := binary.LittleEndian.Uint32(b[off:])
		usec := binary.LittleEndian.Uint32(b[off+4:])
		p.CaptureID = uint32(binary.LittleEndian.Uint16(b[off+8:]))
		p.Time = time.Unix(int64(sec), int64(usec%1_000_000)*1000).UTC()
		off += 10
	}
	p.Payload = b[off:]
	return nil
}

// decode3 decodes HEP3: "HEP3", u16 total length, then chunks of
// u16 vendor, u16 type, u16 length (including these 6 bytes), data.
func (p *Packet) decode3(b []byte) error {
	p.Version = 3
	if len(b) < 6 {
		return fmt.Errorf("%w: %d bytes, short HEP3 header", ErrMalformed, len(b))
	}
	total := int(binary.BigEndian.Uint16(b[4:6]))
	if total < 6 || total > len(b) {
		return fmt.Errorf("%w: HEP3 total length %d, have %d bytes", ErrMalformed, total, len(b))
	}
	b = b[:total]
	var (
		family             uint8
		src4, dst4         netip.Addr
		src6, dst6         netip.Addr
		sport, dport       uint16
		sec, usec          uint32
		haveSec, havePload bool
	)
	for off := 6; off < total; {
		if total-off < 6 {
			return fmt.Errorf("%w: %d trailing bytes at byte %d, short chunk header", ErrMalformed, total-off, off)
		}
		vendor := binary.BigEndian.Uint16(b[off:])
		typ := binary.BigEndian.Uint16(b[off+2:])
		clen := int(binary.BigEndian.Uint16(b[off+4:]))
		if clen < 6 || off+clen > total {
			return fmt.Errorf("%w: chunk type %#x length %d at byte %d", ErrMalformed, typ, clen, off)
		}
		d := b[off+6 : off+clen]
		at := off
		off += clen
		if vendor != 0 {
			continue // vendor-specific chunk
		}
		bad := func() error {
			return fmt.Errorf("%w: chunk type %#x has %d data bytes at byte %d", ErrMalformed, typ, len(d), at)
		}
		switch typ {
		case chunkFamily:
			if len(d) != 1 {
				return bad()
			}
			family = d[0]
		case chunkProto:
			if len(d) != 1 {
				return bad()
			}
			p.Proto = d[0]
		case chunkIPv4Src, chunkIPv4Dst:
			if len(d) != 4 {
				return bad()
			}
			a := netip.AddrFrom4([4]byte(d))
			if typ == chunkIPv4Src {
				src4 = a
			} else {
				dst4 = a
			}
		case chunkIPv6Src, chunkIPv6Dst:
			if len(d) != 16 {
				return bad()
			}
			a := netip.AddrFrom16([16]byte(d))
			if typ == chunkIPv6Src {
				src6 = a
			} else {
				dst6 = a
			}
		case chunkSrcPort, chunkDstPort:
			if len(d) != 2 {
				return bad()
			}
			if typ == chunkSrcPort {
				sport = binary.BigEndian.Uint16(d)
			} else {
				dport = binary.BigEndian.Uint16(d)
			}
		case chunkTsSec, chunkTsUsec:
			if len(d) != 4 {
				return bad()
			}
			if typ == chunkTsSec {
				sec, haveSec = binary.BigEndian.Uint32(d), true
			} else {
				usec = binary.BigEndian.Uint32(d)
			}
		case chunkProtoType:
			if len(d) != 1 {
				return bad()
			}
			p.ProtoType = d[0]
		case chunkCaptureID:
			switch len(d) {
			case 4:
				p.CaptureID = binary.BigEndian.Uint32(d)
			case 2: // some old agents
				p.CaptureID = uint32(binary.BigEndian.Uint16(d))
			default:
				return bad()
			}
		case chunkPayload:
			p.Payload, havePload = d, true
		case chunkCompressed:
			if err := p.inflate(d); err != nil {
				return fmt.Errorf("%w: compressed payload at byte %d: %v", ErrMalformed, at, err)
			}
			p.Payload, havePload, p.Compressed = p.inflated.Bytes(), true, true
		case chunkCorrelation:
			p.CorrelationID = string(d)
		}
	}
	var src, dst netip.Addr
	switch {
	case family == 10 || (family == 0 && src6.IsValid()):
		src, dst = src6, dst6
	default:
		src, dst = src4, dst4
	}
	if src.IsValid() {
		p.Src = netip.AddrPortFrom(src, sport)
	}
	if dst.IsValid() {
		p.Dst = netip.AddrPortFrom(dst, dport)
	}
	if haveSec {
		p.Time = time.Unix(int64(sec), int64(usec%1_000_000)*1000).UTC()
	}
	if !havePload {
		p.Payload = nil
	}
	return nil
}

// inflate decompresses a chunk 0x10 payload: zlib (what heplify and
// Kamailio send), gzip, or raw deflate is not accepted.
func (p *Packet) inflate(d []byte) error {
	var r io.Reader
	var err error
	switch {
	case len(d) >= 2 && d[0] == 0x1f && d[1] == 0x8b:
		r, err = gzip.NewReader(bytes.NewReader(d))
	default:
		r, err = zlib.NewReader(bytes.NewReader(d))
	}
	if err != nil {
		return err
	}
	n, err := p.inflated.ReadFrom(io.LimitReader(r, MaxPayload+1))
	if err != nil {
		return err
	}
	if n > MaxPayload {
		return fmt.Errorf("inflates to more than %d bytes", MaxPayload)
	}
	return nil
}

// AppendHEP3 appends p encoded as HEP3 to dst: the chunks for family,
// protocol, addresses, ports, time, protocol type, capture id, correlation
// id (when set) and the payload (uncompressed, chunk 0x0f). It is the
// inverse of Decode for what Decode reports, and serves to build test
// captures and HEP exports.
func AppendHEP3(dst []byte, p *Packet) []byte {
	start := len(dst)
	dst = append(dst, 'H', 'E', 'P', '3', 0, 0)
	chunk := func(typ uint16, d ...byte) {
		dst = binary.BigEndian.AppendUint16(dst, 0)
		dst = binary.BigEndian.AppendUint16(dst, typ)
		dst = binary.BigEndian.AppendUint16(dst, uint16(6+len(d)))
		dst = append(dst, d...)
	}
	u16 := func(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
	u32 := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	src, dstA := p.Src.Addr(), p.Dst.Addr()
	if src.Is4() || (!src.IsValid() && dstA.Is4()) {
		chunk(chunkFamily, 2)
	} else if src.IsValid() || dstA.IsValid() {
		chunk(chunkFamily, 10)
	}
	chunk(chunkProto, p.Proto)
	for i, a := range []netip.Addr{src, dstA} {
		switch {
		case a.Is4():
			b := a.As4()
			chunk(uint16(chunkIPv4Src+i), b[:]...)
		case a.IsValid():
			b := a.As16()
			chunk(uint16(chunkIPv6Src+i), b[:]...)
		}
	}
	chunk(chunkSrcPort, u16(p.Src.Port())...)
	chunk(chunkDstPort, u16(p.Dst.Port())...)
	if !p.Time.IsZero() {
		chunk(chunkTsSec, u32(uint32(p.Time.Unix()))...)
		chunk(chunkTsUsec, u32(uint32(p.Time.Nanosecond()/1000))...)
	}
	chunk(chunkProtoType, p.ProtoType)
	chunk(chunkCaptureID, u32(p.CaptureID)...)
	if p.CorrelationID != "" {
		chunk(chunkCorrelation, []byte(p.CorrelationID)...)
	}
	if p.Payload != nil {
		chunk(chunkPayload, p.Payload...)
	}
	binary.BigEndian.PutUint16(dst[start+4:], uint16(len(dst)-start))
	return dst
}
