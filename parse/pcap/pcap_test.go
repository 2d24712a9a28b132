package pcap

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/klauspost/compress/zstd"
)

// rec is a record to write into a generated file.
type rec struct {
	ts      time.Time
	data    []byte
	origLen int // 0: len(data)
	iface   uint32
}

// classic builds a classic pcap file by hand.
func classic(order binary.ByteOrder, nano bool, lt layers.LinkType, recs []rec) []byte {
	var b bytes.Buffer
	hdr := make([]byte, 24)
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	order.PutUint32(hdr[0:], magic)
	order.PutUint16(hdr[4:], 2)
	order.PutUint16(hdr[6:], 4)
	order.PutUint32(hdr[16:], 65535)
	order.PutUint32(hdr[20:], uint32(lt))
	b.Write(hdr)
	for _, r := range recs {
		h := make([]byte, 16)
		order.PutUint32(h[0:], uint32(r.ts.Unix()))
		frac := r.ts.Nanosecond()
		if !nano {
			frac /= 1000
		}
		order.PutUint32(h[4:], uint32(frac))
		order.PutUint32(h[8:], uint32(len(r.data)))
		ol := r.origLen
		if ol == 0 {
			ol = len(r.data)
		}
		order.PutUint32(h[12:], uint32(ol))
		b.Write(h)
		b.Write(r.data)
	}
	return b.Bytes()
}

// ngIface describes an interface description block.
type ngIface struct {
	lt       layers.LinkType
	tsresol  byte   // 0: default (microseconds)
	tsoffset uint64 // seconds
}

func pad4(n int) int { return (n + 3) &^ 3 }

// ngFile builds a little- or big-endian pcapng file by hand: one section,
// the interfaces, an interface statistics block and a name resolution
// block to be skipped, then the records as EPBs.
func ngFile(order binary.ByteOrder, ifaces []ngIface, recs []rec) []byte {
	var b bytes.Buffer
	block := func(typ uint32, body []byte) {
		n := 12 + len(body)
		h := make([]byte, 8)
		order.PutUint32(h[0:], typ)
		order.PutUint32(h[4:], uint32(n))
		b.Write(h)
		b.Write(body)
		t := make([]byte, 4)
		order.PutUint32(t, uint32(n))
		b.Write(t)
	}
	shb := make([]byte, 16)
	order.PutUint32(shb[0:], ngBOM)
	order.PutUint16(shb[4:], 1)
	order.PutUint16(shb[6:], 0)
	binary.LittleEndian.PutUint64(shb[8:], ^uint64(0))
	block(ngSHB, shb)
	for _, ifc := range ifaces {
		body := make([]byte, 8)
		order.PutUint16(body[0:], uint16(ifc.lt))
		order.PutUint32(body[4:], 262144)
		if ifc.tsresol != 0 {
			opt := make([]byte, 8)
			order.PutUint16(opt[0:], 9)
			order.PutUint16(opt[2:], 1)
			opt[4] = ifc.tsresol
			body = append(body, opt...)
		}
		if ifc.tsoffset != 0 {
			opt := make([]byte, 12)
			order.PutUint16(opt[0:], 14)
			order.PutUint16(opt[2:], 8)
			order.PutUint64(opt[4:], ifc.tsoffset)
			body = append(body, opt...)
		}
		body = append(body, 0, 0, 0, 0) // opt_endofopt
		block(ngIDB, body)
	}
	block(4, make([]byte, 4)) // name resolution block with only nrb_record_end
	for i, r := range recs {
		ifc := ifaces[r.iface]
		var units uint64
		secs := uint64(r.ts.Unix()) - ifc.tsoffset
		switch ifc.tsresol {
		case 0, 6:
			units = secs*1e6 + uint64(r.ts.Nanosecond()/1000)
		case 9:
			units = secs*1e9 + uint64(r.ts.Nanosecond())
		case 3:
			units = secs*1e3 + uint64(r.ts.Nanosecond()/1e6)
		default:
			panic("tsresol")
		}
		body := make([]byte, 20+pad4(len(r.data)))
		order.PutUint32(body[0:], r.iface)
		order.PutUint32(body[4:], uint32(units>>32))
		order.PutUint32(body[8:], uint32(units))
		order.PutUint32(body[12:], uint32(len(r.data)))
		ol := r.origLen
		if ol == 0 {
			ol = len(r.data)
		}
		order.PutUint32(body[16:], uint32(ol))
		copy(body[20:], r.data)
		block(ngEPB, body)
		if i == 0 {
			// statistics block between records: skipped, and offsets still exact
			isb := make([]byte, 12)
			order.PutUint32(isb[0:], 0)
			block(5, isb)
		}
	}
	return b.Bytes()
}

