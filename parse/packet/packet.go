// Package packet decodes captured frames down to the transport layer:
// link headers (Ethernet with VLAN/QinQ tags, Linux cooked SLL and SLL2,
// raw IP, BSD loopback, ERF), IPv4 and IPv6 with their extension headers,
// IP-in-IP and GRE tunnels, and UDP, TCP and SCTP. IPv4 and IPv6 fragments
// are reassembled, with the state held by a Decoder and expired by capture
// time.
//
// Headers are sliced by hand: decoding an unfragmented frame allocates
// nothing. Packet.Payload points into the frame or into a buffer owned by the
// Decoder, and is valid until the next Decode.
package packet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Sentinel errors. Decode errors wrap one of them.
var (
	ErrMalformed       = errors.New("packet: malformed")
	ErrUnsupportedLink = errors.New("packet: unsupported link type")
)

// TCP flags, as in the TCP header's flag byte.
const (
	FlagFIN = 1
	FlagSYN = 2
	FlagRST = 4
	FlagPSH = 8
	FlagACK = 16
)

// IP protocol numbers the decoder looks into.
const (
	ProtoIPIP = 4
	ProtoTCP  = 6
	ProtoUDP  = 17
	ProtoIPv6 = 41
	ProtoGRE  = 47
	ProtoSCTP = 132
)

// Packet is one decoded IP packet. Decode resets every field.
type Packet struct {
	Src, Dst         netip.Addr
	Proto            uint8 // 17 UDP, 6 TCP, 132 SCTP (others: Payload is the IP payload)
	SrcPort, DstPort uint16
	Seq, Ack         uint32 // TCP only
	Flags            uint8  // TCP only
	Payload          []byte // transport payload; valid until the next Decode
	Tunneled         bool   // came out of IP-in-IP or GRE
	Reassembled      bool   // rebuilt from IP fragments
	// IPID is the IPv4 identification (or the IPv6 fragment identification,
	// else 0). A packet captured twice keeps it; a datagram the application
	// sends twice (RFC 4733 end-of-event packets) does not.
	IPID uint32
}

// SrcAddrPort is the source address and port as a map key.
func (p *Packet) SrcAddrPort() netip.AddrPort { return netip.AddrPortFrom(p.Src, p.SrcPort) }

// DstAddrPort is the destination address and port as a map key.
func (p *Packet) DstAddrPort() netip.AddrPort { return netip.AddrPortFrom(p.Dst, p.DstPort) }

// Defaults of a new Decoder.
const (
	DefaultFragmentTimeout = 30 * time.Second
	DefaultMaxPending      = 64 << 20
)

// maxTunnelDepth bounds nested tunnels (IP-in-IP in GRE in ...).
const maxTunnelDepth = 8

// Decoder decodes frames and holds the IP fragment reassembly state. It is
// not safe for concurrent use; use one per capture file.
type Decoder struct {
	// FragmentTimeout is how long, in capture time, an incomplete set of
	// fragments is kept after its first fragment (zero: 30 s).
	FragmentTimeout time.Duration
	// MaxPending caps the bytes held in incomplete fragment sets; past it the
	// oldest sets are dropped (zero: 64 MiB).
	MaxPending int

	sets  map[fragKey]*fragSet
	order []orderEntry // sets by age; entries of finished sets are skipped
	head  int
	seq   uint64
	held  int
	free  []*fragSet
	reasm []byte // the last reassembled datagram, owned by the Decoder
	stats Stats
}

// Stats counts what happened to IP fragments.
type Stats struct {
	Fragments   int // fragments taken in
	Reassembled int // datagrams completed
	Expired     int // incomplete sets dropped after FragmentTimeout
	Evicted     int // incomplete sets dropped to stay under MaxPending
	Oversize    int // sets dropped for growing past the largest IP datagram
}

