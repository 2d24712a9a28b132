package sip

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// From seed document 003 (an Asterisk INVITE captured with tcpdump).
const asteriskInvite = `INVITE sip:8969669@10.11.12.13:5060 SIP/2.0
Via: SIP/2.0/UDP 10.20.0.22:5060;branch=z9hG4bK375a8cbf
Max-Forwards: 70
From: <sip:4151509@10.20.0.22>;tag=as25c47886
To: <sip:8969669@10.11.12.13:5060>
Contact: <sip:4151509@10.20.0.22:5060>
Call-ID: 4a40a41a3636462357f6f6f25b700844@10.20.0.22:5060
CSeq: 102 INVITE
User-Agent: Asterisk PBX 13.1.0~dfsg-1.1ubuntu4.1
Date: Tue, 06 Jun 2017 15:49:30 GMT
Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, SUBSCRIBE, NOTIFY, INFO, PUBLISH, MESSAGE
Supported: replaces, timer
Content-Type: application/sdp
Content-Length: 459

v=0
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

// From seed document 004 (MicroSIP against an Asterisk), with the empty
// line the document dropped put back.
const trying = `SIP/2.0 100 Trying
Via: SIP/2.0/UDP 192.168.71.146:50952;rport=50952;received=192.168.80.11;branch=z9hG4bKPj15728c40ffd34c83b084dc67d9e93d9c
Call-ID: 6c46d346e3084913a77014b523c9e389
From: <sip:192.168.71.146>;tag=cb9e96b542084e3db354b9a6e98e5527
To: <sip:192.168.80.12>
CSeq: 6521 INVITE
Content-Length: 0

`

// From seed document 001 (a FireBrick log): compact forms. The log lost the
// <uri> of From and To, so both are malformed name-addrs.
const forbiddenCompact = `SIP/2.0 403 Forbidden
v: SIP/2.0/UDP 217.169.16.153:3072;received=217.169.16.153;branch=z9hG4bK-d22x93940ejm;rport=3072
CSeq: 2109 REGISTER
i: 07d3cf53d8a5-iys3iqo6spv1
f: "Firebrick 4000" ;tag=wtbefi4r0b
t: "Firebrick 4000" ;tag=938109489558573546
l: 0

`

// Equivalent to the INVITE in suricata-verify sip-compact-form (Nero SIPPS):
// compact v, f, t, c, l, and a display name written with backslashes.
const compactInvite = `INVITE sip:97239287044@voip.brujula.net SIP/2.0
v: SIP/2.0/UDP 192.168.1.2:5060;branch=z9hG4bKnp104984053-44ce4a41192.168.1.2;rport
f: \"arik\" <sip:816666@voip.brurjula.net>;tag=6433ef9
t: <sip:97239287044@voip.brujula.net>
Call-ID: 105090259-446faf7a@192.168.1.2
CSeq: 1 INVITE
c: application/sdp
l: 86
Contact: <sip:816666@192.168.1.2>
Max-Forwards: 70

v=0
o=SIPPS 1 1 IN IP4 192.168.1.2
c=IN IP4 192.168.1.2
m=audio 30000 RTP/AVP 0 8
`

// minimal is a valid request to vary in tests.
const minimal = `OPTIONS sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1
From: Alice <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>
Call-ID: abc@10.0.0.1
CSeq: 7 OPTIONS
Content-Length: 0