var t0 = time.Date(2024, 3, 5, 10, 20, 30, 123456789, time.UTC)

func sampleRecs() []rec {
	return []rec{
		{ts: t0, data: []byte("first record, 25 bytes..."), origLen: 60},
		{ts: t0.Add(1500 * time.Millisecond), data: []byte("second")},
		{ts: t0.Add(3 * time.Second), data: bytes.Repeat([]byte{0xab}, 1501)},
	}
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

var zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))

func zst(b []byte) []byte { return zenc.EncodeAll(b, nil) }

type got struct {
	frame   int
	ts      time.Time
	lt      layers.LinkType
	data    string
	origLen int
	offset  int64
}

func readAll(t testing.TB, r *Reader) ([]got, error) {
	t.Helper()
	var out []got
	var rc Record
	for {
		err := r.Next(&rc)
		if err != nil {
			return out, err
		}
		out = append(out, got{rc.Frame, rc.Time, rc.LinkType, string(rc.Data), rc.OrigLen, rc.Offset})
	}
}

func TestFormats(t *testing.T) {
	recs := sampleRecs()
	micro := func(ts time.Time) time.Time { return ts.Truncate(time.Microsecond) }
	classicOffsets := []int64{24, 24 + 16 + 25, 24 + 16 + 25 + 16 + 6}
	tests := []struct {
		name    string
		file    []byte
		format  Format
		comp    Compression
		tsConv  func(time.Time) time.Time
		offsets []int64
	}{
		{"pcap micro LE", classic(binary.LittleEndian, false, layers.LinkTypeEthernet, recs), FormatPcap, CompressionNone, micro, classicOffsets},
		{"pcap micro BE", classic(binary.BigEndian, false, layers.LinkTypeEthernet, recs), FormatPcap, CompressionNone, micro, classicOffsets},
		{"pcap nano LE", classic(binary.LittleEndian, true, layers.LinkTypeEthernet, recs), FormatPcap, CompressionNone, nil, classicOffsets},
		{"pcap nano BE", classic(binary.BigEndian, true, layers.LinkTypeEthernet, recs), FormatPcap, CompressionNone, nil, classicOffsets},
		{"pcap gzip", gz(classic(binary.LittleEndian, true, layers.LinkTypeEthernet, recs)), FormatPcap, CompressionGzip, nil, classicOffsets},
		{"pcap zstd", zst(classic(binary.LittleEndian, true, layers.LinkTypeEthernet, recs)), FormatPcap, CompressionZstd, nil, classicOffsets},
		// SHB 28, IDB 24, NRB 16; EPB 32+pad(data); ISB 24 after the first EPB
		{"pcapng LE", ngFile(binary.LittleEndian, []ngIface{{lt: layers.LinkTypeEthernet}}, recs), FormatPcapNG, CompressionNone, micro, []int64{68, 68 + 60 + 24, 68 + 60 + 24 + 40}},
		{"pcapng BE", ngFile(binary.BigEndian, []ngIface{{lt: layers.LinkTypeEthernet}}, recs), FormatPcapNG, CompressionNone, micro, []int64{68, 68 + 60 + 24, 68 + 60 + 24 + 40}},
		{"pcapng zstd", zst(ngFile(binary.LittleEndian, []ngIface{{lt: layers.LinkTypeEthernet}}, recs)), FormatPcapNG, CompressionZstd, micro, []int64{68, 68 + 60 + 24, 68 + 60 + 24 + 40}},
		{"pcapng gzip", gz(ngFile(binary.BigEndian, []ngIface{{lt: layers.LinkTypeEthernet}}, recs)), FormatPcapNG, CompressionGzip, micro, []int64{68, 68 + 60 + 24, 68 + 60 + 24 + 40}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if r.Format() != tc.format || r.Compression() != tc.comp {
				t.Errorf("format %v/%v, want %v/%v", r.Format(), r.Compression(), tc.format, tc.comp)
			}
			out, err := readAll(t, r)
			if err != io.EOF {
				t.Fatalf("end: %v, want io.EOF", err)
			}
			if len(out) != len(recs) {
				t.Fatalf("%d records, want %d", len(out), len(recs))
			}
			for i, g := range out {
				want := recs[i]
				ts := want.ts
				if tc.tsConv != nil {
					ts = tc.tsConv(ts)
				}
				ol := want.origLen
				if ol == 0 {
					ol = len(want.data)
				}
				if g.frame != i+1 || !g.ts.Equal(ts) || g.ts.Location() != time.UTC || g.lt != layers.LinkTypeEthernet ||
					g.data != string(want.data) || g.origLen != ol || g.offset != tc.offsets[i] {
					t.Errorf("record %d: got frame %d ts %v lt %v len %d orig %d off %d; want ts %v len %d orig %d off %d",
						i, g.frame, g.ts, g.lt, len(g.data), g.origLen, g.offset, ts, len(want.data), ol, tc.offsets[i])
				}
			}
			// sticky end
			var rc Record
			if err := r.Next(&rc); err != io.EOF {
				t.Errorf("after end: %v", err)
			}
		})
	}
}