// NewDecoder returns a Decoder with the default timeout and memory cap.
func NewDecoder() *Decoder {
	return &Decoder{
		FragmentTimeout: DefaultFragmentTimeout,
		MaxPending:      DefaultMaxPending,
		sets:            make(map[fragKey]*fragSet),
	}
}

// Pending is the number of bytes held in incomplete fragment sets.
func (d *Decoder) Pending() int { return d.held }

// Idle reports that the Decoder holds no fragment: a frame that
// DecodeEthernetUDP4 decodes would change nothing in it.
func (d *Decoder) Idle() bool { return len(d.sets) == 0 }

// PendingSets is the number of incomplete fragment sets.
func (d *Decoder) PendingSets() int { return len(d.sets) }

// Stats returns the fragment counters.
func (d *Decoder) Stats() Stats { return d.stats }

// Decode decodes one frame of link type lt captured at ts into p.
// ok=false with err=nil means there is nothing to deliver: a frame that is
// not IP (ARP, LLDP, ...) or a fragment held for reassembly. A non-nil err
// wraps ErrMalformed or ErrUnsupportedLink.
func (d *Decoder) Decode(lt layers.LinkType, data []byte, ts time.Time, p *Packet) (ok bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			*p = Packet{}
			ok, err = false, fmt.Errorf("%w: decoder panic: %v", ErrMalformed, r)
		}
	}()
	return d.decode(lt, data, ts, p)
}

// DecodeUnrecovered is Decode without its panic recovery, for a caller that
// recovers around a whole loop of packets (one deferred recover per loop, not
// per packet). A decoder bug then panics in the caller.
func (d *Decoder) DecodeUnrecovered(lt layers.LinkType, data []byte, ts time.Time, p *Packet) (bool, error) {
	return d.decode(lt, data, ts, p)
}

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }
func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// Link types without a constant in gopacket.
const (
	linkTypeRawBSD     layers.LinkType = 12 // DLT_RAW on most BSDs and Linux
	linkTypeRawOpenBSD layers.LinkType = 14 // DLT_RAW on OpenBSD
	linkTypeERF        layers.LinkType = 197
)

func (d *Decoder) decode(lt layers.LinkType, data []byte, ts time.Time, p *Packet) (bool, error) {
	if len(d.sets) > 0 {
		d.expire(ts)
	}
	if lt == layers.LinkTypeEthernet && DecodeEthernetUDP4(data, p) {
		return true, nil
	}
	*p = Packet{}
	switch lt {
	case layers.LinkTypeEthernet:
		return d.ethernet(data, ts, p, 0)
	case layers.LinkTypeLinuxSLL:
		if len(data) < 16 {
			return false, malformed("SLL header: %d bytes", len(data))
		}
		return d.ethertype(be16(data[14:16]), data[16:], ts, p, 0)
	case layers.LinkTypeLinuxSLL2:
		if len(data) < 20 {
			return false, malformed("SLL2 header: %d bytes", len(data))
		}
		return d.ethertype(be16(data[0:2]), data[20:], ts, p, 0)
	case layers.LinkTypeRaw, linkTypeRawBSD, linkTypeRawOpenBSD:
		return d.rawIP(data, ts, p, 0)
	case layers.LinkTypeIPv4:
		return d.ipv4(data, ts, p, 0)
	case layers.LinkTypeIPv6:
		return d.ipv6(data, ts, p, 0)
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return d.loopback(data, ts, p)
	case linkTypeERF:
		return d.erf(data, ts, p)
	case layers.LinkTypePPP:
		return d.ppp(data, ts, p)
	}
	return false, fmt.Errorf("%w: %d (%s)", ErrUnsupportedLink, uint16(lt), lt)
}

func (d *Decoder) rawIP(b []byte, ts time.Time, p *Packet, depth int) (bool, error) {
	if len(b) == 0 {
		return false, malformed("raw IP: empty frame")
	}
	switch b[0] >> 4 {
	case 4:
		return d.ipv4(b, ts, p, depth)
	case 6:
		return d.ipv6(b, ts, p, depth)
	}
	return false, malformed("raw IP: version %d", b[0]>>4)
}

