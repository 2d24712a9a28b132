package packet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var (
	a4 = netip.MustParseAddr("192.0.2.1")
	b4 = netip.MustParseAddr("198.51.100.2")
	a6 = netip.MustParseAddr("2001:db8::1")
	b6 = netip.MustParseAddr("2001:db8::2")
	c4 = netip.MustParseAddr("203.0.113.7") // tunnel endpoints
	d4 = netip.MustParseAddr("203.0.113.8")

	sipPayload = []byte("OPTIONS sip:bob@example.com SIP/2.0\r\nCall-ID: x\r\n\r\n")
	t0         = time.Date(2024, 3, 5, 10, 0, 0, 0, time.UTC)
)

func serialize(ls ...gopacket.SerializableLayer) []byte {
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		panic(err)
	}
	return bytes.Clone(buf.Bytes())
}

func ip4(src, dst netip.Addr, proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: 0x1234, Protocol: proto, SrcIP: net.IP(src.AsSlice()), DstIP: net.IP(dst.AsSlice())}
}

func ip6(src, dst netip.Addr, next layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: next, SrcIP: net.IP(src.AsSlice()), DstIP: net.IP(dst.AsSlice())}
}

// udp4 is an IPv4/UDP packet from a4:5060 to b4:5080.
func udp4(payload []byte) []byte {
	ip := ip4(a4, b4, layers.IPProtocolUDP)
	u := &layers.UDP{SrcPort: 5060, DstPort: 5080}
	u.SetNetworkLayerForChecksum(ip)
	return serialize(ip, u, gopacket.Payload(payload))
}

func udp6(payload []byte) []byte {
	ip := ip6(a6, b6, layers.IPProtocolUDP)
	u := &layers.UDP{SrcPort: 5060, DstPort: 5080}
	u.SetNetworkLayerForChecksum(ip)
	return serialize(ip, u, gopacket.Payload(payload))
}

func tcp4(payload []byte) []byte {
	ip := ip4(a4, b4, layers.IPProtocolTCP)
	tc := &layers.TCP{SrcPort: 5060, DstPort: 40000, Seq: 1000, Ack: 2000, PSH: true, ACK: true, Window: 512,
		Options: []layers.TCPOption{{OptionType: layers.TCPOptionKindNop}, {OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: make([]byte, 8)}}}
	tc.SetNetworkLayerForChecksum(ip)
	return serialize(ip, tc, gopacket.Payload(payload))
}

var (
	macA = []byte{0x02, 0, 0, 0, 0, 1}
	macB = []byte{0x02, 0, 0, 0, 0, 2}
)

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

func eth(et uint16, payload []byte) []byte { return cat(macB, macA, u16(et), payload) }

func sll(proto uint16, payload []byte) []byte {
	return cat(u16(0), u16(1), u16(6), macA, []byte{0, 0}, u16(proto), payload)
}