func TestPcapNGMixedInterfaces(t *testing.T) {
	ifaces := []ngIface{
		{lt: layers.LinkTypeEthernet, tsresol: 9},
		{lt: layers.LinkTypeLinuxSLL, tsresol: 3},
		{lt: layers.LinkTypeRaw, tsoffset: 1_700_000_000},
		{lt: layers.LinkTypeLinuxSLL2},
	}
	recs := []rec{
		{ts: t0, data: []byte("eth"), iface: 0},
		{ts: t0.Add(time.Second), data: []byte("sll"), iface: 1},
		{ts: t0.Add(2 * time.Second), data: []byte("raw"), iface: 2},
		{ts: t0.Add(3 * time.Second), data: []byte("sll2"), iface: 3},
		{ts: t0.Add(4 * time.Second), data: []byte("eth again"), iface: 0},
	}
	want := []struct {
		lt layers.LinkType
		ts time.Time
	}{
		{layers.LinkTypeEthernet, t0},
		{layers.LinkTypeLinuxSLL, t0.Add(time.Second).Truncate(time.Millisecond)},
		{layers.LinkTypeRaw, t0.Add(2 * time.Second).Truncate(time.Microsecond)},
		{layers.LinkTypeLinuxSLL2, t0.Add(3 * time.Second).Truncate(time.Microsecond)},
		{layers.LinkTypeEthernet, t0.Add(4 * time.Second)},
	}
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(ngFile(order, ifaces, recs)))
			if err != nil {
				t.Fatal(err)
			}
			out, err := readAll(t, r)
			if err != io.EOF {
				t.Fatalf("end: %v", err)
			}
			if len(out) != len(want) {
				t.Fatalf("%d records, want %d", len(out), len(want))
			}
			for i, g := range out {
				if g.lt != want[i].lt || !g.ts.Equal(want[i].ts) || g.data != string(recs[i].data) {
					t.Errorf("record %d: lt %v ts %v data %q; want lt %v ts %v data %q", i, g.lt, g.ts, g.data, want[i].lt, want[i].ts, recs[i].data)
				}
			}
		})
	}
}

func TestNotCapture(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrNotCapture},
		{"text log", []byte("2024-01-01 INVITE sip:bob@example.com SIP/2.0\r\n"), ErrNotCapture},
		{"three bytes", []byte{0xd4, 0xc3, 0xb2}, ErrNotCapture},
		{"gzip of text", gz([]byte("hello, this is not a capture")), ErrNotCapture},
		{"zstd of text", zst([]byte("hello, this is not a capture")), ErrNotCapture},
		{"broken gzip header", []byte{0x1f, 0x8b, 0, 0}, ErrNotCapture},
		{"pcap header cut", classic(binary.LittleEndian, false, 1, nil)[:20], ErrTruncated},
		{"pcapng header cut", ngFile(binary.LittleEndian, []ngIface{{lt: 1}}, nil)[:20], ErrTruncated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tc.in))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if r != nil {
				t.Error("reader returned with error")
			}
		})
	}
}

func TestMalformedRecord(t *testing.T) {
	f := classic(binary.LittleEndian, false, 1, sampleRecs())
	// second record: capture length above original length
	binary.LittleEndian.PutUint32(f[24+16+25+12:], 2)
	r, err := NewReader(bytes.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	out, err := readAll(t, r)
	if len(out) != 1 || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "offset 65") {
		t.Fatalf("got %d records, err %v; want 1 record and ErrMalformed at offset 65", len(out), err)
	}
	var rc Record
	if err2 := r.Next(&rc); err2 != err {
		t.Errorf("error not sticky: %v", err2)
	}
}