// loopback decodes BSD null (host byte order) and OpenBSD loop (network
// byte order) frames; both byte orders are accepted for either.
func (d *Decoder) loopback(b []byte, ts time.Time, p *Packet) (bool, error) {
	if len(b) < 4 {
		return false, malformed("loopback header: %d bytes", len(b))
	}
	af := binary.LittleEndian.Uint32(b)
	if af&0xffff0000 != 0 {
		af = be32(b)
	}
	switch af {
	case 2: // AF_INET everywhere
		return d.ipv4(b[4:], ts, p, 0)
	case 10, 23, 24, 28, 30: // AF_INET6: Linux, Windows, Net/OpenBSD, FreeBSD, Darwin
		return d.ipv6(b[4:], ts, p, 0)
	}
	return false, nil
}

// erf decodes Endace ERF records carrying Ethernet or IP.
func (d *Decoder) erf(b []byte, ts time.Time, p *Packet) (bool, error) {
	if len(b) < 16 {
		return false, malformed("ERF header: %d bytes", len(b))
	}
	typ := b[8]
	hl := 16
	for t := typ; t&0x80 != 0; {
		if len(b) < hl+8 {
			return false, malformed("ERF extension header: %d bytes", len(b))
		}
		t = b[hl]
		hl += 8
	}
	body := b[hl:]
	switch typ & 0x7f {
	case 2, 11, 16, 20: // ETH, COLOR_ETH, DSM_COLOR_ETH, COLOR_HASH_ETH: 2 bytes of offset/pad
		if len(body) < 2 {
			return false, malformed("ERF Ethernet pad: %d bytes", len(body))
		}
		return d.ethernet(body[2:], ts, p, 0)
	case 22: // IPV4
		return d.ipv4(body, ts, p, 0)
	case 23: // IPV6
		return d.ipv6(body, ts, p, 0)
	}
	return false, nil
}

// ppp decodes PPP frames with or without the HDLC address and control bytes.
func (d *Decoder) ppp(b []byte, ts time.Time, p *Packet) (bool, error) {
	if len(b) >= 2 && b[0] == 0xff && b[1] == 0x03 {
		b = b[2:]
	}
	return d.pppProto(b, ts, p, 0)
}

func (d *Decoder) pppProto(b []byte, ts time.Time, p *Packet, depth int) (bool, error) {
	if len(b) == 0 {
		return false, malformed("PPP protocol: empty")
	}
	var proto uint16
	if b[0]&1 != 0 { // compressed one-byte protocol field
		proto, b = uint16(b[0]), b[1:]
	} else {
		if len(b) < 2 {
			return false, malformed("PPP protocol: %d bytes", len(b))
		}
		proto, b = be16(b), b[2:]
	}
	switch proto {
	case 0x0021:
		return d.ipv4(b, ts, p, depth)
	case 0x0057:
		return d.ipv6(b, ts, p, depth)
	}
	return false, nil
}

// DecodeEthernetUDP4 decodes the frame a trunk is made of, Ethernet, IPv4
// without options nor fragments, and UDP, when it is that and its lengths
// are sound, as a Decoder would; else it leaves p and reports false. It is
// the Decoder's hot path (a call and a few loads, where the general path
// walks four functions), and holds no state: a caller with a Decoder that
// is Idle may call it first, and the Decoder only when it reports false.
func DecodeEthernetUDP4(b []byte, p *Packet) bool {
	if len(b) < 42 || b[12] != 0x08 || b[13] != 0x00 || b[14] != 0x45 || b[23] != ProtoUDP || b[20]&0x3f != 0 || b[21] != 0 {
		return false
	}
	ip := b[14:]
	tot := int(be16(ip[2:4]))
	if tot < 28 || tot > len(ip) {
		return false // offload (0), malformed, or cut by the snap length
	}
	u := ip[20:tot]
	ulen := int(be16(u[4:6]))
	if ulen < 8 || ulen > len(u) {
		return false
	}
	// every field, one by one: a composite literal is built on the stack
	// and copied, which costs more than the decoding
	p.Src, p.Dst = netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
	p.Proto, p.SrcPort, p.DstPort = ProtoUDP, be16(u[0:2]), be16(u[2:4])
	p.Seq, p.Ack, p.Flags = 0, 0, 0
	p.Payload = u[8:ulen]
	p.Tunneled, p.Reassembled = false, false
	p.IPID = uint32(be16(ip[4:6]))
	return true
}

