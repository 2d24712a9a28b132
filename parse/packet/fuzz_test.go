package packet

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/gopacket/gopacket/layers"
)

var update = flag.Bool("update", false, "rewrite generated files under testdata")

type fuzzSeed struct {
	lt   uint16
	a, b []byte
}

// fuzzSeeds: one frame per link type, and fragment pairs so that the
// reassembly path is reached.
func fuzzSeeds() map[string]fuzzSeed {
	u4, u6 := udp4(sipPayload), udp6(sipPayload)
	f4 := frags4(udp4(bigPayload), 1000)
	f6 := frags6(udp6(bigPayload), 1232, 7)
	return map[string]fuzzSeed{
		"ethernet-udp":   {1, eth(0x0800, u4), nil}, // the fast path (DecodeEthernetUDP4)
		"ethernet-vlan":  {1, eth(0x8100, cat(u16(100), u16(0x0800), u4)), nil},
		"ethernet-tcp":   {1, eth(0x0800, tcp4(sipPayload)), nil},
		"sll":            {113, sll(0x86dd, u6), nil},
		"sll2":           {276, sll2(0x0800, u4), nil},
		"raw":            {101, u4, nil},
		"null":           {0, cat(le32(30), u6), nil},
		"loop":           {108, cat(bu32(2), u4), nil},
		"erf":            {197, erf(2, cat([]byte{0, 0}, eth(0x0800, u4))), nil},
		"ppp":            {9, cat([]byte{0xff, 0x03}, u16(0x0021), u4), nil},
		"gre-eth":        {101, outer4(layers.IPProtocolGRE, gre(0x3000, 0x6558, eth(0x0800, u4))), nil},
		"ipip":           {101, outer4(layers.IPProtocolIPv4, u4), nil},
		"ipv4-fragments": {101, f4[1], f4[0]},
		"ipv6-fragments": {229, f6[0], f6[1]},
	}
}

func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	for name, s := range fuzzSeeds() {
		path := filepath.Join(dir, name)
		content := fmt.Sprintf("go test fuzz v1\nuint16(%d)\n[]byte(%q)\n[]byte(%q)\n", s.lt, s.a, s.b)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Errorf("%s is missing or stale (err %v): run go test -run TestFuzzSeeds -update", path, err)
		}
	}
}

// within reports whether s lies inside buf's length.
func within(s, buf []byte) bool {
	if len(s) == 0 {
		return true
	}
	if len(buf) == 0 {
		return false
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	return p >= lo && p+uintptr(len(s)) <= lo+uintptr(len(buf))
}

// FuzzDecode feeds two frames of one link type to a Decoder (the decode
// path without the recover, so a panic fails). Properties: no panic; an
// error wraps a sentinel and delivers nothing; a delivered Payload lies
// inside the frame or the Decoder's reassembly buffer and is flagged
// Reassembled exactly when it comes from that buffer; held bytes stay
// within the cap.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s.lt, s.a, s.b)
	}
	f.Fuzz(func(t *testing.T, lt uint16, a, b []byte) {
		d := NewDecoder()
		d.MaxPending = 4096
		var p Packet
		for i, frame := range [][]byte{a, b} {
			ok, err := d.decode(layers.LinkType(lt), frame, time.Unix(int64(i), 0), &p)
			if err != nil {
				if ok {
					t.Fatal("ok with error")
				}
				if !errorsIsAny(err) {
					t.Fatalf("error without sentinel: %v", err)
				}
			}
			if ok {
				inFrame, inReasm := within(p.Payload, frame), within(p.Payload, d.reasm)
				if !inFrame && !inReasm {
					t.Fatalf("payload of %d bytes outside the frame and the reassembly buffer", len(p.Payload))
				}
				if len(p.Payload) > 0 && inReasm && !inFrame && !p.Reassembled {
					t.Fatal("payload from the reassembly buffer not flagged Reassembled")
				}
				if !p.Src.IsValid() || p.Src.BitLen() != p.Dst.BitLen() {
					t.Fatalf("addresses %v %v", p.Src, p.Dst)
				}
			}
			if d.Pending() < 0 || d.Pending() > d.MaxPending {
				t.Fatalf("pending %d", d.Pending())
			}
		}
		// The Ethernet/IPv4/UDP fast path decodes as the general one, and
		// leaves nothing of the packet decoded before.
		var slow Packet
		fast := Packet{Src: netip.MustParseAddr("::1"), Dst: netip.MustParseAddr("::2"), Proto: 6, SrcPort: 1, DstPort: 2,
			Seq: 3, Ack: 4, Flags: 5, Payload: []byte{6}, Tunneled: true, Reassembled: true, IPID: 7}
		if layers.LinkType(lt) == layers.LinkTypeEthernet && DecodeEthernetUDP4(a, &fast) {
			ok, err := NewDecoder().ethernet(a, time.Unix(0, 0), &slow, 0)
			if !ok || err != nil || !reflect.DeepEqual(fast, slow) {
				t.Fatalf("fast path %+v; general: %v %v %+v", fast, ok, err, slow)
			}
		}
	})
}

func errorsIsAny(err error) bool {
	return isErr(err, ErrMalformed) || isErr(err, ErrUnsupportedLink)
}

func BenchmarkDecode(b *testing.B) {
	frames := []struct {
		name string
		lt   layers.LinkType
		data []byte
	}{
		{"ethernet-ipv4-udp", layers.LinkTypeEthernet, eth(0x0800, udp4(make([]byte, 200)))},
		{"sll-ipv6-udp", layers.LinkTypeLinuxSLL, sll(0x86dd, udp6(make([]byte, 200)))},
		{"ethernet-vlan-ipv4-tcp", layers.LinkTypeEthernet, eth(0x8100, cat(u16(5), u16(0x0800), tcp4(make([]byte, 200))))},
	}
	for _, fr := range frames {
		b.Run(fr.name, func(b *testing.B) {
			d := NewDecoder()
			var p Packet
			ts := time.Unix(1700000000, 0)
			b.SetBytes(int64(len(fr.data)))
			b.ReportAllocs()
			for b.Loop() {
				ok, err := d.Decode(fr.lt, fr.data, ts, &p)
				if !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
	b.Run("ipv4-two-fragments", func(b *testing.B) {
		fr := frags4(udp4(bigPayload), 1000)
		d := NewDecoder()
		var p Packet
		ts := time.Unix(1700000000, 0)
		b.ReportAllocs()
		for b.Loop() {
			d.Decode(layers.LinkTypeRaw, fr[0], ts, &p)
			d.Decode(layers.LinkTypeRaw, fr[1], ts, &p)
			if ok, err := d.Decode(layers.LinkTypeRaw, fr[2], ts, &p); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
}

func isErr(err, target error) bool { return errors.Is(err, target) }
