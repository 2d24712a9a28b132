package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

// TestGenerateReadBack writes ~2 MB, reads it back with pcapgo and checks
// what the summary claims: packet count, SIP share, time order, frames.
func TestGenerateReadBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trunk.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	const size = 2_000_000
	sum, err := Generate(f, Config{Size: size, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != sum.Bytes {
		t.Errorf("file size %d, summary says %d", st.Size(), sum.Bytes)
	}
	if st.Size() < size*9/10 || st.Size() > size*11/10 {
		t.Errorf("file size %d, want within 10%% of %d", st.Size(), size)
	}

	rf, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	r, err := pcapgo.NewReader(rf)
	if err != nil {
		t.Fatal(err)
	}
	var packets, sipPackets, rtpPackets, sipBytes, total int64
	var last int64
	for {
		data, ci, err := r.ZeroCopyReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("packet %d: %v", packets+1, err)
		}
		packets++
		total += int64(len(data))
		if ts := ci.Timestamp.UnixMicro(); ts < last {
			t.Fatalf("packet %d: timestamp goes back", packets)
		} else {
			last = ts
		}
		if len(data) < hdrLen || data[12] != 0x08 || data[13] != 0 || data[23] != 17 {
			t.Fatalf("packet %d: not Ethernet/IPv4/UDP", packets)
		}
		if ipTotal := int(binary.BigEndian.Uint16(data[16:18])); ipTotal != len(data)-ethLen {
			t.Fatalf("packet %d: IPv4 total length %d, frame carries %d", packets, ipTotal, len(data)-ethLen)
		}
		if fold(sum16(data[ethLen:ethLen+ipLen], 0)) != 0xffff {
			t.Fatalf("packet %d: bad IPv4 header checksum", packets)
		}
		sport := binary.BigEndian.Uint16(data[34:36])
		payload := data[hdrLen:]
		switch {
		case sport == sipPort:
			sipPackets++
			sipBytes += int64(len(data))
			if !bytes.HasPrefix(payload, []byte("SIP/2.0 ")) && !bytes.Contains(payload[:min(len(payload), 20)], []byte(" sip:")) {
				t.Fatalf("packet %d: SIP payload starts %q", packets, payload[:20])
			}
		default:
			rtpPackets++
			if len(payload) != rtpHdrLen+g711Len || payload[0] != 0x80 {
				t.Fatalf("packet %d: RTP payload of %d bytes, first byte %#x", packets, len(payload), payload[0])
			}
		}
	}
	if packets != sum.Packets || sipPackets != sum.SIPMessages || rtpPackets != sum.RTPPackets {
		t.Errorf("read %d packets (%d SIP, %d RTP), summary says %d (%d, %d)",
			packets, sipPackets, rtpPackets, sum.Packets, sum.SIPMessages, sum.RTPPackets)
	}
	share := float64(sipBytes) / float64(total)
	if share < 0.03 || share > 0.08 {
		t.Errorf("SIP byte share %.2f%%, want between 3%% and 8%%", 100*share)
	}
	if sum.Answered == 0 || sum.Busy+sum.NotFound+sum.Cancelled == 0 || sum.Registers == 0 || sum.Options == 0 {
		t.Errorf("dialog mix missing a kind: %+v", sum)
	}
	if sum.RTPStreams != 2*sum.Answered {
		t.Errorf("%d RTP streams for %d answered calls", sum.RTPStreams, sum.Answered)
	}
}

// TestGenerateDeterministic checks that a seed gives the same bytes and
// another seed different ones.
func TestGenerateDeterministic(t *testing.T) {
	hash := func(seed uint64) [32]byte {
		var b bytes.Buffer
		if _, err := Generate(&b, Config{Size: 500_000, Seed: seed}); err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(b.Bytes())
	}
	if a, b := hash(7), hash(7); a != b {
		t.Error("same seed, different output")
	}
	if hash(7) == hash(8) {
		t.Error("different seeds, same output")
	}
}

// TestConcurrencyBounded checks the cap on calls in progress.
func TestConcurrencyBounded(t *testing.T) {
	sum, err := Generate(io.Discard, Config{Size: 30_000_000, Seed: 3, Concurrency: 40})
	if err != nil {
		t.Fatal(err)
	}
	if sum.PeakCalls > 60 {
		t.Errorf("peak %d calls in progress, cap is 60", sum.PeakCalls)
	}
	if sum.PeakCalls < 30 {
		t.Errorf("peak %d calls in progress, expected close to 40", sum.PeakCalls)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int64
		err  error
	}{
		{"gigabytes", "1GB", 1_000_000_000, nil},
		{"megabytes", "200MB", 200_000_000, nil},
		{"fraction", "1.5G", 1_500_000_000, nil},
		{"lower case", "2mb", 2_000_000, nil},
		{"bytes", "12345", 12345, nil},
		{"empty", "", 0, ErrSize},
		{"negative", "-1MB", 0, ErrSize},
		{"word", "big", 0, ErrSize},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseSize(tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("parseSize(%q) error %v, want %v", tc.in, err, tc.err)
			}
			if got != tc.want {
				t.Errorf("parseSize(%q) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}