func (d *Decoder) ethernet(b []byte, ts time.Time, p *Packet, depth int) (bool, error) {
	if len(b) < 14 {
		return false, malformed("Ethernet header: %d bytes", len(b))
	}
	et := be16(b[12:14])
	b = b[14:]
	if et <= 1500 { // 802.3 length: only LLC/SNAP carries an ethertype
		if len(b) >= 8 && b[0] == 0xaa && b[1] == 0xaa && b[2] == 0x03 {
			return d.ethertype(be16(b[6:8]), b[8:], ts, p, depth)
		}
		return false, nil
	}
	return d.ethertype(et, b, ts, p, depth)
}

// ethertype dispatches on an ethertype, walking VLAN tags, MPLS labels and
// PPPoE session headers on the way.
func (d *Decoder) ethertype(et uint16, b []byte, ts time.Time, p *Packet, depth int) (bool, error) {
	for range 16 {
		switch et {
		case 0x0800:
			return d.ipv4(b, ts, p, depth)
		case 0x86dd:
			return d.ipv6(b, ts, p, depth)
		case 0x8100, 0x88a8, 0x9100, 0x9200: // 802.1Q, 802.1ad, old QinQ
			if len(b) < 4 {
				return false, malformed("VLAN tag: %d bytes", len(b))
			}
			et, b = be16(b[2:4]), b[4:]
		case 0x8847, 0x8848: // MPLS unicast, multicast
			for {
				if len(b) < 4 {
					return false, malformed("MPLS label: %d bytes", len(b))
				}
				bottom := b[2]&1 != 0
				b = b[4:]
				if bottom {
					break
				}
			}
			if len(b) == 0 {
				return false, nil
			}
			switch b[0] >> 4 {
			case 4:
				return d.ipv4(b, ts, p, depth)
			case 6:
				return d.ipv6(b, ts, p, depth)
			}
			return false, nil
		case 0x8864: // PPPoE session
			if len(b) < 6 {
				return false, malformed("PPPoE header: %d bytes", len(b))
			}
			return d.pppProto(b[6:], ts, p, depth)
		default:
			return false, nil
		}
	}
	return false, malformed("more than 16 VLAN tags")
}

func (d *Decoder) ipv4(b []byte, ts time.Time, p *Packet, depth int) (bool, error) {
	if len(b) < 20 {
		return false, malformed("IPv4 header: %d bytes", len(b))
	}
	if v := b[0] >> 4; v != 4 {
		return false, malformed("IPv4 version %d", v)
	}
	ihl := int(b[0]&0x0f) * 4
	if ihl < 20 {
		return false, malformed("IPv4 header length %d", ihl/4)
	}
	if len(b) < ihl {
		return false, malformed("IPv4 header length %d, %d bytes", ihl, len(b))
	}
	cut := false
	switch tot := int(be16(b[2:4])); {
	case tot == 0: // TCP segmentation offload: the length is left to the NIC
	case tot < ihl:
		return false, malformed("IPv4 total length %d below header length %d", tot, ihl)
	case tot <= len(b):
		b = b[:tot] // drop Ethernet padding and trailers
	default:
		cut = true // snap length: use what is there
	}
	p.Src = netip.AddrFrom4([4]byte(b[12:16]))
	p.Dst = netip.AddrFrom4([4]byte(b[16:20]))
	p.IPID = uint32(be16(b[4:6]))
	proto := b[9]
	payload := b[ihl:]
	frag := be16(b[6:8])
	more, off := frag&0x2000 != 0, int(frag&0x1fff)*8
	if more || off != 0 {
		if cut {
			return false, malformed("IPv4 fragment cut by the snap length")
		}
		key := fragKey{src: p.Src, dst: p.Dst, id: uint32(be16(b[4:6])), proto: proto}
		full, done, err := d.addFragment(key, off, payload, more, ts, 65535-ihl)
		if !done || err != nil {
			return false, err
		}
		payload = full
		p.Reassembled = true
	}
	return d.transport(proto, payload, ts, p, depth)
}