`

type problemWant struct {
	err  error
	line int
}

func checkProblems(t *testing.T, m *Message, want []problemWant) {
	t.Helper()
	if len(m.Problems) != len(want) {
		t.Fatalf("problems %v, want %d: %v", m.Problems, len(want), want)
	}
	for i, w := range want {
		p := m.Problems[i]
		if !errors.Is(p, w.err) || p.Line != w.line {
			t.Errorf("problem %d = %v (line %d), want %v at line %d", i, p, p.Line, w.err, w.line)
		}
		if p.Offset < 0 || p.Offset > len(m.Raw) {
			t.Errorf("problem %d offset %d outside Raw (%d)", i, p.Offset, len(m.Raw))
		}
	}
}

func TestParseMessages(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		check    func(t *testing.T, m *Message)
		problems []problemWant
	}{
		{"asterisk INVITE with SDP, CRLF", crlf(asteriskInvite), func(t *testing.T, m *Message) {
			if !m.Request || m.Method != INVITE || m.MethodName != "INVITE" || m.StatusCode != 0 {
				t.Errorf("start line: %v %v %q %d", m.Request, m.Method, m.MethodName, m.StatusCode)
			}
			wantURI := URI{Raw: "sip:8969669@10.11.12.13:5060", Scheme: "sip", User: "8969669", Host: "10.11.12.13", Port: 5060}
			if m.RequestURI != wantURI {
				t.Errorf("RequestURI %+v", m.RequestURI)
			}
			if m.CallID != "4a40a41a3636462357f6f6f25b700844@10.20.0.22:5060" || m.CSeq != 102 || m.CSeqMethod != INVITE || m.CSeqMethodName != "INVITE" {
				t.Errorf("CallID %q CSeq %d %v", m.CallID, m.CSeq, m.CSeqMethod)
			}
			if m.From.Tag != "as25c47886" || m.From.URI.User != "4151509" || m.To.Tag != "" || m.To.URI.Port != 5060 {
				t.Errorf("From %+v To %+v", m.From, m.To)
			}
			wantVia := []Via{{Raw: "SIP/2.0/UDP 10.20.0.22:5060;branch=z9hG4bK375a8cbf", Transport: "UDP", Host: "10.20.0.22", Port: 5060, Branch: "z9hG4bK375a8cbf"}}
			if !reflect.DeepEqual(m.Via, wantVia) {
				t.Errorf("Via %+v", m.Via)
			}
			if len(m.Headers) != 13 || m.Headers[0].Name != "Via" || m.Headers[12].Name != "Content-Length" || m.Headers[12].Value != "459" || m.Headers[12].Offset != strings.Index(crlf(asteriskInvite), "Content-Length") {
				t.Errorf("Headers %d %+v", len(m.Headers), m.Headers)
			}
			if m.ContentType != "application/sdp" || m.ContentLength != 459 || len(m.Body) != 459 || len(m.Raw) != len(crlf(asteriskInvite)) {
				t.Errorf("ContentType %q ContentLength %d body %d raw %d", m.ContentType, m.ContentLength, len(m.Body), len(m.Raw))
			}
			if len(m.Parts) != 1 || m.Parts[0].ContentType != "application/sdp" || m.SDP == nil {
				t.Fatalf("Parts %+v SDP %v", m.Parts, m.SDP)
			}
			if got := m.SDP.Summary(); got != "audio 10.20.0.22:57692 G722/8000 PCMA/8000 PCMU/8000 telephone-event/8000 sendrecv; video 10.20.0.22:54246 H261/90000 H263/90000 h263-1998/90000 H264/90000 sendrecv" {
				t.Errorf("SDP %q", got)
			}
		}, nil},
		{"100 Trying, LF only", trying, func(t *testing.T, m *Message) {
			if m.Request || m.StatusCode != 100 || m.Reason != "Trying" || m.Method != MethodOther {
				t.Errorf("status line %v %d %q", m.Request, m.StatusCode, m.Reason)
			}
			v := m.Via[0]
			if v.RPort != 50952 || v.Received != "192.168.80.11" || v.Branch != "z9hG4bKPj15728c40ffd34c83b084dc67d9e93d9c" || v.Port != 50952 {
				t.Errorf("Via %+v", v)
			}
			if m.CSeq != 6521 || m.CSeqMethod != INVITE || m.ContentLength != 0 || m.Body == nil && len(m.Body) != 0 || len(m.Parts) != 0 {
				t.Errorf("CSeq %d body %q", m.CSeq, m.Body)
			}
		}, nil},
		{"403 compact forms, malformed From and To", crlf(forbiddenCompact), func(t *testing.T, m *Message) {
			if m.StatusCode != 403 || m.Reason != "Forbidden" || m.CallID != "07d3cf53d8a5-iys3iqo6spv1" || m.CSeq != 2109 || m.CSeqMethod != REGISTER {
				t.Errorf("%d %q %q %d", m.StatusCode, m.Reason, m.CallID, m.CSeq)
			}
			if m.From.Display != "Firebrick 4000" || m.From.Tag != "wtbefi4r0b" || m.To.Tag != "938109489558573546" {
				t.Errorf("From %+v To %+v", m.From, m.To)
			}
			if len(m.Via) != 1 || m.Via[0].RPort != 3072 || m.ContentLength != 0 {
				t.Errorf("Via %+v CL %d", m.Via, m.ContentLength)
			}
			if m.Get("Call-ID") != "07d3cf53d8a5-iys3iqo6spv1" || m.Get("via") != m.Headers[0].Value || m.Get("Content-Length") != "0" {
				t.Errorf("Get with compact forms failed")
			}
		}, []problemWant{{ErrBadAddress, 5}, {ErrBadAddress, 6}}},
		{"compact INVITE (suricata-verify sip-compact-form)", crlf(compactInvite), func(t *testing.T, m *Message) {
			if m.From.Display != `\"arik\"` || m.From.Tag != "6433ef9" || m.From.URI.User != "816666" {
				t.Errorf("From %+v", m.From)
			}
			if m.ContentType != "application/sdp" || m.ContentLength != 86 || m.SDP == nil || m.SDP.Summary() != "audio 192.168.1.2:30000 PCMU/8000 PCMA/8000 sendrecv" {
				t.Errorf("CT %q CL %d SDP %v", m.ContentType, m.ContentLength, m.SDP)
			}
			if m.Via[0].RPort != 0 || m.Via[0].Host != "192.168.1.2" {
				t.Errorf("Via %+v", m.Via[0])
			}
		}, nil},
		{"folded lines", crlf("INVITE sip:b@h SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1\n ;branch=z9hG4bKf\nFrom: <sip:a@h>\n\t;tag=1\nTo: <sip:b@h>\nCall-ID: x\nSubject: one\n  two\n\tthree\nCSeq: 1\n INVITE\nContent-Length: 0\n\n"), func(t *testing.T, m *Message) {
			if m.Via[0].Branch != "z9hG4bKf" || m.From.Tag != "1" || m.CSeq != 1 || m.CSeqMethod != INVITE {
				t.Errorf("Via %+v From %+v CSeq %d", m.Via, m.From, m.CSeq)
			}
			if got := m.Get("Subject"); got != "one two three" {
				t.Errorf("Subject %q", got)
			}
			if len(m.Headers) != 7 || m.Headers[4].Offset != strings.Index(string(m.Raw), "Subject") {
				t.Errorf("Headers %+v", m.Headers)
			}
		}, nil},
		{"mixed CRLF and LF", "BYE sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h:5070;branch=z9hG4bKb\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\nCall-ID: mixed\r\nCSeq: 2 BYE\n\r\n", func(t *testing.T, m *Message) {
			if m.Method != BYE || m.CallID != "mixed" || m.To.Tag != "2" || m.Via[0].Transport != "TCP" || m.Via[0].Port != 5070 || m.ContentLength != -1 || len(m.Body) != 0 {
				t.Errorf("%v %q %+v %+v", m.Method, m.CallID, m.To, m.Via)
			}
		}, nil},
		{"header without colon kept", crlf(strings.Replace(minimal, "Content-Length: 0\n", "this is not a header\nContent-Length: 0\n", 1)), func(t *testing.T, m *Message) {
			h := m.Headers[5]
			if h.Name != "" || h.Value != "this is not a header" || m.Headers[6].Name != "Content-Length" || m.ContentLength != 0 {
				t.Errorf("headers %+v", m.Headers)
			}
		}, []problemWant{{ErrBadHeader, 7}}},
		{"missing mandatory headers", "INVITE sip:b@h SIP/2.0\r\nMax-Forwards: 70\r\n\r\n", func(t *testing.T, m *Message) {
			if m.Method != INVITE || len(m.Headers) != 1 {
				t.Errorf("%v %d", m.Method, len(m.Headers))
			}
		}, []problemWant{{ErrMissingHeader, 3}, {ErrMissingHeader, 3}, {ErrMissingHeader, 3}, {ErrMissingHeader, 3}, {ErrMissingHeader, 3}}},
		{"response needs no Via", "SIP/2.0 200 OK\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n", func(t *testing.T, m *Message) {
			if m.StatusCode != 200 || m.Reason != "OK" {
				t.Errorf("%d %q", m.StatusCode, m.Reason)
			}
		}, nil},
		{"malformed CSeq", crlf(strings.Replace(minimal, "CSeq: 7 OPTIONS", "CSeq: OPTIONS", 1)), func(t *testing.T, m *Message) {
			if m.CallID != "abc@10.0.0.1" || m.CSeq != 0 || m.From.Tag != "a1" {
				t.Errorf("%q %d", m.CallID, m.CSeq)
			}
		}, []problemWant{{ErrBadCSeq, 6}}},
		{"CSeq method differs", crlf(strings.Replace(minimal, "CSeq: 7 OPTIONS", "CSeq: 7 INVITE", 1)), func(t *testing.T, m *Message) {
			if m.CSeq != 7 || m.CSeqMethod != INVITE {
				t.Errorf("CSeq %d %v", m.CSeq, m.CSeqMethod)
			}
		}, []problemWant{{ErrBadCSeq, 6}}},
		{"malformed Via", crlf(strings.Replace(minimal, "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1", "SIP/UDP 10.0.0.1", 1)), func(t *testing.T, m *Message) {
			if m.CallID != "abc@10.0.0.1" || len(m.Via) != 1 || m.Via[0].Raw != "SIP/UDP 10.0.0.1" {
				t.Errorf("%q %+v", m.CallID, m.Via)
			}
		}, []problemWant{{ErrBadVia, 2}}},
		{"malformed From keeps message", crlf(strings.Replace(minimal, "Alice <sip:alice@example.com>", "Alice <sip:alice@example.com", 1)), func(t *testing.T, m *Message) {
			if m.From.Display != "Alice" || m.From.URI.User != "alice" || m.CSeq != 7 {
				t.Errorf("From %+v", m.From)
			}
		}, []problemWant{{ErrBadAddress, 3}}},
		{"several Via headers and values", crlf(strings.Replace(minimal, "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\n", "Via: SIP/2.0/TLS [2001:db8::1]:5061;branch=z9hG4bKa, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKb;received=1.2.3.4\nv: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKc;rport=5555\n", 1)), func(t *testing.T, m *Message) {
			want := []string{"TLS 2001:db8::1 5061 z9hG4bKa", "UDP 10.0.0.2 0 z9hG4bKb", "WSS df7jal23ls0d.invalid 0 z9hG4bKc"}
			var got []string
			for _, v := range m.Via {
				got = append(got, v.Transport+" "+v.Host+" "+itoa(v.Port)+" "+v.Branch)
			}
			if !reflect.DeepEqual(got, want) || m.Via[1].Received != "1.2.3.4" || m.Via[2].RPort != 5555 {
				t.Errorf("Via %v", got)
			}
			if vs := m.Values("Via"); len(vs) != 3 || vs[2] != "SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKc;rport=5555" {
				t.Errorf("Values(Via) %q", vs)
			}
		}, nil},
		{"UTF-8 and ISO-8859-1 display names", crlf(strings.Replace(strings.Replace(minimal, "Alice <", "\"Jos\xc3\xa9 M\xfcller\" <", 1), "To: <", "To: Fran\xe7ois \xff <", 1)), func(t *testing.T, m *Message) {
			if m.From.Display != "Jos\xc3\xa9 M\xfcller" || m.To.Display != "Fran\xe7ois \xff" || m.From.Tag != "a1" {
				t.Errorf("From %q To %q", m.From.Display, m.To.Display)
			}
		}, nil},
		{"no Content-Length: body is the rest", crlf(strings.Replace(minimal, "Content-Length: 0\n", "Content-Type: text/plain\n", 1)) + "hello\r\n", func(t *testing.T, m *Message) {
			if string(m.Body) != "hello\r\n" || m.ContentLength != -1 || len(m.Parts) != 1 || m.Parts[0].ContentType != "text/plain" {
				t.Errorf("Body %q parts %+v", m.Body, m.Parts)
			}
		}, nil},
		{"Content-Length larger than datagram", crlf(strings.Replace(minimal, "Content-Length: 0", "Content-Length: 100", 1)) + "short", func(t *testing.T, m *Message) {
			if string(m.Body) != "short" || m.ContentLength != 100 {
				t.Errorf("Body %q", m.Body)
			}
		}, []problemWant{{ErrTruncated, 9}}},
		{"Content-Length smaller: trailing bytes not part of message", crlf(strings.Replace(minimal, "Content-Length: 0", "Content-Length: 3", 1)) + "abcGARBAGE", func(t *testing.T, m *Message) {
			if string(m.Body) != "abc" || !strings.HasSuffix(string(m.Raw), "\r\n\r\nabc") {
				t.Errorf("Body %q Raw end %q", m.Body, m.Raw[len(m.Raw)-8:])
			}
		}, []problemWant{{ErrBadContentLength, 9}}},
		{"trailing CRLF padding is no problem", crlf(minimal) + "\r\n\r\n", func(t *testing.T, m *Message) {
			if len(m.Body) != 0 || len(m.Raw) != len(crlf(minimal)) {
				t.Errorf("Body %q", m.Body)
			}
		}, nil},
		{"bad Content-Length value", crlf(strings.Replace(minimal, "Content-Length: 0", "Content-Length: abc", 1)) + "xyz", func(t *testing.T, m *Message) {
			if string(m.Body) != "xyz" || m.ContentLength != -1 {
				t.Errorf("Body %q CL %d", m.Body, m.ContentLength)
			}
		}, []problemWant{{ErrBadContentLength, 7}}},
		{"no empty line after headers", "SIP/2.0 180 Ringing\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>;tag=2\nCall-ID: c\nCSeq: 1 INVITE", func(t *testing.T, m *Message) {
			if m.StatusCode != 180 || m.CSeqMethod != INVITE || len(m.Headers) != 5 || len(m.Body) != 0 {
				t.Errorf("%d %v %d", m.StatusCode, m.CSeqMethod, len(m.Headers))
			}
		}, []problemWant{{ErrTruncated, 6}}},
		{"bad Request-URI", crlf(strings.Replace(minimal, "OPTIONS sip:bob@example.com", "OPTIONS bob@example.com", 1)), func(t *testing.T, m *Message) {
			if m.Method != OPTIONS || m.RequestURI.Raw != "bob@example.com" {
				t.Errorf("%v %+v", m.Method, m.RequestURI)
			}
		}, []problemWant{{ErrBadStartLine, 1}}},
		{"unknown method", crlf(strings.Replace(strings.Replace(minimal, "OPTIONS sip", "FOO sip", 1), "7 OPTIONS", "7 FOO", 1)), func(t *testing.T, m *Message) {
			if m.Method != MethodOther || m.MethodName != "FOO" || m.CSeqMethod != MethodOther || m.CSeqMethodName != "FOO" {
				t.Errorf("%v %q", m.Method, m.MethodName)
			}
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m Message
			if err := Parse([]byte(tc.in), &m); err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tc.check(t, &m)
			checkProblems(t, &m, tc.problems)
		})
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

