package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

var update = flag.Bool("update", false, "rewrite generated files under testdata")

// fuzzSeeds are small files of every kind the Reader takes.
func fuzzSeeds() map[string][]byte {
	recs := sampleRecs()[:2]
	return map[string][]byte{
		"pcap-le-micro": classic(binary.LittleEndian, false, layers.LinkTypeEthernet, recs),
		"pcap-be-nano":  classic(binary.BigEndian, true, layers.LinkTypeLinuxSLL, recs),
		"pcapng-le": ngFile(binary.LittleEndian, []ngIface{{lt: layers.LinkTypeEthernet, tsresol: 9},
			{lt: layers.LinkTypeRaw, tsoffset: 1000}}, []rec{{ts: t0, data: []byte("a")}, {ts: t0, data: []byte("bb"), iface: 1}}),
		"pcapng-be":   ngFile(binary.BigEndian, []ngIface{{lt: layers.LinkTypeLinuxSLL2}}, recs),
		"pcap-gzip":   gz(classic(binary.LittleEndian, false, layers.LinkTypeNull, recs)),
		"pcapng-zstd": zst(ngFile(binary.LittleEndian, []ngIface{{lt: layers.LinkTypeEthernet}}, recs)),
		"pcap-cut":    classic(binary.LittleEndian, false, layers.LinkTypeEthernet, recs)[:50],
	}
}

// TestFuzzSeeds keeps testdata/fuzz/FuzzReader in step with fuzzSeeds;
// run with -update to rewrite it.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzReader")
	for name, b := range fuzzSeeds() {
		path := filepath.Join(dir, name)
		content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
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

// FuzzReader: the Reader never panics, ends with io.EOF or one of its
// sentinels, numbers frames 1..n with increasing offsets inside the
// decompressed input, and repeats its final error.
func FuzzReader(f *testing.F) {
	for _, b := range fuzzSeeds() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := NewReader(bytes.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrNotCapture) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("NewReader: unexpected error kind %v", err)
			}
			return
		}
		defer r.Close()
		var rc Record
		last := int64(-1)
		for n := 1; ; n++ {
			err := r.Next(&rc)
			if err != nil {
				if err != io.EOF && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrMalformed) {
					t.Fatalf("Next: unexpected error kind %v", err)
				}
				if again := r.Next(&rc); again != err {
					t.Fatalf("error not sticky: %v then %v", err, again)
				}
				return
			}
			if rc.Frame != n || rc.Offset <= last {
				t.Fatalf("record %d: frame %d offset %d after %d", n, rc.Frame, rc.Offset, last)
			}
			if r.Compression() == CompressionNone && rc.Offset+int64(len(rc.Data)) > int64(len(in)) {
				t.Fatalf("record %d: %d bytes at offset %d past the input's %d", n, len(rc.Data), rc.Offset, len(in))
			}
			last = rc.Offset
		}
	})
}
