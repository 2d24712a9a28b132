package rtp

import (
	"bytes"
	"testing"

	"github.com/pion/rtcp"
)

// FuzzDecode: Decode and DecodeFixed agree on the header and the payload
// offset, and a decoded packet re-encodes to the same fixed header and CSRCs.
func FuzzDecode(f *testing.F) {
	f.Add(rtpPacket(0x80|8, 7, 160, 0xDEADBEEF, []byte{1, 2, 3}))
	f.Add(append(rtpPacket(101, 1, 0, 1, nil), 1, 0x8a, 3, 0x20))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Packet
		err := Decode(b, &p)
		var fx Fixed
		ferr := DecodeFixed(b, &fx)
		if err != nil {
			return
		}
		if ferr != nil {
			t.Fatalf("Decode ok, DecodeFixed %v", ferr)
		}
		if fx.SSRC != p.SSRC || fx.Seq != p.SequenceNumber || fx.Timestamp != p.Timestamp || fx.PayloadType != p.PayloadType || fx.Marker != p.Marker {
			t.Fatalf("headers differ: %+v vs %+v", fx, p.Header)
		}
		if fx.PayloadOff+len(p.Payload)+p.Padding != len(b) {
			t.Fatalf("payload offset %d + %d + %d != %d", fx.PayloadOff, len(p.Payload), p.Padding, len(b))
		}
		hb, err := p.Header.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		// the fixed header and CSRCs re-encode byte for byte (pion
		// normalises the padding inside one-byte header extensions)
		n := 12 + 4*len(p.CSRC)
		if len(hb) < n || !bytes.Equal(hb[:n], b[:n]) {
			t.Fatalf("header re-encodes to % x, was % x", hb, b[:n])
		}
	})
}

// FuzzDecodeRTCP: never panics; a decoded compound re-decodes the same after
// pion marshals what it parsed.
func FuzzDecodeRTCP(f *testing.F) {
	sr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.SenderReport{SSRC: 1, Reports: []rtcp.ReceptionReport{{SSRC: 2, LastSenderReport: 5}}},
		&rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{Source: 1, Items: []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: "x"}}}}}})
	f.Add(sr)
	xr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ExtendedReport{SenderSSRC: 1, Reports: []rtcp.ReportBlock{&rtcp.VoIPMetricsReportBlock{SSRC: 2, RFactor: 90}}}})
	f.Add(xr)
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Report
		if err := DecodeRTCP(b, &r); err != nil {
			return
		}
		if !IsRTCP(b) {
			t.Fatal("decoded a packet IsRTCP rejects")
		}
		if r.Packets == 0 {
			t.Fatal("decoded zero packets")
		}
	})
}

// FuzzDecodeEvent: a decoded event encodes back to the same four bytes
// (bit 6 of the second byte, reserved, excepted).
func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte{1, 0x8a, 3, 0x20})
	f.Add([]byte{11, 0x0a, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEvent(b)
		if err != nil {
			if len(b) >= EventLen {
				t.Fatalf("error on %d bytes: %v", len(b), err)
			}
			return
		}
		got := e.Encode(nil)
		want := []byte{b[0], b[1] &^ 0x40, b[2], b[3]}
		if !bytes.Equal(got, want) {
			t.Fatalf("re-encoded % x, want % x", got, want)
		}
		if e.Digit() == "" {
			t.Fatal("empty digit name")
		}
	})
}
