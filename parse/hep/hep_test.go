package hep

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

const invite = "INVITE sip:bob@example.com SIP/2.0\r\nCall-ID: a@b\r\n\r\n"

func hep2(t testing.TB, v6 bool) []byte {
	t.Helper()
	var b []byte
	if v6 {
		b = []byte{2, 40, 10, 17, 0x13, 0xc4, 0x13, 0xc5}
		b = append(b, netip.MustParseAddr("2001:db8::1").AsSlice()...)
		b = append(b, netip.MustParseAddr("2001:db8::2").AsSlice()...)
	} else {
		b = []byte{2, 16, 2, 17, 0x13, 0xc4, 0x13, 0xc5, 10, 0, 0, 1, 10, 0, 0, 2}
	}
	b = binary.LittleEndian.AppendUint32(b, 1481462364)
	b = binary.LittleEndian.AppendUint32(b, 123456)
	b = binary.LittleEndian.AppendUint16(b, 2001)
	return append(b, invite...)
}

func TestDecodeHEP2(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		var p Packet
		b := hep2(t, v6)
		if !IsHEP(b) {
			t.Fatalf("v6=%v: IsHEP false", v6)
		}
		if err := Decode(b, &p); err != nil {
			t.Fatalf("v6=%v: %v", v6, err)
		}
		src, dst := "10.0.0.1:5060", "10.0.0.2:5061"
		if v6 {
			src, dst = "[2001:db8::1]:5060", "[2001:db8::2]:5061"
		}
		if p.Version != 2 || p.Src.String() != src || p.Dst.String() != dst || p.Proto != 17 ||
			p.CaptureID != 2001 || p.ProtoType != ProtoTypeSIP || string(p.Payload) != invite ||
			!p.Time.Equal(time.Unix(1481462364, 123456000)) || p.Time.Location() != time.UTC {
			t.Errorf("v6=%v: got %+v", v6, p)
		}
	}
}

func TestRoundTripHEP3(t *testing.T) {
	in := Packet{
		Src: netip.MustParseAddrPort("192.168.1.1:5060"), Dst: netip.MustParseAddrPort("[::ffff:1.2.3.4]:5080"),
		Proto: 6, Time: time.Unix(1700000000, 999999000).UTC(), ProtoType: 1, CaptureID: 7,
		CorrelationID: "corr-1", Payload: []byte(invite),
	}
	b := AppendHEP3([]byte("junk"), &in)[4:]
	if n, ok, err := MessageLen(b); n != len(b) || !ok || err != nil {
		t.Fatalf("MessageLen = %d %v %v, want %d true nil", n, ok, err, len(b))
	}
	var p Packet
	if err := Decode(append(b, "trailing"...), &p); err != nil {
		t.Fatal(err)
	}
	// Mixed families: the source family wins, the IPv6 destination is lost.
	if p.Version != 3 || p.Src != in.Src || p.Proto != 6 || !p.Time.Equal(in.Time) || p.CaptureID != 7 ||
		p.CorrelationID != "corr-1" || string(p.Payload) != invite || p.Dst.IsValid() {
		t.Errorf("got %+v", p)
	}
}

func TestCompressed(t *testing.T) {
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	io.WriteString(w, invite)
	w.Close()
	b := AppendHEP3(nil, &Packet{Src: netip.MustParseAddrPort("10.0.0.1:1"), Dst: netip.MustParseAddrPort("10.0.0.2:2"), Proto: 17, ProtoType: 1})
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint16(b, chunkCompressed)
	b = binary.BigEndian.AppendUint16(b, uint16(6+z.Len()))
	b = append(b, z.Bytes()...)
	binary.BigEndian.PutUint16(b[4:], uint16(len(b)))
	var p Packet
	if err := Decode(b, &p); err != nil {
		t.Fatal(err)
	}
	if !p.Compressed || string(p.Payload) != invite {
		t.Errorf("payload %q compressed %v", p.Payload, p.Compressed)
	}
	b[len(b)-3] ^= 0xff // break the adler checksum
	if err := Decode(b, &p); !errors.Is(err, ErrMalformed) {
		t.Errorf("corrupt zlib: err %v, want ErrMalformed", err)
	}
}

