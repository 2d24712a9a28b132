package packet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/sipflow/sipflow/parse/pcap"
)

// bigPayload is a SIP message too large for one 576-byte datagram.
var bigPayload = func() []byte {
	b := []byte("INVITE sip:bob@example.com SIP/2.0\r\nCall-ID: frag\r\n\r\n")
	for i := 0; len(b) < 2000; i++ {
		b = append(b, byte('a'+i%26))
	}
	return b
}()

// frags4 splits an IPv4 packet into fragments carrying at most size
// payload bytes each (size a multiple of 8).
func frags4(pkt []byte, size int) [][]byte {
	hdr, data := pkt[:20], pkt[20:]
	var out [][]byte
	for off := 0; off < len(data); off += size {
		end := min(off+size, len(data))
		f := cat(hdr, data[off:end])
		binary.BigEndian.PutUint16(f[2:], uint16(len(f)))
		fl := uint16(off / 8)
		if end < len(data) {
			fl |= 0x2000
		}
		binary.BigEndian.PutUint16(f[6:], fl)
		out = append(out, f)
	}
	return out
}

// frags6 splits an IPv6 packet (no extension headers) with fragment headers.
func frags6(pkt []byte, size int, id uint32) [][]byte {
	hdr, data := pkt[:40], pkt[40:]
	next := hdr[6]
	var out [][]byte
	for off := 0; off < len(data); off += size {
		end := min(off+size, len(data))
		fh := []byte{next, 0, 0, 0, 0, 0, 0, 0}
		om := uint16(off)
		if end < len(data) {
			om |= 1
		}
		binary.BigEndian.PutUint16(fh[2:], om)
		binary.BigEndian.PutUint32(fh[4:], id)
		f := cat(hdr, fh, data[off:end])
		f[6] = 44
		binary.BigEndian.PutUint16(f[4:], uint16(len(f)-40))
		out = append(out, f)
	}
	return out
}

func TestReassembly(t *testing.T) {
	w4 := want{ok: true, src: a4, dst: b4, proto: ProtoUDP, sport: 5060, dport: 5080, payload: bigPayload, reasm: true}
	w6 := want{ok: true, src: a6, dst: b6, proto: ProtoUDP, sport: 5060, dport: 5080, payload: bigPayload, reasm: true}
	f4 := frags4(udp4(bigPayload), 552) // 4 fragments
	f6 := frags6(udp6(bigPayload), 1232, 0xabcdef01)
	tests := []struct {
		name  string
		lt    layers.LinkType
		frags [][]byte
		want  want
	}{
		{"ipv4 in order", layers.LinkTypeRaw, f4, w4},
		{"ipv4 reversed", layers.LinkTypeRaw, [][]byte{f4[3], f4[2], f4[1], f4[0]}, w4},
		{"ipv4 shuffled with duplicates", layers.LinkTypeRaw, [][]byte{f4[1], f4[3], f4[1], f4[0], f4[3], f4[2]}, w4},
		{"ipv4 overlapping", layers.LinkTypeRaw, func() [][]byte {
			big := frags4(udp4(bigPayload), 1104) // two fragments
			return [][]byte{big[0], f4[1], f4[2], f4[3]}
		}(), w4},
		{"ipv6 in order", layers.LinkTypeRaw, f6, w6},
		{"ipv6 reversed over SLL", layers.LinkTypeLinuxSLL, [][]byte{sll(0x86dd, f6[1]), sll(0x86dd, f6[0])}, w6},
		{"ipv4 fragments in GRE", layers.LinkTypeEthernet, func() [][]byte {
			var out [][]byte
			for _, f := range f4 {
				out = append(out, eth(0x0800, outer4(layers.IPProtocolGRE, gre(0, 0x0800, f))))
			}
			return out
		}(), tun(w4)},
		{"ipv4 tunnel packet fragmented outside", layers.LinkTypeRaw, frags4(outer4(layers.IPProtocolIPv4, udp4(bigPayload)), 800), tun(w4)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder()
			var p Packet
			for i, f := range tc.frags {
				ok, err := d.Decode(tc.lt, f, t0.Add(time.Duration(i)*time.Millisecond), &p)
				if i < len(tc.frags)-1 {
					if ok || err != nil {
						t.Fatalf("fragment %d: ok=%v err=%v, want held", i, ok, err)
					}
					if d.Pending() == 0 || d.PendingSets() != 1 {
						t.Fatalf("fragment %d: pending %d bytes in %d sets", i, d.Pending(), d.PendingSets())
					}
					continue
				}
				check(t, tc.name, &p, ok, err, tc.want)
			}
			if d.Pending() != 0 || d.PendingSets() != 0 {
				t.Errorf("after reassembly: pending %d bytes in %d sets", d.Pending(), d.PendingSets())
			}
			if s := d.Stats(); s.Reassembled != 1 || s.Fragments != len(tc.frags) {
				t.Errorf("stats %+v", s)
			}
			// the next unfragmented packet decodes normally, without the flag
			ok, err := d.Decode(layers.LinkTypeRaw, udp4(sipPayload), t0, &p)
			check(t, "after", &p, ok, err, udpWant4)
		})
	}
}

