package rtp

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/pion/rtcp"
)

func rtpPacket(pt uint8, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	b := make([]byte, 12, 12+len(payload))
	b[0], b[1] = 0x80, pt
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	return append(b, payload...)
}

func TestDecode(t *testing.T) {
	ok := rtpPacket(0x80|8, 7, 160, 0xDEADBEEF, []byte{1, 2, 3})
	padded := append(rtpPacket(8, 1, 0, 1, []byte{9, 9}), 0, 0, 3)
	padded[0] |= 0x20
	badPad := append(rtpPacket(8, 1, 0, 1, nil), 9)
	badPad[0] |= 0x20
	v0 := rtpPacket(8, 1, 0, 1, nil)
	v0[0] = 0x00
	csrc := rtpPacket(8, 1, 0, 1, nil)
	csrc[0] |= 2 // two CSRCs that are not there
	tests := []struct {
		name    string
		b       []byte
		err     error
		payload int
	}{
		{"ok", ok, nil, 3},
		{"padding", padded, nil, 2},
		{"bad padding", badPad, ErrPadding, 0},
		{"version 0", v0, ErrVersion, 0},
		{"short", ok[:11], ErrTruncated, 0},
		{"missing CSRCs", csrc, ErrTruncated, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p Packet
			err := Decode(tc.b, &p)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err == nil && len(p.Payload) != tc.payload {
				t.Errorf("payload %d, want %d", len(p.Payload), tc.payload)
			}
			var f Fixed
			ferr := DecodeFixed(tc.b, &f)
			if (ferr == nil) != (err == nil || errors.Is(err, ErrPadding)) {
				t.Errorf("DecodeFixed err %v vs Decode %v", ferr, err)
			}
		})
	}
	var p Packet
	if err := Decode(ok, &p); err != nil || !p.Marker || p.PayloadType != 8 || p.SequenceNumber != 7 || p.Timestamp != 160 || p.SSRC != 0xDEADBEEF {
		t.Errorf("header %+v err %v", p.Header, err)
	}
	if !Plausible(ok) || Plausible(rtpPacket(72, 1, 0, 1, nil)) || Plausible(v0) {
		t.Error("Plausible")
	}
}

func TestEvent(t *testing.T) {
	for code, want := range map[uint8]string{0: "0", 9: "9", 10: "*", 11: "#", 12: "A", 15: "D", 16: "flash", 32: "event 32"} {
		e := Event{Code: code, End: true, Volume: 10, Duration: 800}
		got, err := DecodeEvent(e.Encode(nil))
		if err != nil || got != e || got.Digit() != want {
			t.Errorf("code %d: %+v %q %v, want %q", code, got, got.Digit(), err, want)
		}
	}
	if _, err := DecodeEvent([]byte{1, 2, 3}); !errors.Is(err, ErrBadEvent) {
		t.Errorf("short event: %v", err)
	}
}

func TestRTCP(t *testing.T) {
	sr := &rtcp.SenderReport{SSRC: 1, NTPTime: 0x0123456789ABCDEF, PacketCount: 50,
		Reports: []rtcp.ReceptionReport{{SSRC: 2, FractionLost: 64, TotalLost: 0xFFFFFF, Jitter: 80, LastSenderReport: 0x456789AB, Delay: 65536}}}
	sdes := &rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{Source: 1, Items: []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: "alice@host"}}}}}
	bye := &rtcp.Goodbye{Sources: []uint32{1}}
	xr := &rtcp.ExtendedReport{SenderSSRC: 1, Reports: []rtcp.ReportBlock{&rtcp.VoIPMetricsReportBlock{SSRC: 2, LossRate: 5, RFactor: 90, MOSLQ: 41, MOSCQ: 40, RoundTripDelay: 30}}}
	b, err := rtcp.Marshal([]rtcp.Packet{sr, sdes, bye, xr})
	if err != nil {
		t.Fatal(err)
	}
	if !IsRTCP(b) {
		t.Fatal("IsRTCP false on an SR")
	}
	var r Report
	if err := DecodeRTCP(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.Kind != KindSR || r.SSRC != 1 || r.Packets != 4 || !r.Sender.HasSenderRep || r.Sender.PacketCount != 50 {
		t.Errorf("report %+v", r)
	}
	if len(r.Blocks) != 1 || r.Blocks[0] != (ReportBlock{Source: 2, FractionLost: 64, TotalLost: 0xFFFFFF, Jitter: 80, LSR: 0x456789AB, DLSR: 65536}) {
		t.Errorf("blocks %+v", r.Blocks)
	}
	if r.CNAMEs[1] != "alice@host" || len(r.Bye) != 1 || r.Bye[0] != 1 {
		t.Errorf("sdes %v bye %v", r.CNAMEs, r.Bye)
	}
	if len(r.VoIP) != 1 || r.VoIP[0].RFactor != 90 || r.VoIP[0].MOSLQ != 41 || r.VoIP[0].RoundTripDelay != 30 {
		t.Errorf("xr %+v", r.VoIP)
	}
	if err := DecodeRTCP(rtpPacket(8, 1, 0, 1, nil), &r); !errors.Is(err, ErrNotRTCP) {
		t.Errorf("RTP as RTCP: %v", err)
	}
	bad := append([]byte(nil), b[:8]...)
	bad[3] = 1 // length 8 bytes, an SR needs more
	if err := DecodeRTCP(bad, &r); !errors.Is(err, ErrBadRTCP) {
		t.Errorf("cut SR: %v", err)
	}
}
