package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// bigRecs makes n records of pseudo-random sizes and contents, enough to
// cross many chunk boundaries.
func bigRecs(n int, seed uint64) []rec {
	rnd := rand.New(rand.NewPCG(seed, 1))
	recs := make([]rec, n)
	t0 := time.Date(2024, 3, 11, 9, 0, 0, 0, time.UTC)
	for i := range recs {
		d := make([]byte, 40+rnd.IntN(1500))
		for j := range d {
			d[j] = byte(rnd.Uint32())
		}
		recs[i] = rec{ts: t0.Add(time.Duration(i) * 137 * time.Microsecond), data: d}
	}
	return recs
}

// TestChunkBoundaries: records that straddle the prefetcher's chunk ends
// come out whole, with their offsets, for plain and compressed files.
func TestChunkBoundaries(t *testing.T) {
	recs := bigRecs(12000, 7) // about 9 MB: nine chunk ends
	file := classic(binary.LittleEndian, true, layers.LinkTypeEthernet, recs)
	for name, b := range map[string][]byte{"plain": file, "gzip": gz(file), "zstd": zst(file)} {
		t.Run(name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got, err := readAll(t, r)
			if err != io.EOF {
				t.Fatalf("end: %v", err)
			}
			if len(got) != len(recs) {
				t.Fatalf("%d records, want %d", len(got), len(recs))
			}
			off := int64(24)
			for i, g := range got {
				if g.data != string(recs[i].data) || !g.ts.Equal(recs[i].ts) || g.offset != off || g.frame != i+1 {
					t.Fatalf("record %d: offset %d (want %d), %d bytes, ts %v", i+1, g.offset, off, len(g.data), g.ts)
				}
				off += 16 + int64(len(recs[i].data))
			}
		})
	}
}

// TestRecordLongerThanHeadroom: a record longer than the headroom in front
// of a chunk (a jumbo snap length) is gathered into a buffer of its own.
func TestRecordLongerThanHeadroom(t *testing.T) {
	recs := bigRecs(3000, 9)
	huge := make([]byte, 700<<10)
	for i := range huge {
		huge[i] = byte(i * 7)
	}
	recs[1500].data = huge
	file := classic(binary.BigEndian, false, layers.LinkTypeEthernet, recs)
	binary.BigEndian.PutUint32(file[16:20], 1<<20) // snap length 1 MiB
	r, err := NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := readAll(t, r)
	if err != io.EOF || len(got) != len(recs) {
		t.Fatalf("%d records, %v", len(got), err)
	}
	for i, g := range got {
		if g.data != string(recs[i].data) {
			t.Fatalf("record %d differs (%d bytes)", i+1, len(g.data))
		}
	}
}

// TestTruncatedAcrossChunks: a file cut past the first chunk still gives
// every whole record, then ErrTruncated naming the cut.
func TestTruncatedAcrossChunks(t *testing.T) {
	recs := bigRecs(4000, 11)
	file := classic(binary.LittleEndian, false, layers.LinkTypeEthernet, recs)
	cut := len(file) - 10 // inside the last record
	r, err := NewReader(bytes.NewReader(file[:cut]))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := readAll(t, r)
	if !errors.Is(err, ErrTruncated) || len(got) != len(recs)-1 {
		t.Fatalf("%d records, %v", len(got), err)
	}
}

// TestCloseEarly: closing before the end stops the prefetcher (the race
// detector and the goroutine check in -count runs would see a leak).
func TestCloseEarly(t *testing.T) {
	file := classic(binary.LittleEndian, false, layers.LinkTypeEthernet, bigRecs(8000, 3))
	r, err := NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	var rc Record
	if err := r.Next(&rc); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.cl.stopped:
	default:
		t.Fatal("prefetcher still running after Close")
	}
}