func sll2(proto uint16, payload []byte) []byte {
	return cat(u16(proto), u16(0), []byte{0, 0, 0, 3}, u16(1), []byte{0, 6}, macA, []byte{0, 0}, payload)
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func bu32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func erf(typ byte, body []byte) []byte {
	h := make([]byte, 16)
	h[8] = typ
	h[9] = 4
	binary.BigEndian.PutUint16(h[10:], uint16(16+len(body)))
	binary.BigEndian.PutUint16(h[14:], uint16(len(body)))
	return cat(h, body)
}

// gre builds a GRE header with the given flags and protocol; optional
// fields are filled with recognisable values.
func gre(flags, proto uint16, inner []byte) []byte {
	h := cat(u16(flags), u16(proto))
	if flags&0xc000 != 0 {
		h = cat(h, []byte{0xcc, 0xcc, 0, 0})
	}
	if flags&0x2000 != 0 {
		h = cat(h, []byte{0xee, 0xee, 0xee, 0xee})
	}
	if flags&0x1000 != 0 {
		h = cat(h, []byte{0, 0, 0, 9})
	}
	return cat(h, inner)
}

// outer4 wraps inner in an IPv4 header from c4 to d4 with protocol proto.
func outer4(proto layers.IPProtocol, inner []byte) []byte {
	return serialize(ip4(c4, d4, proto), gopacket.Payload(inner))
}

type want struct {
	ok              bool
	src, dst        netip.Addr
	proto           uint8
	sport, dport    uint16
	seq, ack        uint32
	flags           uint8
	payload         []byte
	tunneled, reasm bool
}

var udpWant4 = want{ok: true, src: a4, dst: b4, proto: ProtoUDP, sport: 5060, dport: 5080, payload: sipPayload}
var udpWant6 = want{ok: true, src: a6, dst: b6, proto: ProtoUDP, sport: 5060, dport: 5080, payload: sipPayload}

func tun(w want) want { w.tunneled = true; return w }

func check(t *testing.T, name string, p *Packet, ok bool, err error, w want) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error %v", name, err)
	}
	if ok != w.ok {
		t.Fatalf("%s: ok=%v, want %v", name, ok, w.ok)
	}
	if !ok {
		return
	}
	if p.Src != w.src || p.Dst != w.dst || p.Proto != w.proto || p.SrcPort != w.sport || p.DstPort != w.dport ||
		p.Seq != w.seq || p.Ack != w.ack || p.Flags != w.flags || p.Tunneled != w.tunneled || p.Reassembled != w.reasm ||
		!bytes.Equal(p.Payload, w.payload) {
		t.Errorf("%s:\n got %v>%v proto %d ports %d>%d seq %d ack %d flags %#x tun %v reasm %v payload %q\nwant %v>%v proto %d ports %d>%d seq %d ack %d flags %#x tun %v reasm %v payload %q",
			name, p.Src, p.Dst, p.Proto, p.SrcPort, p.DstPort, p.Seq, p.Ack, p.Flags, p.Tunneled, p.Reassembled, p.Payload,
			w.src, w.dst, w.proto, w.sport, w.dport, w.seq, w.ack, w.flags, w.tunneled, w.reasm, w.payload)
	}
}