func TestTruncated(t *testing.T) {
	recs := sampleRecs()
	files := map[string][]byte{
		"pcap":   classic(binary.LittleEndian, true, 1, recs),
		"pcapng": ngFile(binary.LittleEndian, []ngIface{{lt: 1}}, recs),
	}
	for name, full := range files {
		// offsets where records end
		r, err := NewReader(bytes.NewReader(full))
		if err != nil {
			t.Fatal(err)
		}
		all, err := readAll(t, r)
		if err != io.EOF || len(all) != 3 {
			t.Fatalf("%s: full file: %d records, %v", name, len(all), err)
		}
		for cut := int(all[0].offset) + 1; cut < len(full); cut++ {
			complete := 0
			for i := range all {
				end := int64(len(full))
				if i+1 < len(all) {
					end = all[i+1].offset
				}
				// a pcapng record is complete when its EPB is; an ISB after it is not part of it
				if name == "pcapng" && i == 0 {
					end = all[1].offset - 24
				}
				if int64(cut) >= end {
					complete++
				}
			}
			for _, wrap := range []string{"plain", "gzip", "zstd"} {
				if wrap != "plain" && cut%7 != 0 {
					continue // every cut plain, a sample of them compressed
				}
				in := full[:cut]
				switch wrap {
				case "gzip":
					in = gz(in)
				case "zstd":
					in = zst(in)
				}
				r, err := NewReader(bytes.NewReader(in))
				if err != nil {
					t.Fatalf("%s/%s cut %d: %v", name, wrap, cut, err)
				}
				out, err := readAll(t, r)
				if len(out) != complete {
					t.Fatalf("%s/%s cut %d: %d records, want %d", name, wrap, cut, len(out), complete)
				}
				boundary := int64(cut) == all[1].offset || int64(cut) == all[2].offset ||
					name == "pcapng" && int64(cut) == all[1].offset-24
				if boundary {
					// a file cut between blocks is a valid, shorter file
					if err != io.EOF {
						t.Fatalf("%s/%s cut %d at a record boundary: err %v, want io.EOF", name, wrap, cut, err)
					}
					continue
				}
				if !errors.Is(err, ErrTruncated) {
					t.Fatalf("%s/%s cut %d: err %v, want ErrTruncated", name, wrap, cut, err)
				}
				if !strings.Contains(err.Error(), "offset "+strconv.Itoa(cut)) {
					t.Errorf("%s/%s cut %d: message %q does not name the cut offset", name, wrap, cut, err)
				}
			}
		}
	}
}

func TestTruncatedGzipStream(t *testing.T) {
	// a gzip stream cut short (not the pcap inside it): still ErrTruncated
	z := gz(classic(binary.LittleEndian, false, 1, sampleRecs()))
	r, err := NewReader(bytes.NewReader(z[:len(z)-30]))
	if err != nil {
		t.Fatal(err)
	}
	out, err := readAll(t, r)
	if !errors.Is(err, ErrTruncated) || len(out) < 1 {
		t.Fatalf("got %d records, err %v", len(out), err)
	}
}

const corpusDir = "../../../shared/corpus"

// corpusCaptures lists the capture files of the shared corpus with the
// packet count capinfos reported for each.
func corpusCaptures(t testing.TB) map[string]int {
	t.Helper()
	f, err := os.Open(filepath.Join(corpusDir, "MANIFEST.tsv"))
	if err != nil {
		t.Skipf("corpus absent: %v", err)
	}
	defer f.Close()
	out := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		path, rest, _ := strings.Cut(sc.Text(), "\t")
		if path == "path" || path == "" {
			continue
		}
		if strings.Contains(rest, "\ttext:") {
			continue
		}
		ref, err := os.ReadFile(filepath.Join(corpusDir, path+".tshark.txt"))
		if err != nil {
			t.Errorf("%s: no reference: %v", path, err)
			continue
		}
		n := -1
		for _, line := range strings.Split(string(ref), "\n") {
			if v, ok := strings.CutPrefix(line, "Number of packets:"); ok {
				n, err = strconv.Atoi(strings.TrimSpace(v))
				if err != nil {
					t.Fatalf("%s: bad capinfos line %q", path, line)
				}
				break
			}
		}
		if n < 0 {
			t.Errorf("%s: no capinfos packet count", path)
			continue
		}
		out[path] = n
	}
	if len(out) == 0 {
		t.Skip("corpus lists no captures")
	}
	return out
}