func TestErrors(t *testing.T) {
	good := AppendHEP3(nil, &Packet{Src: netip.MustParseAddrPort("10.0.0.1:1"), Dst: netip.MustParseAddrPort("10.0.0.2:2"), Payload: []byte("x")})
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrNotHEP},
		{"sip", []byte(invite), ErrNotHEP},
		{"hep3 short", []byte("HEP3\x00"), ErrMalformed},
		{"hep3 total too big", append([]byte("HEP3\xff\xff"), good[6:]...), ErrMalformed},
		{"hep3 total too small", []byte("HEP3\x00\x02"), ErrMalformed},
		{"chunk overruns", func() []byte { b := bytes.Clone(good); b[11] = 0xff; return b }(), ErrMalformed},
		{"chunk too short", func() []byte { b := bytes.Clone(good); b[11] = 3; return b }(), ErrMalformed},
		{"bad family len", func() []byte { b := bytes.Clone(good); b[11] = 8; return b }(), ErrMalformed},
		{"hep2 short", []byte{2, 16, 2, 17}, ErrMalformed},
		{"hep2 family", []byte{2, 16, 7, 17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, ErrMalformed},
		{"hep2 header len", []byte{2, 20, 2, 17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, ErrMalformed},
		{"hep2 no time", []byte{2, 16, 2, 17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			if err := Decode(tt.b, &p); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if err := Decode(good, new(Packet)); err != nil {
		t.Errorf("good: %v", err)
	}
}

func TestMessageLen(t *testing.T) {
	tests := []struct {
		name     string
		b        string
		n        int
		complete bool
		want     error
	}{
		{"empty", "", 0, false, nil},
		{"prefix", "HE", 0, false, nil},
		{"no length", "HEP3\x00", 0, false, nil},
		{"partial", "HEP3\x00\x0axx", 10, false, nil},
		{"complete", "HEP3\x00\x0axxxxHEP3", 10, true, nil},
		{"not hep", "INVITE", 0, false, ErrNotHEP},
		{"bad len", "HEP3\x00\x05", 0, false, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, c, err := MessageLen([]byte(tt.b))
			if n != tt.n || c != tt.complete || !errors.Is(err, tt.want) {
				t.Errorf("got %d %v %v, want %d %v %v", n, c, err, tt.n, tt.complete, tt.want)
			}
		})
	}
}

// udpPayloads reads a capture with gopacket and returns every UDP payload.
func udpPayloads(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("corpus absent: %v", err)
	}
	defer f.Close()
	type reader interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var r reader
	var lt layers.LinkType
	if strings.HasSuffix(path, "pcapng") {
		ng, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatal(err)
		}
		r, lt = ng, ng.LinkType()
	} else {
		pr, err := pcapgo.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r, lt = pr, pr.LinkType()
	}
	var out [][]byte
	for {
		data, _, err := r.ReadPacketData()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		pkt := gopacket.NewPacket(data, lt, gopacket.Default)
		if u, ok := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP); ok {
			out = append(out, u.Payload)
		}
	}
}

func TestCorpus(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "corpus", "hep-wireshark")
	tests := []struct {
		file       string
		startLines []string
		src        string
		compressed bool
	}{
		// MANIFEST: 8 HEP3 frames; INVITE, 407 Proxy Authentication Required, 200.
		{"hep.pcap", []string{
			"INVITE sip:nodejs@127.0.0.1 SIP/2.0",
			"SIP/2.0 100 Trying",
			"SIP/2.0 407 Proxy Authentication Required",
			"OPTIONS sip:127.0.0.1 SIP/2.0",
			"SYSLOG: Processing OPTIONS request from nodejs using Call-Id: qgf3dm9rudi@127.0.0.1", // type 100, log
			"SIP/2.0 200 Alive",
			"PUBLISH sip:nodejs@127.0.0.1:5999;transport=udp SIP/2.0",
			`{"sender_information":{"ntp_timestamp_sec":3650797214,"packets":106,"ntp_timestamp_usec":13217348104192,"octets":16960,"rtp_timestamp":16960},"ssrc":451916597,"type":200,"report_blocks":[{"source_ssrc":898343773,"highest_seq_no":20881,"fraction_lost":0,"ia_jitter":1,"packets_lost":0,"lsr":-1097006646,"dlsr":7733}],"report_count":0}`, // type 5, RTCP as JSON
		}, "192.168.1.1:5060", false},
		// MANIFEST: 21 HEP3 frames, compressed payloads (zlib).
		{"hep3_compressed.pcap.pcapng", nil, "192.168.137.1:54345", true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			payloads := udpPayloads(t, filepath.Join(dir, tt.file))
			var p Packet
			var lines []string
			for i, b := range payloads {
				if !IsHEP(b) {
					t.Fatalf("packet %d: IsHEP false", i+1)
				}
				if err := Decode(b, &p); err != nil {
					t.Fatalf("packet %d: %v", i+1, err)
				}
				wantType := uint8(ProtoTypeSIP)
				if tt.file == "hep.pcap" && i == 4 {
					wantType = ProtoTypeLog
				} else if tt.file == "hep.pcap" && i == 7 {
					wantType = ProtoTypeRTCP
				}
				if p.Version != 3 || p.ProtoType != wantType || p.Compressed != tt.compressed || p.Time.IsZero() {
					t.Errorf("packet %d: %+v", i+1, p)
				}
				if i == 0 && p.Src.String() != tt.src {
					t.Errorf("packet 1 src %v, want %s", p.Src, tt.src)
				}
				line, _, _ := strings.Cut(string(p.Payload), "\n")
				lines = append(lines, strings.TrimSuffix(line, "\r"))
			}
			if tt.startLines == nil {
				if len(lines) != 21 {
					t.Errorf("%d packets, want 21", len(lines))
				}
				for i, l := range lines {
					if !strings.HasSuffix(l, "SIP/2.0") && !strings.HasPrefix(l, "SIP/2.0 ") {
						t.Errorf("packet %d: start line %q", i+1, l)
					}
				}
				return
			}
			if strings.Join(lines, "|") != strings.Join(tt.startLines, "|") {
				t.Errorf("start lines\n got %q\nwant %q", lines, tt.startLines)
			}
		})
	}
}