const multipartInvite = `INVITE sip:+4930123@gw.example.net;user=phone SIP/2.0
Via: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bKmp
From: <sip:+4940999@10.1.1.1;user=phone>;tag=mp1
To: <sip:+4930123@gw.example.net;user=phone>
Call-ID: multipart-1@10.1.1.1
CSeq: 1 INVITE
MIME-Version: 1.0
Content-Type: multipart/mixed;boundary="unique-boundary-1"

--unique-boundary-1
Content-Type: application/sdp

v=0
c=IN IP4 10.1.1.1
m=audio 20000 RTP/AVP 8
--unique-boundary-1
Content-Type: application/ISUP; version=itu-t92+
Content-Disposition: signal; handling=optional

` + "\x01\x00\x49\x00\x00\x03\x02\x00\x07\x04\x10" + `
--unique-boundary-1--
`

func TestMultipart(t *testing.T) {
	var m Message
	if err := Parse([]byte(crlf(multipartInvite)), &m); err != nil {
		t.Fatal(err)
	}
	checkProblems(t, &m, nil)
	if m.ContentType != "multipart/mixed" || len(m.Parts) != 2 {
		t.Fatalf("CT %q parts %+v", m.ContentType, m.Parts)
	}
	if m.Parts[0].ContentType != "application/sdp" || string(m.Parts[0].Body) != "v=0\r\nc=IN IP4 10.1.1.1\r\nm=audio 20000 RTP/AVP 8" {
		t.Errorf("part 0 %q %q", m.Parts[0].ContentType, m.Parts[0].Body)
	}
	if m.Parts[1].ContentType != "application/isup" || string(m.Parts[1].Body) != "\x01\x00\x49\x00\x00\x03\x02\x00\x07\x04\x10" {
		t.Errorf("part 1 %q %q", m.Parts[1].ContentType, m.Parts[1].Body)
	}
	if m.SDP == nil || m.SDP.Summary() != "audio 10.1.1.1:20000 PCMA/8000 sendrecv" {
		t.Errorf("SDP %v", m.SDP)
	}
	if m.RequestURI.Params != "user=phone" || m.RequestURI.User != "+4930123" {
		t.Errorf("RequestURI %+v", m.RequestURI)
	}

	// Without boundary or close delimiter: one part and a problem.
	bad := strings.Replace(crlf(multipartInvite), `;boundary="unique-boundary-1"`, "", 1)
	if err := Parse([]byte(bad), &m); err != nil {
		t.Fatal(err)
	}
	checkProblems(t, &m, []problemWant{{ErrBadBody, 10}})
	if len(m.Parts) != 1 || m.Parts[0].ContentType != "multipart/mixed" || m.SDP != nil {
		t.Errorf("parts %+v", m.Parts)
	}
	unclosed := strings.Replace(crlf(multipartInvite), "--unique-boundary-1--", "", 1)
	if err := Parse([]byte(unclosed), &m); err != nil {
		t.Fatal(err)
	}
	checkProblems(t, &m, []problemWant{{ErrBadBody, 10}})
	if len(m.Parts) != 2 || m.SDP == nil {
		t.Errorf("parts %d", len(m.Parts))
	}
}