func TestCorpus(t *testing.T) {
	caps := corpusCaptures(t)
	if len(caps) < 70 {
		t.Errorf("only %d captures in the manifest", len(caps))
	}
	for path, want := range caps {
		t.Run(path, func(t *testing.T) {
			r, err := Open(filepath.Join(corpusDir, path))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var rc Record
			n := 0
			var last int64 = -1
			for {
				err = r.Next(&rc)
				if err != nil {
					break
				}
				n++
				if rc.Frame != n || rc.Offset <= last || len(rc.Data) > rc.OrigLen && rc.OrigLen != 0 {
					t.Fatalf("record %d: frame %d offset %d (previous %d) caplen %d origlen %d", n, rc.Frame, rc.Offset, last, len(rc.Data), rc.OrigLen)
				}
				last = rc.Offset
			}
			if err != io.EOF {
				t.Errorf("after %d records: %v", n, err)
			}
			if n != want {
				t.Errorf("%d records, capinfos says %d", n, want)
			}
		})
	}
}

func TestCorpusTruncated(t *testing.T) {
	full, err := os.ReadFile(filepath.Join(corpusDir, "sngrep/ipv6frag.pcap"))
	if err != nil {
		t.Skipf("corpus absent: %v", err)
	}
	r, err := NewReader(bytes.NewReader(full))
	if err != nil {
		t.Fatal(err)
	}
	all, err := readAll(t, r)
	if err != io.EOF || len(all) != 34 {
		t.Fatalf("full file: %d records, %v", len(all), err)
	}
	// cut in the middle of record 20's data, as a killed tcpdump leaves it
	cut := int(all[19].offset) + 16 + 10
	r, err = NewReader(bytes.NewReader(full[:cut]))
	if err != nil {
		t.Fatal(err)
	}
	out, err := readAll(t, r)
	if len(out) != 19 {
		t.Fatalf("%d records before the cut, want 19", len(out))
	}
	for i := range out {
		if out[i] != all[i] {
			t.Fatalf("record %d differs from the full file's", i+1)
		}
	}
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("err %v, want ErrTruncated", err)
	}
	want := fmt.Sprintf("record 20 at offset %d is cut at offset %d", all[19].offset, cut)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("message %q, want it to contain %q", err, want)
	}
}

func TestOpenMissing(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "nope.pcap"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err %v, want os.ErrNotExist", err)
	}
}

func benchFile(ng bool) []byte {
	var recs []rec
	frame := bytes.Repeat([]byte{0x55}, 242)
	for i := range 10000 {
		recs = append(recs, rec{ts: t0.Add(time.Duration(i) * time.Millisecond), data: frame})
	}
	if ng {
		return ngFile(binary.LittleEndian, []ngIface{{lt: layers.LinkTypeEthernet}}, recs)
	}
	return classic(binary.LittleEndian, false, layers.LinkTypeEthernet, recs)
}

func BenchmarkNext(b *testing.B) {
	for _, ng := range []bool{false, true} {
		name := "pcap"
		if ng {
			name = "pcapng"
		}
		b.Run(name, func(b *testing.B) {
			file := benchFile(ng)
			br := bytes.NewReader(file)
			r, err := NewReader(br)
			if err != nil {
				b.Fatal(err)
			}
			var rc Record
			b.SetBytes(int64(len(file) / 10000))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				err := r.Next(&rc)
				if err == io.EOF {
					b.StopTimer()
					br.Reset(file)
					r, err = NewReader(br)
					if err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					continue
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestPcapNGTrailingBlocks(t *testing.T) {
	// one record followed by an interface statistics block: a clean end
	f := ngFile(binary.LittleEndian, []ngIface{{lt: layers.LinkTypeEthernet}}, sampleRecs()[:1])
	r, err := NewReader(bytes.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	out, err := readAll(t, r)
	if len(out) != 1 || err != io.EOF {
		t.Fatalf("%d records, err %v; want 1 and io.EOF", len(out), err)
	}
	// the same file cut inside that statistics block is truncated
	r, err = NewReader(bytes.NewReader(f[:len(f)-5]))
	if err != nil {
		t.Fatal(err)
	}
	out, err = readAll(t, r)
	if len(out) != 1 || !errors.Is(err, ErrTruncated) {
		t.Fatalf("%d records, err %v; want 1 and ErrTruncated", len(out), err)
	}
}
