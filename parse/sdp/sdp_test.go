package sdp

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// crlf turns a readable LF test body into the CRLF form sent on the wire.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// From the seed document 003 (an Asterisk INVITE with audio and video).
const asteriskOffer = `v=0
o=root 1718872612 1718872612 IN IP4 10.20.0.22
s=Asterisk PBX 13.1.0~dfsg-1.1ubuntu4.1
c=IN IP4 10.20.0.22
b=CT:384
t=0 0
m=audio 57692 RTP/AVP 9 8 0 101
a=rtpmap:9 G722/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=maxptime:150
a=sendrecv
m=video 54246 RTP/AVP 31 34 98 99
a=rtpmap:31 H261/90000
a=rtpmap:34 H263/90000
a=rtpmap:98 h263-1998/90000
a=rtpmap:99 H264/90000
a=sendrecv
`

// From the seed document 004 (MicroSIP): a= before c=, a=rtcp with address.
const microSIPOffer = `v=0
o=- 3902655284 3902655284 IN IP4 192.168.71.146
s=pjmedia
b=AS:84
t=0 0
a=X-nat:0
m=audio 4008 RTP/AVP 8 0 101
c=IN IP4 192.168.71.146
b=TIAS:64000
a=rtcp:4009 IN IP4 192.168.71.146
a=sendrecv
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ssrc:1913920969 cname:1ebf1ac11af82313
`

func TestParseSummary(t *testing.T) {
	tests := []struct {
		name, body, summary string
	}{
		{"asterisk audio+video CRLF", crlf(asteriskOffer),
			"audio 10.20.0.22:57692 G722/8000 PCMA/8000 PCMU/8000 telephone-event/8000 sendrecv; video 10.20.0.22:54246 H261/90000 H263/90000 h263-1998/90000 H264/90000 sendrecv"},
		{"microsip LF, c= after a=", microSIPOffer,
			"audio 192.168.71.146:4008 PCMA/8000 PCMU/8000 telephone-event/8000 sendrecv"},
		{"static payloads fill gaps", "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0 3 4 8 9 13 18\n",
			"audio 10.0.0.1:4000 PCMU/8000 GSM/8000 G723/8000 PCMA/8000 G722/8000 CN/8000 G729/8000 sendrecv"},
		{"rejected media", "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\nm=video 0 RTP/AVP 31\n",
			"audio 10.0.0.1:4000 PCMU/8000 sendrecv; video 0 (rejected)"},
		{"ipv6", "v=0\nc=IN IP6 2001:db8::1\nm=audio 5004 RTP/AVP 96\na=rtpmap:96 opus/48000/2\na=recvonly\n",
			"audio [2001:db8::1]:5004 opus/48000/2 recvonly"},
		{"host name kept raw", "v=0\nc=IN IP4 sip.voip-info.org\nm=audio 16420 RTP/AVP 0\n",
			"audio sip.voip-info.org:16420 PCMU/8000 sendrecv"},
		{"no connection", "v=0\nm=audio 16420 RTP/AVP 0\n", "audio ?:16420 PCMU/8000 sendrecv"},
		{"unknown dynamic and t38", "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 97\nm=image 4002 udptl t38\n",
			"audio 10.0.0.1:4000 97 sendrecv; image 10.0.0.1:4002 t38 sendrecv"},
		{"session inactive inherited, media overrides", "v=0\nc=IN IP4 10.0.0.1\na=inactive\nm=audio 4000 RTP/AVP 0\nm=video 4002 RTP/AVP 31\na=sendonly\n",
			"audio 10.0.0.1:4000 PCMU/8000 inactive; video 10.0.0.1:4002 H261/90000 sendonly"},
		{"no media", "v=0\ns=-\n", "no media"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse([]byte(tc.body))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := s.Summary(); got != tc.summary {
				t.Errorf("Summary\n got %q\nwant %q", got, tc.summary)
			}
			if len(s.Problems) != 0 {
				t.Errorf("Problems = %v, want none", s.Problems)
			}
		})
	}
}