func TestParseNotSIP(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"RTP", []byte{0x80, 0x00, 0x12, 0x34, 0, 0, 0, 0}},
		{"HTTP", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")},
		{"lower-case method", []byte("invite sip:a@b SIP/2.0\r\n\r\n")},
		{"leading CRLF keepalive", []byte("\r\n\r\nINVITE sip:a@b SIP/2.0\r\n\r\n")},
		{"bad status code", []byte("SIP/2.0 2x0 OK\r\n\r\n")},
		{"SIP/3.0", []byte("SIP/3.0 200 OK\r\n\r\n")},
		{"no version", []byte("INVITE sip:a@b\r\n\r\n")},
		{"space in URI", []byte("INVITE sip:a @b SIP/2.0\r\n\r\n")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := Message{CallID: "old"}
			if err := Parse(tc.in, &m); !errors.Is(err, ErrNotSIP) {
				t.Errorf("Parse = %v, want ErrNotSIP", err)
			}
			if m.CallID != "" || m.Raw != nil {
				t.Errorf("message not reset: %q", m.CallID)
			}
			if IsStart(tc.in) {
				t.Errorf("IsStart = true")
			}
		})
	}
}

func TestIsStart(t *testing.T) {
	for _, s := range []string{
		"INVITE sip:a@b SIP/2.0\r\n", "INVITE sip:a@b SIP/2.0", "SIP/2.0 200 OK\r\n", "SIP/2.0 200\r\n",
		"SIP/2.0 100", "X-CUSTOM sip:a@b SIP/2.0\n", "ACK sip:a@b SIP/2.0  \r\n", "SIP/2.0 183 Session Progress\n",
	} {
		if !IsStart([]byte(s)) {
			t.Errorf("IsStart(%q) = false", s)
		}
	}
	allocs := testing.AllocsPerRun(100, func() { IsStart([]byte("SIP/2.0 200 OK\r\n")) })
	if allocs != 0 {
		t.Errorf("IsStart allocates %v", allocs)
	}
}

