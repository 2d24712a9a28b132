package main

import "encoding/binary"

// Frame layout written by gencap: Ethernet II, IPv4 without options, UDP.
const (
	ethLen    = 14
	ipLen     = 20
	udpLen    = 8
	hdrLen    = ethLen + ipLen + udpLen // 42: the payload starts here
	rtpHdrLen = 12
	g711Len   = 160 // 20 ms of G.711 at 8 kHz
	// rtpFrameLen is the length on the wire of one RTP packet.
	rtpFrameLen = hdrLen + rtpHdrLen + g711Len // 214
	pcapRecHdr  = 16
	pcapFileHdr = 24

	tosSIP = 0x68 // DSCP AF31, what SBCs and phones mark signalling with
	tosRTP = 0xb8 // DSCP EF
)

// endpoint is one side of a UDP flow.
type endpoint struct {
	ip   [4]byte
	port uint16
}

// mac derives a locally administered MAC address from an IPv4 address,
// so a host keeps the same MAC through the whole capture.
func mac(dst []byte, ip [4]byte) {
	dst[0], dst[1] = 0x02, 0x00
	copy(dst[2:6], ip[:])
}

// fillHeaders writes the Ethernet, IPv4 and UDP headers in frame[:hdrLen]
// for a payload already in frame[hdrLen:]. The IPv4 header checksum and the
// UDP checksum are computed.
func fillHeaders(frame []byte, src, dst endpoint, tos byte, ipID uint16) {
	payloadLen := len(frame) - hdrLen
	mac(frame[0:6], dst.ip)
	mac(frame[6:12], src.ip)
	frame[12], frame[13] = 0x08, 0x00

	ip := frame[ethLen : ethLen+ipLen]
	ip[0] = 0x45
	ip[1] = tos
	binary.BigEndian.PutUint16(ip[2:4], uint16(ipLen+udpLen+payloadLen))
	binary.BigEndian.PutUint16(ip[4:6], ipID)
	binary.BigEndian.PutUint16(ip[6:8], 0x4000) // DF
	ip[8] = 64
	ip[9] = 17
	ip[10], ip[11] = 0, 0
	copy(ip[12:16], src.ip[:])
	copy(ip[16:20], dst.ip[:])
	binary.BigEndian.PutUint16(ip[10:12], ^fold(sum16(ip, 0)))

	udp := frame[ethLen+ipLen : hdrLen]
	binary.BigEndian.PutUint16(udp[0:2], src.port)
	binary.BigEndian.PutUint16(udp[2:4], dst.port)
	binary.BigEndian.PutUint16(udp[4:6], uint16(udpLen+payloadLen))
	udp[6], udp[7] = 0, 0
	// Pseudo header: addresses, protocol, UDP length.
	s := sum16(ip[12:20], 0)
	s += 17 + uint32(udpLen+payloadLen)
	s = sum16(frame[ethLen+ipLen:], s)
	c := ^fold(s)
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(udp[6:8], c)
}

// sum16 adds b as big-endian 16-bit words to s (one's complement, unfolded).
func sum16(b []byte, s uint32) uint32 {
	n := len(b) &^ 1
	for i := 0; i < n; i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)&1 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	return s
}

func fold(s uint32) uint16 {
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// putRTP writes a 12-byte RTP header (version 2, no padding, extension or
// CSRC) into b.
func putRTP(b []byte, marker bool, pt uint8, seq uint16, ts, ssrc uint32) {
	b[0] = 0x80
	b[1] = pt & 0x7f
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:4], seq)
	binary.BigEndian.PutUint32(b[4:8], ts)
	binary.BigEndian.PutUint32(b[8:12], ssrc)
}