func (d *Decoder) ipv6(b []byte, ts time.Time, p *Packet, depth int) (bool, error) {
	if len(b) < 40 {
		return false, malformed("IPv6 header: %d bytes", len(b))
	}
	if v := b[0] >> 4; v != 6 {
		return false, malformed("IPv6 version %d", v)
	}
	cut := false
	switch plen := int(be16(b[4:6])); {
	case plen == 0: // jumbogram or offload: take the frame
	case 40+plen <= len(b):
		b = b[:40+plen]
	default:
		cut = true
	}
	p.Src = netip.AddrFrom16([16]byte(b[8:24]))
	p.Dst = netip.AddrFrom16([16]byte(b[24:40]))
	next, rest := b[6], b[40:]
	for range 32 {
		switch next {
		case 0, 43, 60, 135, 139, 140: // hop-by-hop, routing, destination, mobility, HIP, shim6
			if len(rest) < 8 {
				return false, malformed("IPv6 extension header %d: %d bytes", next, len(rest))
			}
			hl := (int(rest[1]) + 1) * 8
			if len(rest) < hl {
				return false, malformed("IPv6 extension header %d: length %d, %d bytes", next, hl, len(rest))
			}
			next, rest = rest[0], rest[hl:]
		case 51: // authentication header
			if len(rest) < 8 {
				return false, malformed("IPv6 AH: %d bytes", len(rest))
			}
			hl := (int(rest[1]) + 2) * 4
			if len(rest) < hl {
				return false, malformed("IPv6 AH: length %d, %d bytes", hl, len(rest))
			}
			next, rest = rest[0], rest[hl:]
		case 44: // fragment
			if len(rest) < 8 {
				return false, malformed("IPv6 fragment header: %d bytes", len(rest))
			}
			fnext := rest[0]
			offm := be16(rest[2:4])
			off, more := int(offm&^7), offm&1 != 0
			id := be32(rest[4:8])
			p.IPID = id
			data := rest[8:]
			if off == 0 && !more { // atomic fragment
				next, rest = fnext, data
				continue
			}
			if cut {
				return false, malformed("IPv6 fragment cut by the snap length")
			}
			key := fragKey{src: p.Src, dst: p.Dst, id: id, proto: fnext, v6: true}
			full, done, err := d.addFragment(key, off, data, more, ts, 65535)
			if !done || err != nil {
				return false, err
			}
			p.Reassembled = true
			next, rest = fnext, full
		default:
			return d.transport(next, rest, ts, p, depth)
		}
	}
	return false, malformed("more than 32 IPv6 extension headers")
}