func TestDecode(t *testing.T) {
	u4, u6 := udp4(sipPayload), udp6(sipPayload)
	tests := []struct {
		name string
		lt   layers.LinkType
		data []byte
		want want
	}{
		{"ethernet ipv4 udp", layers.LinkTypeEthernet, eth(0x0800, u4), udpWant4},
		{"ethernet ipv6 udp", layers.LinkTypeEthernet, eth(0x86dd, u6), udpWant6},
		{"ethernet padding and FCS trimmed", layers.LinkTypeEthernet, eth(0x0800, cat(u4, make([]byte, 10), []byte{1, 2, 3, 4})), udpWant4},
		{"802.1Q", layers.LinkTypeEthernet, eth(0x8100, cat(u16(100), u16(0x0800), u4)), udpWant4},
		{"QinQ 88a8+8100", layers.LinkTypeEthernet, eth(0x88a8, cat(u16(10), u16(0x8100), u16(20), u16(0x86dd), u6)), udpWant6},
		{"QinQ 9100+8100", layers.LinkTypeEthernet, eth(0x9100, cat(u16(10), u16(0x8100), u16(20), u16(0x0800), u4)), udpWant4},
		{"LLC SNAP", layers.LinkTypeEthernet, cat(macB, macA, u16(uint16(8+len(u4))), []byte{0xaa, 0xaa, 3, 0, 0, 0}, u16(0x0800), u4), udpWant4},
		{"MPLS two labels", layers.LinkTypeEthernet, eth(0x8847, cat([]byte{0, 1, 0x00, 64}, []byte{0, 2, 0x01, 64}, u4)), udpWant4},
		{"PPPoE session", layers.LinkTypeEthernet, eth(0x8864, cat([]byte{0x11, 0, 0, 1}, u16(uint16(len(u6)+2)), u16(0x0057), u6)), udpWant6},
		{"ARP is not IP", layers.LinkTypeEthernet, eth(0x0806, make([]byte, 28)), want{}},
		{"802.3 without SNAP", layers.LinkTypeEthernet, cat(macB, macA, u16(38), []byte{0x42, 0x42, 3}, make([]byte, 35)), want{}},
		{"SLL ipv4", layers.LinkTypeLinuxSLL, sll(0x0800, u4), udpWant4},
		{"SLL ipv6", layers.LinkTypeLinuxSLL, sll(0x86dd, u6), udpWant6},
		{"SLL 802.2 not IP", layers.LinkTypeLinuxSLL, sll(0x0004, make([]byte, 20)), want{}},
		{"SLL2 ipv4", layers.LinkTypeLinuxSLL2, sll2(0x0800, u4), udpWant4},
		{"SLL2 ipv6", layers.LinkTypeLinuxSLL2, sll2(0x86dd, u6), udpWant6},
		{"raw 101 ipv4", layers.LinkTypeRaw, u4, udpWant4},
		{"raw 101 ipv6", layers.LinkTypeRaw, u6, udpWant6},
		{"raw 12", layers.LinkType(12), u4, udpWant4},
		{"raw 14", layers.LinkType(14), u6, udpWant6},
		{"IPv4 228", layers.LinkTypeIPv4, u4, udpWant4},
		{"IPv6 229", layers.LinkTypeIPv6, u6, udpWant6},
		{"null LE AF_INET", layers.LinkTypeNull, cat(le32(2), u4), udpWant4},
		{"null BE AF_INET", layers.LinkTypeNull, cat(bu32(2), u4), udpWant4},
		{"null LE AF_INET6 darwin", layers.LinkTypeNull, cat(le32(30), u6), udpWant6},
		{"null LE AF_INET6 freebsd", layers.LinkTypeNull, cat(le32(28), u6), udpWant6},
		{"null BE AF_INET6 openbsd", layers.LinkTypeNull, cat(bu32(24), u6), udpWant6},
		{"null LE AF_INET6 linux", layers.LinkTypeNull, cat(le32(10), u6), udpWant6},
		{"null other family", layers.LinkTypeNull, cat(le32(7), u4), want{}},
		{"loop 108 BE", layers.LinkTypeLoop, cat(bu32(2), u4), udpWant4},
		{"loop 108 LE ipv6", layers.LinkTypeLoop, cat(le32(24), u6), udpWant6},
		{"ERF ethernet", 197, erf(2, cat([]byte{0, 0}, eth(0x0800, u4), []byte{0, 0, 0, 0})), udpWant4},
		{"ERF ethernet with extension header", 197, erf(0x82, cat([]byte{0x03, 0, 0, 0, 0, 0, 0, 0}, []byte{0, 0}, eth(0x86dd, u6))), udpWant6},
		{"ERF ipv4", 197, erf(22, u4), udpWant4},
		{"ERF ipv6", 197, erf(23, u6), udpWant6},
		{"ERF ATM not decoded", 197, erf(3, make([]byte, 60)), want{}},
		{"PPP with address", layers.LinkTypePPP, cat([]byte{0xff, 0x03}, u16(0x0021), u4), udpWant4},
		{"PPP compressed protocol", layers.LinkTypePPP, cat([]byte{0x21}, u4), udpWant4},
		{"TCP", layers.LinkTypeEthernet, eth(0x0800, tcp4(sipPayload)),
			want{ok: true, src: a4, dst: b4, proto: ProtoTCP, sport: 5060, dport: 40000, seq: 1000, ack: 2000, flags: FlagPSH | FlagACK, payload: sipPayload}},
		{"TCP SYN no payload", layers.LinkTypeRaw, func() []byte {
			ip := ip4(a4, b4, layers.IPProtocolTCP)
			tc := &layers.TCP{SrcPort: 1, DstPort: 5060, Seq: 7, SYN: true, Window: 1}
			tc.SetNetworkLayerForChecksum(ip)
			return serialize(ip, tc)
		}(), want{ok: true, src: a4, dst: b4, proto: ProtoTCP, sport: 1, dport: 5060, seq: 7, flags: FlagSYN, payload: []byte{}}},
		{"SCTP", layers.LinkTypeRaw, outer4(layers.IPProtocolSCTP, cat(u16(5060), u16(5061), make([]byte, 8), []byte("chunks"))),
			want{ok: true, src: c4, dst: d4, proto: ProtoSCTP, sport: 5060, dport: 5061, payload: []byte("chunks")}},
		{"ICMP passes the IP payload", layers.LinkTypeRaw, outer4(layers.IPProtocolICMPv4, []byte{8, 0, 1, 2, 3, 4}),
			want{ok: true, src: c4, dst: d4, proto: 1, payload: []byte{8, 0, 1, 2, 3, 4}}},
		{"IPv4 options", layers.LinkTypeRaw, func() []byte {
			ip := ip4(a4, b4, layers.IPProtocolUDP)
			ip.Options = []layers.IPv4Option{{OptionType: 7, OptionLength: 7, OptionData: []byte{4, 0, 0, 0, 0}}}
			u := &layers.UDP{SrcPort: 5060, DstPort: 5080}
			u.SetNetworkLayerForChecksum(ip)
			return serialize(ip, u, gopacket.Payload(sipPayload))
		}(), udpWant4},
		{"IPv6 extension headers", layers.LinkTypeRaw, func() []byte {
			b := udp6(sipPayload)
			hop := []byte{60, 0, 1, 4, 0, 0, 0, 0}                          // hop-by-hop -> destination options
			dst := []byte{44, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} // destination options (16 bytes) -> fragment
			frag := []byte{17, 0, 0, 0, 0, 0, 0, 5}                         // atomic fragment -> UDP
			out := cat(b[:40], hop, dst, frag, b[40:])
			out[6] = 0
			binary.BigEndian.PutUint16(out[4:], uint16(len(out)-40))
			return out
		}(), udpWant6},
		{"UDP length shorter than data: trimmed", layers.LinkTypeRaw, func() []byte {
			b := udp4(sipPayload)
			binary.BigEndian.PutUint16(b[24:], uint16(8+7))
			return b
		}(), want{ok: true, src: a4, dst: b4, proto: ProtoUDP, sport: 5060, dport: 5080, payload: sipPayload[:7]}},
		{"UDP and IP lengths longer than data: snap length", layers.LinkTypeRaw, udp4(sipPayload)[:20+8+10],
			want{ok: true, src: a4, dst: b4, proto: ProtoUDP, sport: 5060, dport: 5080, payload: sipPayload[:10]}},
		{"IPv4 total length 0 (offload)", layers.LinkTypeRaw, func() []byte {
			b := udp4(sipPayload)
			b[2], b[3] = 0, 0
			return b
		}(), udpWant4},
		// tunnels
		{"IP-in-IP", layers.LinkTypeEthernet, eth(0x0800, outer4(layers.IPProtocolIPv4, u4)), tun(udpWant4)},
		{"6in4", layers.LinkTypeEthernet, eth(0x0800, outer4(layers.IPProtocolIPv6, u6)), tun(udpWant6)},
		{"4in6", layers.LinkTypeRaw, serialize(ip6(b6, a6, layers.IPProtocolIPv4), gopacket.Payload(u4)), tun(udpWant4)},
		{"GRE ipv4", layers.LinkTypeEthernet, eth(0x0800, outer4(layers.IPProtocolGRE, gre(0, 0x0800, u4))), tun(udpWant4)},
		{"GRE ipv6 with checksum key seq", layers.LinkTypeEthernet, eth(0x0800, outer4(layers.IPProtocolGRE, gre(0xb000, 0x86dd, u6))), tun(udpWant6)},
		{"GRE transparent ethernet", layers.LinkTypeEthernet, eth(0x0800, outer4(layers.IPProtocolGRE, gre(0x2000, 0x6558, eth(0x8100, cat(u16(5), u16(0x0800), u4))))), tun(udpWant4)},
		{"GRE ERSPAN II", layers.LinkTypeEthernet, eth(0x0800, outer4(layers.IPProtocolGRE, gre(0x1000, 0x88be, cat(make([]byte, 8), eth(0x0800, u4))))), tun(udpWant4)},
		{"GRE ERSPAN I", layers.LinkTypeEthernet, eth(0x0800, outer4(layers.IPProtocolGRE, gre(0, 0x88be, eth(0x0800, u4)))), tun(udpWant4)},
		{"GRE ERSPAN III", layers.LinkTypeEthernet, eth(0x0800, outer4(layers.IPProtocolGRE, gre(0x1000, 0x22eb, cat(make([]byte, 12), eth(0x0800, u4))))), tun(udpWant4)},
		{"GRE with ARP inside", layers.LinkTypeEthernet, eth(0x0800, outer4(layers.IPProtocolGRE, gre(0, 0x6558, eth(0x0806, make([]byte, 28))))), want{}},
		{"GRE version 1", layers.LinkTypeEthernet, eth(0x0800, outer4(layers.IPProtocolGRE, cat(u16(0x3001), u16(0x880b), make([]byte, 20)))), want{}},
		{"GRE in GRE", layers.LinkTypeRaw, outer4(layers.IPProtocolGRE, gre(0, 0x0800, outer4(layers.IPProtocolGRE, gre(0, 0x86dd, u6)))), tun(udpWant6)},
	}
	d := NewDecoder()
	var p Packet
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// a stale packet must be fully reset
			p = Packet{Src: c4, Proto: 99, SrcPort: 1, Flags: 0xff, Payload: []byte("stale"), Tunneled: true, Reassembled: true, Seq: 5}
			ok, err := d.Decode(tc.lt, tc.data, t0, &p)
			check(t, tc.name, &p, ok, err, tc.want)
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	u4 := udp4(sipPayload)
	deep := udp4(sipPayload)
	for range maxTunnelDepth + 1 {
		deep = outer4(layers.IPProtocolIPv4, deep)
	}
	tests := []struct {
		name string
		lt   layers.LinkType
		data []byte
		want error
		msg  string
	}{
		{"unsupported link", layers.LinkTypeIEEE802_11, u4, ErrUnsupportedLink, "105"},
		{"short ethernet", layers.LinkTypeEthernet, make([]byte, 10), ErrMalformed, "Ethernet header: 10 bytes"},
		{"short VLAN", layers.LinkTypeEthernet, eth(0x8100, []byte{0}), ErrMalformed, "VLAN tag"},
		{"short SLL", layers.LinkTypeLinuxSLL, make([]byte, 15), ErrMalformed, "SLL header"},
		{"short SLL2", layers.LinkTypeLinuxSLL2, make([]byte, 19), ErrMalformed, "SLL2 header"},
		{"short loopback", layers.LinkTypeNull, []byte{2, 0}, ErrMalformed, "loopback"},
		{"short ERF", 197, make([]byte, 12), ErrMalformed, "ERF header"},
		{"raw empty", layers.LinkTypeRaw, nil, ErrMalformed, "empty"},
		{"raw version 5", layers.LinkTypeRaw, []byte{0x50, 0, 0, 0}, ErrMalformed, "version 5"},
		{"IPv4 header length 3", layers.LinkTypeRaw, func() []byte { b := bytes.Clone(u4); b[0] = 0x43; return b }(), ErrMalformed, "IPv4 header length 3"},
		{"IPv4 short header", layers.LinkTypeIPv4, u4[:19], ErrMalformed, "IPv4 header: 19 bytes"},
		{"IPv4 total length below header", layers.LinkTypeRaw, func() []byte { b := bytes.Clone(u4); b[2], b[3] = 0, 12; return b }(), ErrMalformed, "total length 12"},
		{"IPv4 version in 228", layers.LinkTypeIPv4, udp6(sipPayload), ErrMalformed, "IPv4 version 6"},
		{"IPv6 short", layers.LinkTypeIPv6, udp6(sipPayload)[:39], ErrMalformed, "IPv6 header: 39 bytes"},
		{"UDP length 5", layers.LinkTypeRaw, func() []byte { b := bytes.Clone(u4); b[24], b[25] = 0, 5; return b }(), ErrMalformed, "UDP length 5"},
		{"UDP short", layers.LinkTypeRaw, u4[:26], ErrMalformed, "UDP header: 6 bytes"},
		{"TCP data offset 4", layers.LinkTypeRaw, func() []byte { b := tcp4(nil); b[32] = 0x40; return b }(), ErrMalformed, "TCP header length 16"},
		{"TCP header past data", layers.LinkTypeRaw, tcp4(nil)[:45], ErrMalformed, "TCP header length 32, 25 bytes"},
		{"IPv6 ext header past data", layers.LinkTypeRaw, func() []byte {
			b := udp6(nil)[:40]
			b[6] = 60
			b = append(b, 17, 3, 0, 0, 0, 0, 0, 0)
			binary.BigEndian.PutUint16(b[4:], 8)
			return b
		}(), ErrMalformed, "IPv6 extension header 60: length 32, 8 bytes"},
		{"GRE short", layers.LinkTypeRaw, outer4(layers.IPProtocolGRE, []byte{0, 0}), ErrMalformed, "GRE header"},
		{"GRE key past data", layers.LinkTypeRaw, outer4(layers.IPProtocolGRE, cat(u16(0x2000), u16(0x0800), []byte{1})), ErrMalformed, "GRE header length 8"},
		{"tunnels too deep", layers.LinkTypeRaw, deep, ErrMalformed, "nested tunnels"},
	}
	d := NewDecoder()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p Packet
			ok, err := d.Decode(tc.lt, tc.data, t0, &p)
			if ok || !errors.Is(err, tc.want) {
				t.Fatalf("ok=%v err=%v, want %v", ok, err, tc.want)
			}
			if !bytes.Contains([]byte(err.Error()), []byte(tc.msg)) {
				t.Errorf("message %q does not contain %q", err, tc.msg)
			}
		})
	}
}