func TestParseFields(t *testing.T) {
	s, err := Parse([]byte(crlf(microSIPOffer)))
	if err != nil {
		t.Fatal(err)
	}
	if s.Origin != "- 3902655284 3902655284 IN IP4 192.168.71.146" || s.Name != "pjmedia" {
		t.Errorf("Origin %q Name %q", s.Origin, s.Name)
	}
	if s.Addr.IsValid() {
		t.Errorf("session Addr = %v, want invalid (no session c=)", s.Addr)
	}
	want := Media{
		Type: "audio", Port: 4008, Proto: "RTP/AVP", Formats: []string{"8", "0", "101"},
		Addr:     netip.MustParseAddr("192.168.71.146"),
		RTCPPort: 4009, RTCPAddr: netip.MustParseAddr("192.168.71.146"),
		Direction: SendRecv,
		RTPMaps: []RTPMap{
			{8, "PCMA", 8000, 0}, {0, "PCMU", 8000, 0}, {101, "telephone-event", 8000, 0},
		},
		AddrRaw: "192.168.71.146", Line: 7,
	}
	if len(s.Media) != 1 || !reflect.DeepEqual(s.Media[0], want) {
		t.Errorf("Media\n got %+v\nwant %+v", s.Media, want)
	}
}

func TestConnectionAndRTCP(t *testing.T) {
	tests := []struct {
		name           string
		body           string
		addr, rtcpAddr string // "" = invalid
		addrRaw        string
		port, rtcpPort int
		ptime          int
		dir            Direction
	}{
		{"ttl suffix", "c=IN IP4 224.2.1.1/127\nm=audio 4000 RTP/AVP 0\n", "224.2.1.1", "224.2.1.1", "224.2.1.1", 4000, 4001, 0, SendRecv},
		{"ttl and count suffix", "c=IN IP4 224.2.1.1/127/3\nm=audio 4000 RTP/AVP 0\n", "224.2.1.1", "224.2.1.1", "224.2.1.1", 4000, 4001, 0, SendRecv},
		{"media c= overrides session", "c=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\nc=IN IP4 10.0.0.2\n", "10.0.0.2", "10.0.0.2", "10.0.0.2", 4000, 4001, 0, SendRecv},
		{"rtcp port only", "c=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\na=rtcp:5001\n", "10.0.0.1", "10.0.0.1", "10.0.0.1", 4000, 5001, 0, SendRecv},
		{"rtcp with address", "c=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\na=rtcp:5001 IN IP4 10.9.9.9\n", "10.0.0.1", "10.9.9.9", "10.0.0.1", 4000, 5001, 0, SendRecv},
		{"hostname", "c=IN IP4 media.example.com\nm=audio 4000 RTP/AVP 0\n", "", "", "media.example.com", 4000, 4001, 0, SendRecv},
		{"ptime and recvonly", "c=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\na=ptime:20\na=recvonly\n", "10.0.0.1", "10.0.0.1", "10.0.0.1", 4000, 4001, 20, RecvOnly},
		{"port count", "c=IN IP4 10.0.0.1\nm=audio 4000/2 RTP/AVP 0\n", "10.0.0.1", "10.0.0.1", "10.0.0.1", 4000, 4001, 0, SendRecv},
		{"rejected port no rtcp", "c=IN IP4 10.0.0.1\nm=audio 0 RTP/AVP 0\n", "10.0.0.1", "10.0.0.1", "10.0.0.1", 0, 0, 0, SendRecv},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse([]byte("v=0\n" + tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Media) != 1 {
				t.Fatalf("%d media", len(s.Media))
			}
			m := s.Media[0]
			str := func(a netip.Addr) string {
				if !a.IsValid() {
					return ""
				}
				return a.String()
			}
			if str(m.Addr) != tc.addr || str(m.RTCPAddr) != tc.rtcpAddr || m.AddrRaw != tc.addrRaw ||
				m.Port != tc.port || m.RTCPPort != tc.rtcpPort || m.Ptime != tc.ptime || m.Direction != tc.dir {
				t.Errorf("got addr %q rtcp %q raw %q port %d rtcp %d ptime %d dir %v", str(m.Addr), str(m.RTCPAddr), m.AddrRaw, m.Port, m.RTCPPort, m.Ptime, m.Direction)
			}
			if len(s.Problems) != 0 {
				t.Errorf("Problems %v", s.Problems)
			}
		})
	}
}