func TestMessageLen(t *testing.T) {
	inv := crlf(minimal)
	withBody := crlf(strings.Replace(minimal, "Content-Length: 0", "l: 5", 1)) + "hello"
	tests := []struct {
		name     string
		in       string
		n        int
		complete bool
		err      error
	}{
		{"exact", inv, len(inv), true, nil},
		{"two messages", inv + inv, len(inv), true, nil},
		{"compact l with body", withBody + "INVITE", len(withBody), true, nil},
		{"body not yet there", withBody[:len(withBody)-2], 0, false, nil},
		{"headers not yet complete", inv[:40], 0, false, nil},
		{"start line partial", "INVITE sip:bo", 0, false, nil},
		{"status partial", "SIP/2.", 0, false, nil},
		{"empty", "", 0, false, nil},
		{"LFLF", minimal, len(minimal), true, nil},
		{"no Content-Length means no body", "SIP/2.0 200 OK\r\nCall-ID: x\r\n\r\nNEXT", 30, true, nil},
		{"not SIP", "\x16\x03\x01\x00", 0, false, ErrNotSIP},
		{"keepalive", "\r\n\r\nINVITE", 0, false, ErrNotSIP},
		{"bad Content-Length", strings.Replace(inv, "Content-Length: 0", "Content-Length: -1", 1), 0, false, ErrBadContentLength},
		{"conflicting Content-Length", strings.Replace(inv, "Content-Length: 0", "Content-Length: 0\r\nl: 4", 1), 0, false, ErrBadContentLength},
		{"huge Content-Length", strings.Replace(inv, "Content-Length: 0", "Content-Length: 999999999", 1), 0, false, ErrBadContentLength},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, complete, err := MessageLen([]byte(tc.in))
			if n != tc.n || complete != tc.complete || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Errorf("MessageLen = %d, %v, %v; want %d, %v, %v", n, complete, err, tc.n, tc.complete, tc.err)
			}
		})
	}
}

