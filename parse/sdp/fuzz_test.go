package sdp

import (
	"bytes"
	"testing"
)

// FuzzSDP checks that Parse never panics and that its result is a function
// of the input: parsing the same bytes twice gives the same Summary, Summary
// is stable, problems point at real lines, and every RTPMap belongs to a
// listed format.
func FuzzSDP(f *testing.F) {
	f.Add([]byte(crlf(asteriskOffer)))
	f.Add([]byte(microSIPOffer))
	f.Add([]byte("v=0\nc=IN IP4 224.2.1.1/127\nm=audio 0 RTP/AVP 0\nm=image 4000 udptl t38\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s1, err1 := Parse(b)
		s2, err2 := Parse(b)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("errors differ: %v / %v", err1, err2)
		}
		if err1 != nil {
			if s1 != nil {
				t.Fatalf("session with error %v", err1)
			}
			return
		}
		sum := s1.Summary()
		if sum != s1.Summary() || sum != s2.Summary() {
			t.Fatalf("Summary not deterministic: %q vs %q", sum, s2.Summary())
		}
		lines := bytes.Count(b, []byte{'\n'}) + 1
		for _, p := range s1.Problems {
			if p.Line < 1 || p.Line > lines {
				t.Fatalf("problem line %d outside 1..%d", p.Line, lines)
			}
		}
		for _, m := range s1.Media {
			if len(m.RTPMaps) > len(m.Formats) {
				t.Fatalf("%d rtpmaps for %d formats", len(m.RTPMaps), len(m.Formats))
			}
			if m.Port < 0 || m.Port > 65535 || m.RTCPPort < 0 || m.RTCPPort > 65536 {
				t.Fatalf("port %d rtcp %d", m.Port, m.RTCPPort)
			}
		}
	})
}