func TestReassemblyInterleaved(t *testing.T) {
	// two datagrams with different IDs, and one with the same ID from
	// another source, interleaved
	pa := udp4(bigPayload)
	pb := udp4(sipPayload[:40])
	binary.BigEndian.PutUint16(pb[4:], 0x9999)
	pc := bytes.Clone(pa)
	copy(pc[12:16], c4.AsSlice())
	fa, fb, fc := frags4(pa, 1000), frags4(pb, 32), frags4(pc, 1000)
	d := NewDecoder()
	var p Packet
	order := [][]byte{fa[0], fc[2], fb[1], fc[0], fa[2], fb[0], fc[1], fa[1]}
	var got []netip4
	for _, f := range order {
		ok, err := d.Decode(layers.LinkTypeRaw, f, t0, &p)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			got = append(got, netip4{p.Src.String(), len(p.Payload)})
		}
	}
	want := []netip4{{a4.String(), 40}, {c4.String(), len(bigPayload)}, {a4.String(), len(bigPayload)}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("datagram %d: got %v, want %v", i, got[i], want[i])
		}
	}
}

type netip4 struct {
	src string
	n   int
}

func TestReassemblyExpiry(t *testing.T) {
	f := frags4(udp4(bigPayload), 552)
	d := NewDecoder()
	var p Packet
	for _, fr := range f[:3] {
		if ok, err := d.Decode(layers.LinkTypeRaw, fr, t0, &p); ok || err != nil {
			t.Fatalf("ok=%v err=%v", ok, err)
		}
	}
	// 30 s later (capture time) the set is still there
	if ok, err := d.Decode(layers.LinkTypeRaw, udp4(sipPayload), t0.Add(30*time.Second), &p); !ok || err != nil || d.PendingSets() != 1 {
		t.Fatalf("at 30s: ok=%v err=%v sets=%d", ok, err, d.PendingSets())
	}
	// just past it, any packet expires it
	if ok, err := d.Decode(layers.LinkTypeRaw, udp4(sipPayload), t0.Add(30*time.Second+time.Millisecond), &p); !ok || err != nil {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	if d.PendingSets() != 0 || d.Pending() != 0 || d.Stats().Expired != 1 {
		t.Fatalf("after expiry: %d sets, %d bytes, stats %+v", d.PendingSets(), d.Pending(), d.Stats())
	}
	// the last fragment alone now starts a new incomplete set
	if ok, err := d.Decode(layers.LinkTypeRaw, f[3], t0.Add(31*time.Second), &p); ok || err != nil || d.PendingSets() != 1 {
		t.Fatalf("late fragment: ok=%v err=%v sets=%d", ok, err, d.PendingSets())
	}
}

func TestReassemblyMemoryCap(t *testing.T) {
	d := NewDecoder()
	d.MaxPending = 3000
	var p Packet
	// first fragments of 5 datagrams, 1000 bytes each: the oldest go
	for i := range 5 {
		pkt := udp4(bigPayload)
		binary.BigEndian.PutUint16(pkt[4:], uint16(i))
		if ok, err := d.Decode(layers.LinkTypeRaw, frags4(pkt, 1000)[0], t0, &p); ok || err != nil {
			t.Fatalf("ok=%v err=%v", ok, err)
		}
		if d.Pending() > d.MaxPending {
			t.Fatalf("pending %d above cap %d", d.Pending(), d.MaxPending)
		}
	}
	if d.PendingSets() != 3 || d.Stats().Evicted != 2 {
		t.Fatalf("%d sets held, stats %+v", d.PendingSets(), d.Stats())
	}
	// datagram 4 is still held and completes
	pkt := udp4(bigPayload)
	binary.BigEndian.PutUint16(pkt[4:], 4)
	fr := frags4(pkt, 1000)
	for _, f := range fr[1:] {
		if _, err := d.Decode(layers.LinkTypeRaw, f, t0, &p); err != nil {
			t.Fatal(err)
		}
	}
	if !p.Reassembled || !bytes.Equal(p.Payload, bigPayload) {
		t.Fatalf("datagram 4 not reassembled")
	}
	// datagram 0 was evicted: its later fragments do not complete it
	pkt = udp4(bigPayload)
	binary.BigEndian.PutUint16(pkt[4:], 0)
	for _, f := range frags4(pkt, 1000)[1:] {
		if ok, err := d.Decode(layers.LinkTypeRaw, f, t0, &p); ok || err != nil {
			t.Fatalf("evicted datagram: ok=%v err=%v", ok, err)
		}
	}
}

func TestReassemblyOversize(t *testing.T) {
	d := NewDecoder()
	var p Packet
	f := frags4(udp4(bigPayload), 552)[1]
	binary.BigEndian.PutUint16(f[6:], 0x2000|8189) // offset 65512 + 552 bytes
	ok, err := d.Decode(layers.LinkTypeRaw, f, t0, &p)
	if ok || !errors.Is(err, ErrMalformed) || d.Stats().Oversize != 1 || d.Pending() != 0 {
		t.Fatalf("ok=%v err=%v stats %+v pending %d", ok, err, d.Stats(), d.Pending())
	}
}

const corpusDir = "../../../shared/corpus"

func decodeFile(t *testing.T, path string) (pkts []Packet, errs []error) {
	t.Helper()
	r, err := pcap.Open(filepath.Join(corpusDir, path))
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("corpus absent: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d := NewDecoder()
	var rec pcap.Record
	var p Packet
	for {
		if err := r.Next(&rec); err != nil {
			if err != io.EOF {
				t.Fatalf("%s: %v", path, err)
			}
			return
		}
		ok, err := d.Decode(rec.LinkType, rec.Data, rec.Time, &p)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			p.Payload = bytes.Clone(p.Payload)
			pkts = append(pkts, p)
		}
	}
}

func TestCorpusIPv6Fragments(t *testing.T) {
	pkts, errs := decodeFile(t, "sngrep/ipv6frag.pcap")
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	// 34 frames, two datagrams in two fragments each (tshark: UDP lengths 1699 and 1879)
	if len(pkts) != 32 {
		t.Fatalf("%d packets, want 32", len(pkts))
	}
	var lens []int
	for _, p := range pkts {
		if p.Proto != ProtoUDP || !p.Src.Is6() {
			t.Errorf("packet %v>%v proto %d", p.Src, p.Dst, p.Proto)
		}
		if p.Reassembled {
			lens = append(lens, len(p.Payload)+8)
			if !bytes.HasPrefix(p.Payload, []byte("INVITE ")) && !bytes.HasPrefix(p.Payload, []byte("SIP/2.0 ")) {
				t.Errorf("reassembled payload starts %q", p.Payload[:min(20, len(p.Payload))])
			}
		}
	}
	if len(lens) != 2 || lens[0] != 1699 || lens[1] != 1879 {
		t.Errorf("reassembled UDP lengths %v, want [1699 1879]", lens)
	}
}

func TestCorpusIPIP(t *testing.T) {
	pkts, errs := decodeFile(t, "sngrep/ipip.pcap")
	if len(errs) != 0 || len(pkts) != 4 {
		t.Fatalf("%d packets, errors %v", len(pkts), errs)
	}
	// tshark: frames 2 and 3 are 10.15.196.229>10.15.194.19 carrying
	// 10.15.193.31>10.15.197.103:5090; TCP lengths 1103 621 616 409
	wantLen := []int{1103, 621, 616, 409}
	for i, p := range pkts {
		if p.Proto != ProtoTCP || len(p.Payload) != wantLen[i] {
			t.Errorf("packet %d: proto %d payload %d, want TCP %d", i+1, p.Proto, len(p.Payload), wantLen[i])
		}
	}
	if !pkts[1].Tunneled || pkts[1].Src.String() != "10.15.193.31" || pkts[1].Dst.String() != "10.15.197.103" || pkts[1].DstPort != 5090 {
		t.Errorf("frame 2: tunneled %v %v>%v:%d", pkts[1].Tunneled, pkts[1].Src, pkts[1].Dst, pkts[1].DstPort)
	}
	if pkts[0].Tunneled {
		t.Errorf("frame 1 marked tunneled")
	}
}

func TestCorpusERF(t *testing.T) {
	pkts, errs := decodeFile(t, "dangdanding-docs/sip-rtp.pcap")
	if len(errs) != 0 || len(pkts) != 15 {
		t.Fatalf("%d packets, errors %v", len(pkts), errs)
	}
	p := pkts[0]
	if p.Src.String() != "16.0.0.1" || p.Dst.String() != "48.0.0.1" || p.Proto != ProtoUDP || p.SrcPort != 41668 || p.DstPort != 5060 ||
		!bytes.HasPrefix(p.Payload, []byte("INVITE sip:callee@spirent.com SIP/2.0\r\n")) || len(p.Payload) != 0x1e2-8 {
		t.Errorf("frame 1: %v:%d>%v:%d proto %d payload %d %q", p.Src, p.SrcPort, p.Dst, p.DstPort, p.Proto, len(p.Payload), p.Payload[:20])
	}
}

// TestCorpusAll decodes every capture of the corpus: no frame may fail.
func TestCorpusAll(t *testing.T) {
	manifest, err := os.ReadFile(filepath.Join(corpusDir, "MANIFEST.tsv"))
	if err != nil {
		t.Skipf("corpus absent: %v", err)
	}
	files := 0
	for _, line := range bytes.Split(manifest, []byte("\n"))[1:] {
		path, rest, _ := bytes.Cut(line, []byte("\t"))
		if len(path) == 0 || bytes.Contains(rest, []byte("\ttext:")) {
			continue
		}
		files++
		t.Run(string(path), func(t *testing.T) {
			pkts, errs := decodeFile(t, string(path))
			if len(errs) != 0 {
				t.Errorf("%d frames failed, first: %v", len(errs), errs[0])
			}
			if len(pkts) == 0 {
				t.Errorf("no IP packet decoded")
			}
		})
	}
	if files < 70 {
		t.Errorf("only %d captures", files)
	}
}