// TestStreamCorpus frames the aflnet kamailio SIP stream (four messages
// back to back) with MessageLen and parses each.
func TestStreamCorpus(t *testing.T) {
	b, err := os.ReadFile("../../../shared/corpus/aflnet-kamailio-sip/sip-1.raw")
	if err != nil {
		t.Skipf("corpus absent: %v", err)
	}
	var got []string
	for len(b) > 0 {
		n, complete, err := MessageLen(b)
		if err != nil || !complete {
			t.Fatalf("MessageLen at %q: %d %v %v", b[:min(20, len(b))], n, complete, err)
		}
		var m Message
		if err := Parse(b[:n], &m); err != nil {
			t.Fatal(err)
		}
		checkProblems(t, &m, nil)
		s := m.MethodName + " " + m.CallID + " " + itoa(int(m.CSeq)) + " " + m.CSeqMethod.String()
		if m.SDP != nil {
			s += " " + m.SDP.Summary()
		}
		got = append(got, s)
		b = b[n:]
	}
	want := []string{
		"REGISTER 1-670@127.0.0.1 1 REGISTER",
		"INVITE 1-670@127.0.0.1 2 INVITE audio 127.0.0.1:6000 PCMA/8000 sendrecv",
		"ACK 1-670@127.0.0.1 2 ACK",
		"BYE 1-670@127.0.0.1 3 BYE",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestGetValues(t *testing.T) {
	in := crlf(`INVITE sip:b@h SIP/2.0
Via: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2
Route: <sip:p1;lr>, <sip:p2;lr>
Record-Route: <sip:rr1;lr>
Contact: "Smith, J" <sip:j@h>, <sip:k@h;x="a,b">
Allow: INVITE, ACK,BYE
k: 100rel, timer
Supported: replaces
X-Custom: a, b
From: <sip:a@h>;tag=1
t: <sip:b@h>
i: cid
CSeq: 1 INVITE
o: dialog
u: presence, dialog
r: <sip:c@h>
b: <sip:d@h>
x: 1800;refresher=uac
y: abc
e: gzip
s: hi
Content-Length: 0

`)
	var m Message
	if err := Parse([]byte(in), &m); err != nil {
		t.Fatal(err)
	}
	checkProblems(t, &m, nil)
	get := map[string]string{
		"call-id": "cid", "CALL-ID": "cid", "i": "cid", "To": "<sip:b@h>", "Event": "dialog",
		"Allow-Events": "presence, dialog", "Refer-To": "<sip:c@h>", "Referred-By": "<sip:d@h>",
		"Session-Expires": "1800;refresher=uac", "Identity": "abc", "Content-Encoding": "gzip",
		"Subject": "hi", "x-custom": "a, b", "Missing": "", "": "", "l": "0",
	}
	for name, want := range get {
		if got := m.Get(name); got != want {
			t.Errorf("Get(%q) = %q, want %q", name, got, want)
		}
	}
	values := map[string][]string{
		"Via":          {"SIP/2.0/UDP a;branch=z9hG4bK1", "SIP/2.0/UDP b;branch=z9hG4bK2"},
		"route":        {"<sip:p1;lr>", "<sip:p2;lr>"},
		"Record-Route": {"<sip:rr1;lr>"},
		"m":            {`"Smith, J" <sip:j@h>`, `<sip:k@h;x="a,b">`},
		"Allow":        {"INVITE", "ACK", "BYE"},
		"Supported":    {"100rel", "timer", "replaces"},
		"X-Custom":     {"a, b"},
		"Allow-Events": {"presence", "dialog"},
		"Nope":         nil,
	}
	for name, want := range values {
		if got := m.Values(name); !reflect.DeepEqual(got, want) {
			t.Errorf("Values(%q) = %q, want %q", name, got, want)
		}
	}
	var star Message
	if err := Parse([]byte(crlf("REGISTER sip:h SIP/2.0\nContact: *\n\n")), &star); err != nil {
		t.Fatal(err)
	}
	if got := star.Values("Contact"); !reflect.DeepEqual(got, []string{"*"}) {
		t.Errorf("Values(Contact *) = %q", got)
	}
}

func TestMethods(t *testing.T) {
	for m := MethodOther; m <= PUBLISH; m++ {
		if m == MethodOther {
			continue
		}
		if got := ParseMethod([]byte(m.String())); got != m {
			t.Errorf("ParseMethod(%q) = %v", m.String(), got)
		}
	}
	for in, want := range map[string]Method{"invite": MethodOther, "Invite": MethodOther, "": MethodOther, "INVITEX": MethodOther, "PRACK": PRACK} {
		if got := ParseMethod([]byte(in)); got != want {
			t.Errorf("ParseMethod(%q) = %v, want %v", in, got, want)
		}
	}
	if MethodOther.String() != "OTHER" || Method(200).String() != "OTHER" || INVITE.String() != "INVITE" {
		t.Errorf("String")
	}
}

func TestReuseAndClone(t *testing.T) {
	var m Message
	if err := Parse([]byte(crlf(multipartInvite)), &m); err != nil {
		t.Fatal(err)
	}
	c := m.Clone()
	buf := []byte(crlf(trying))
	if err := Parse(buf, &m); err != nil {
		t.Fatal(err)
	}
	if m.SDP != nil || len(m.Parts) != 0 || m.ContentType != "" || m.Request || len(m.Headers) != 6 || len(m.Via) != 1 {
		t.Errorf("fields not reset: %+v", m)
	}
	if c.CallID != "multipart-1@10.1.1.1" || len(c.Parts) != 2 || c.Headers[0].Name != "Via" || c.Via[0].Branch != "z9hG4bKmp" ||
		string(c.Parts[0].Body) != "v=0\r\nc=IN IP4 10.1.1.1\r\nm=audio 20000 RTP/AVP 8" || c.SDP == nil {
		t.Errorf("clone changed by reuse: %+v", c)
	}
	if off := strings.Index(crlf(multipartInvite), "\r\n\r\n") + 4; &c.Body[0] != &c.Raw[off] {
		t.Errorf("clone body does not point into its own Raw")
	}
}

// TestLight parses with Options.Light: the fields a media analysis reads
// are those of the full parse; To, Via, the Request-URI, the URIs of From
// and To, and the headers it does not keep stay empty, and a folded line of a skipped header is not
// taken for part of the header before it.
func TestLight(t *testing.T) {
	folded := "INVITE sip:bob@example.com SIP/2.0\r\n" +
		"Call-ID: abc@host\r\n" +
		"Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n" +
		" ;received=10.0.0.9\r\n" +
		"From: <sip:alice@example.com>;tag=f1\r\n" +
		"To: <sip:bob@example.com>\r\n" +
		"CSeq: 7 INVITE\r\n" +
		"Content-Length: 0\r\n\r\n"
	for name, in := range map[string]string{
		"asterisk": crlf(asteriskInvite), "compact": crlf(compactInvite), "multipart": crlf(multipartInvite),
		"forbidden": crlf(forbiddenCompact), "folded": folded,
	} {
		t.Run(name, func(t *testing.T) {
			var full, light Message
			if err := Parse([]byte(in), &full); err != nil {
				t.Fatal(err)
			}
			if err := ParseWith([]byte(in), &light, Options{Light: true}); err != nil {
				t.Fatal(err)
			}
			if d := lightDiff(&light, &full); d != "" {
				t.Errorf("%s differs from the full parse", d)
			}
			invite := full.Request && full.Method == INVITE
			if (light.To.Raw != "") != invite || len(light.Via) != 0 || light.RequestURI.Host != "" || light.From.URI.Host != "" {
				t.Errorf("To %q (INVITE: %v), %d Via, Request-URI %q, From URI %q: want only an INVITE's To, no URI", light.To.Raw, invite, len(light.Via), light.RequestURI.Host, light.From.URI.Host)
			}
			for _, h := range light.Headers {
				if !lightHeader[headerID(h.Name)] {
					t.Errorf("kept header %s", h.Name)
				}
			}
		})
	}
	var light Message
	if err := ParseWith([]byte(folded), &light, Options{Light: true}); err != nil {
		t.Fatal(err)
	}
	if light.CallID != "abc@host" {
		t.Errorf("Call-ID %q: the Via's folded line was appended to it", light.CallID)
	}
}

// TestHeaderID looks up every known header by its full name in three
// cases, and names that differ from one in a letter, in length or by a
// character that folds to the same bits ('\r' | 0x20 is '-').
func TestHeaderID(t *testing.T) {
	for id, n := range fullNames {
		if n == "" {
			continue
		}
		for _, v := range []string{n, strings.ToLower(n), strings.ToUpper(n)} {
			if got := headerID(v); got != hid(id) {
				t.Errorf("headerID(%q) = %d, want %d", v, got, id)
			}
		}
		for _, v := range []string{n + "x", n[:len(n)-1], "X" + n[1:], strings.ReplaceAll(n, "-", "\r")} {
			if v == n || len(v) == 1 { // one letter is a compact form
				continue
			}
			if got := headerID(v); got != hOther {
				t.Errorf("headerID(%q) = %q, want none", v, fullNames[got])
			}
		}
	}
	for _, v := range []string{"", "z", "Max-Forwards", "User-Agent", "Min-SE", "P-Charging-Vector"} {
		if got := headerID(v); got != hOther {
			t.Errorf("headerID(%q) = %q, want none", v, fullNames[got])
		}
	}
	if got := headerID("i"); got != hCallID {
		t.Errorf("headerID(i) = %d", got)
	}
}
