package hep

import (
	"bytes"
	"net/netip"
	"testing"
	"time"
)

// FuzzHEP checks that Decode never panics, that a decoded packet re-encodes
// (AppendHEP3) to a packet that decodes to the same fields, and that
// MessageLen agrees with Decode on HEP3 input.
func FuzzHEP(f *testing.F) {
	f.Add(hep2(f, false))
	f.Add(hep2(f, true))
	f.Add(AppendHEP3(nil, &Packet{Src: netip.MustParseAddrPort("10.0.0.1:5060"), Dst: netip.MustParseAddrPort("10.0.0.2:5060"),
		Proto: 17, Time: time.Unix(1, 2000), ProtoType: 1, CaptureID: 9, CorrelationID: "x", Payload: []byte(invite)}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Packet
		err := Decode(b, &p)
		if err == nil && p.Version == 3 && !IsHEP(b) {
			t.Fatalf("IsHEP false on a decodable HEP3 packet")
		}
		if err != nil {
			return
		}
		if p.Version == 3 {
			n, complete, err := MessageLen(b)
			if err != nil || !complete || n > len(b) {
				t.Fatalf("MessageLen = %d %v %v on a decodable HEP3 packet of %d bytes", n, complete, err, len(b))
			}
		}
		if len(p.Payload) > 60000 || (p.Src.IsValid() && p.Dst.IsValid() && p.Src.Addr().Is4() != p.Dst.Addr().Is4()) {
			return // does not fit one HEP3 packet / mixed families are not representable
		}
		enc := AppendHEP3(nil, &p)
		var q Packet
		if err := Decode(enc, &q); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if q.Src != p.Src || q.Dst != p.Dst || q.Proto != p.Proto || !q.Time.Equal(p.Time) || q.ProtoType != p.ProtoType ||
			q.CaptureID != p.CaptureID || q.CorrelationID != p.CorrelationID || !bytes.Equal(q.Payload, p.Payload) {
			t.Fatalf("round trip\n got %+v\nwant %+v", q, p)
		}
	})
}