func TestProblems(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		lines   []int
		summary string
	}{
		{"junk lines", "v=0\ngarbage here\nc=IN IP4 10.0.0.1\n=x\nm=audio 4000 RTP/AVP 0\n\x00\x01\n", []int{2, 4, 6}, "audio 10.0.0.1:4000 PCMU/8000 sendrecv"},
		{"bad c=", "v=0\nc=IN\nm=audio 4000 RTP/AVP 0\n", []int{2}, "audio ?:4000 PCMU/8000 sendrecv"},
		{"bad m= port", "v=0\nc=IN IP4 10.0.0.1\nm=audio xyz RTP/AVP 0\n", []int{3}, "audio 0 (rejected)"},
		{"bad rtpmap, static used", "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\na=rtpmap:zero PCMU\n", []int{4}, "audio 10.0.0.1:4000 PCMU/8000 sendrecv"},
		{"bad ptime and rtcp", "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\na=ptime:x\na=rtcp:99999\n", []int{4, 5}, "audio 10.0.0.1:4000 PCMU/8000 sendrecv"},
		{"unknown lines ignored", "v=0\nx=anything\nq=what\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\na=unknown-attr\n", nil, "audio 10.0.0.1:4000 PCMU/8000 sendrecv"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			var lines []int
			for _, p := range s.Problems {
				if !errors.Is(p, ErrBadLine) {
					t.Errorf("problem %v does not wrap ErrBadLine", p)
				}
				lines = append(lines, p.Line)
			}
			if !reflect.DeepEqual(lines, tc.lines) {
				t.Errorf("problem lines %v, want %v (%v)", lines, tc.lines, s.Problems)
			}
			if got := s.Summary(); got != tc.summary {
				t.Errorf("Summary %q, want %q", got, tc.summary)
			}
		})
	}
}

func TestEmpty(t *testing.T) {
	for _, body := range []string{"", "\r\n", "\n\n  \r\n"} {
		s, err := Parse([]byte(body))
		if !errors.Is(err, ErrEmpty) || s != nil {
			t.Errorf("Parse(%q) = %v, %v; want nil, ErrEmpty", body, s, err)
		}
	}
}

func TestStaticPayload(t *testing.T) {
	tests := []struct {
		pt   int
		want RTPMap
		ok   bool
	}{
		{0, RTPMap{0, "PCMU", 8000, 0}, true},
		{3, RTPMap{3, "GSM", 8000, 0}, true},
		{4, RTPMap{4, "G723", 8000, 0}, true},
		{8, RTPMap{8, "PCMA", 8000, 0}, true},
		{9, RTPMap{9, "G722", 8000, 0}, true},
		{10, RTPMap{10, "L16", 44100, 2}, true},
		{13, RTPMap{13, "CN", 8000, 0}, true},
		{18, RTPMap{18, "G729", 8000, 0}, true},
		{34, RTPMap{34, "H263", 90000, 0}, true},
		{1, RTPMap{}, false},
		{96, RTPMap{}, false},
		{-1, RTPMap{}, false},
		{1000, RTPMap{}, false},
	}
	for _, tc := range tests {
		got, ok := StaticPayload(tc.pt)
		if got != tc.want || ok != tc.ok {
			t.Errorf("StaticPayload(%d) = %v, %v; want %v, %v", tc.pt, got, ok, tc.want, tc.ok)
		}
	}
}

func TestDirectionString(t *testing.T) {
	for d, want := range map[Direction]string{SendRecv: "sendrecv", SendOnly: "sendonly", RecvOnly: "recvonly", Inactive: "inactive", 9: "Direction(9)"} {
		if got := d.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", d, got, want)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	body := []byte(crlf(asteriskOffer))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(body); err != nil {
			b.Fatal(err)
		}
	}
}