func (d *Decoder) transport(proto uint8, b []byte, ts time.Time, p *Packet, depth int) (bool, error) {
	p.Proto = proto
	switch proto {
	case ProtoUDP:
		if len(b) < 8 {
			return false, malformed("UDP header: %d bytes", len(b))
		}
		p.SrcPort, p.DstPort = be16(b[0:2]), be16(b[2:4])
		switch ulen := int(be16(b[4:6])); {
		case ulen == 0: // jumbogram or offload
		case ulen < 8:
			return false, malformed("UDP length %d", ulen)
		case ulen < len(b):
			b = b[:ulen]
		}
		p.Payload = b[8:]
	case ProtoTCP:
		if len(b) < 20 {
			return false, malformed("TCP header: %d bytes", len(b))
		}
		doff := int(b[12]>>4) * 4
		if doff < 20 {
			return false, malformed("TCP header length %d", doff)
		}
		if doff > len(b) {
			return false, malformed("TCP header length %d, %d bytes", doff, len(b))
		}
		p.SrcPort, p.DstPort = be16(b[0:2]), be16(b[2:4])
		p.Seq, p.Ack = be32(b[4:8]), be32(b[8:12])
		p.Flags = b[13] & 0x1f
		p.Payload = b[doff:]
	case ProtoSCTP:
		if len(b) < 12 {
			return false, malformed("SCTP header: %d bytes", len(b))
		}
		p.SrcPort, p.DstPort = be16(b[0:2]), be16(b[2:4])
		p.Payload = b[12:]
	case ProtoIPIP, ProtoIPv6, ProtoGRE:
		if depth >= maxTunnelDepth {
			return false, malformed("more than %d nested tunnels", maxTunnelDepth)
		}
		reasm := p.Reassembled
		*p = Packet{Tunneled: true, Reassembled: reasm}
		switch proto {
		case ProtoIPIP:
			return d.ipv4(b, ts, p, depth+1)
		case ProtoIPv6:
			return d.ipv6(b, ts, p, depth+1)
		}
		return d.gre(b, ts, p, depth+1)
	default:
		p.Payload = b
	}
	return true, nil
}

// gre decodes a GRE (version 0) header and what it carries: IPv4, IPv6,
// transparent Ethernet bridging and ERSPAN types I, II and III.
func (d *Decoder) gre(b []byte, ts time.Time, p *Packet, depth int) (bool, error) {
	if len(b) < 4 {
		return false, malformed("GRE header: %d bytes", len(b))
	}
	flags, et := be16(b[0:2]), be16(b[2:4])
	if flags&7 != 0 { // version 1 (PPTP) and others
		return false, nil
	}
	hl := 4
	if flags&0xc000 != 0 { // checksum or routing present: checksum + offset
		hl += 4
	}
	if flags&0x2000 != 0 { // key
		hl += 4
	}
	seq := flags&0x1000 != 0
	if seq {
		hl += 4
	}
	if len(b) < hl {
		return false, malformed("GRE header length %d, %d bytes", hl, len(b))
	}
	if flags&0x4000 != 0 { // RFC 1701 source route entries, ending with a null one
		for {
			if len(b) < hl+4 {
				return false, malformed("GRE source route entry: %d bytes", len(b)-hl)
			}
			af, n := be16(b[hl:hl+2]), int(b[hl+3])
			hl += 4 + n
			if len(b) < hl {
				return false, malformed("GRE source route entry length %d", n)
			}
			if af == 0 && n == 0 {
				break
			}
		}
	}
	inner := b[hl:]
	switch et {
	case 0x0800:
		return d.ipv4(inner, ts, p, depth)
	case 0x86dd:
		return d.ipv6(inner, ts, p, depth)
	case 0x6558: // transparent Ethernet bridging
		return d.ethernet(inner, ts, p, depth)
	case 0x88be: // ERSPAN type II (with sequence number) or type I (without)
		if seq {
			if len(inner) < 8 {
				return false, malformed("ERSPAN II header: %d bytes", len(inner))
			}
			inner = inner[8:]
		}
		return d.ethernet(inner, ts, p, depth)
	case 0x22eb: // ERSPAN type III
		if len(inner) < 12 {
			return false, malformed("ERSPAN III header: %d bytes", len(inner))
		}
		n := 12
		if inner[11]&1 != 0 { // platform specific subheader
			n += 8
		}
		if len(inner) < n {
			return false, malformed("ERSPAN III subheader: %d bytes", len(inner))
		}
		return d.ethernet(inner[n:], ts, p, depth)
	}
	return false, nil
}
