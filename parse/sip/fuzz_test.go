package sip

import (
	"bytes"
	"errors"
	"testing"
)

// lightDiff names the first field that Options.Light must read as the full
// parse does and l does not, or returns "".
func lightDiff(l, m *Message) string {
	switch {
	case l.Request != m.Request || l.Method != m.Method || l.MethodName != m.MethodName || l.StatusCode != m.StatusCode:
		return "start line"
	case l.CallID != m.CallID:
		return "Call-ID"
	case l.From.Tag != m.From.Tag || l.From.Params != m.From.Params || l.From.Display != m.From.Display || l.From.URI != (URI{}):
		return "From"
	case m.Request && m.Method == INVITE && (l.To.Tag != m.To.Tag || l.To.Params != m.To.Params || l.To.URI != (URI{})):
		return "To"
	case l.CSeq != m.CSeq || l.CSeqMethod != m.CSeqMethod || l.CSeqMethodName != m.CSeqMethodName:
		return "CSeq"
	case l.ContentType != m.ContentType || l.ContentLength != m.ContentLength || !bytes.Equal(l.Body, m.Body) || len(l.Parts) != len(m.Parts):
		return "body"
	case (l.SDP == nil) != (m.SDP == nil) || l.SDP != nil && l.SDP.Summary() != m.SDP.Summary():
		return "SDP"
	}
	return ""
}

// FuzzParse checks, beyond not panicking: Parse fails only with ErrNotSIP
// and exactly when IsStart is false; Raw is a prefix of the input and Body
// a suffix of Raw; every Problem lies within Raw; re-parsing Raw gives the
// same identity fields and header count; MessageLen never claims more than
// it was given, and a complete frame parses to exactly that length, the
// body MessageFrame found and the CSeq method it named, if any; and
// Options.Light reads the fields it keeps as the full parse does.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		crlf(asteriskInvite), trying, crlf(forbiddenCompact), crlf(compactInvite), crlf(multipartInvite),
		crlf(minimal) + crlf(minimal), "SIP/2.0 200 OK\r\nl: 3\r\n\r\nabcdef",
		"\x80\x00\x12\x34\x00\x00\x00\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Message
		err := Parse(b, &m)
		if err != nil {
			if !errors.Is(err, ErrNotSIP) || IsStart(b) {
				t.Fatalf("Parse error %v with IsStart %v", err, IsStart(b))
			}
		} else {
			if !IsStart(b) {
				t.Fatal("Parse accepted what IsStart rejects")
			}
			// Owned (strings alias the input) reads the same as a copy.
			var o Message
			if err := ParseWith(bytes.Clone(b), &o, Options{Owned: true}); err != nil ||
				o.CallID != m.CallID || o.CSeq != m.CSeq || o.StatusCode != m.StatusCode ||
				len(o.Headers) != len(m.Headers) || len(o.Problems) != len(m.Problems) || o.From.Tag != m.From.Tag {
				t.Fatalf("owned parse differs: %v", err)
			}
			if !bytes.HasPrefix(b, m.Raw) || !bytes.HasSuffix(m.Raw, m.Body) {
				t.Fatal("Raw not a prefix of input or Body not a suffix of Raw")
			}
			lines := bytes.Count(m.Raw, []byte{'\n'}) + 1
			for _, p := range m.Problems {
				if p.Offset < 0 || p.Offset > len(m.Raw) || p.Line < 1 || p.Line > lines || p.Err == nil {
					t.Fatalf("problem %v outside Raw (%d bytes, %d lines)", p, len(m.Raw), lines)
				}
			}
			for _, h := range m.Headers {
				if h.Offset < 0 || h.Offset >= len(m.Raw) {
					t.Fatalf("header offset %d outside Raw", h.Offset)
				}
			}
			var r Message
			if err := Parse(m.Raw, &r); err != nil {
				t.Fatalf("re-parse of Raw: %v", err)
			}
			if r.CallID != m.CallID || r.CSeq != m.CSeq || r.CSeqMethodName != m.CSeqMethodName || r.Method != m.Method ||
				r.MethodName != m.MethodName || r.StatusCode != m.StatusCode || len(r.Headers) != len(m.Headers) ||
				len(r.Via) != len(m.Via) || r.ContentLength != m.ContentLength || !bytes.Equal(r.Body, m.Body) ||
				len(r.Parts) != len(m.Parts) || (r.SDP == nil) != (m.SDP == nil) {
				t.Fatalf("re-parse differs:\n%+v\n%+v", r, m)
			}
			if m.SDP != nil && r.SDP.Summary() != m.SDP.Summary() {
				t.Fatalf("SDP summary differs")
			}
			// Light reads what it reads as the full parse does.
			var l Message
			if err := ParseWith(m.Raw, &l, Options{Light: true}); err != nil {
				t.Fatalf("light parse: %v", err)
			}
			if d := lightDiff(&l, &m); d != "" {
				t.Fatalf("light parse differs: %s", d)
			}
		}
		fr, complete, err := MessageFrame(b)
		body, n := fr.Body, fr.Len
		if n < 0 || n > len(b) || (complete && err != nil) || (!complete && n != 0) || body < 0 || body > n {
			t.Fatalf("MessageFrame = %+v, %v, %v for %d bytes", fr, complete, err, len(b))
		}
		if ln, lc, lerr := MessageLen(b); ln != n || lc != complete || (lerr == nil) != (err == nil) {
			t.Fatalf("MessageLen = %d, %v, %v; MessageFrame %d, %v, %v", ln, lc, lerr, n, complete, err)
		}
		if err != nil && !errors.Is(err, ErrNotSIP) && !errors.Is(err, ErrBadContentLength) {
			t.Fatalf("MessageLen error %v", err)
		}
		if complete {
			var f Message
			if err := Parse(b[:n], &f); err != nil {
				t.Fatalf("frame of %d bytes does not parse: %v", n, err)
			}
			if len(f.Raw) != n {
				t.Fatalf("frame of %d bytes parses to Raw of %d", n, len(f.Raw))
			}
			// the reader leaves a message out of Peek by its body and CSeq
			if !bytes.Equal(f.Body, b[body:n]) {
				t.Fatalf("frame body %q, parsed body %q", b[body:n], f.Body)
			}
			if fr.CSeqMethod != MethodOther && fr.CSeqMethod != f.CSeqMethod {
				t.Fatalf("frame CSeq method %v, parsed %v", fr.CSeqMethod, f.CSeqMethod)
			}
		}
	})
}

func BenchmarkParseInvite(b *testing.B) {
	in := []byte(crlf(asteriskInvite))
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	var m Message
	for b.Loop() {
		if err := Parse(in, &m); err != nil {
			b.Fatal(err)
		}
	}
	if m.SDP == nil || len(m.Problems) != 0 {
		b.Fatal("unexpected result")
	}
}

func BenchmarkIsStartRTP(b *testing.B) {
	in := []byte{0x80, 0x08, 0x12, 0x34, 0, 0, 0, 0, 0, 0, 0, 1}
	b.ReportAllocs()
	for b.Loop() {
		if IsStart(in) {
			b.Fatal("RTP taken for SIP")
		}
	}
}

func BenchmarkMessageLen(b *testing.B) {
	in := []byte(crlf(asteriskInvite))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, _ := MessageLen(in); !ok {
			b.Fatal("incomplete")
		}
	}
}

// BenchmarkParseInviteFresh parses into a new Message each time, as the
// capture pipeline does (each message outlives the next).
func BenchmarkParseInviteFresh(b *testing.B) {
	in := []byte(crlf(asteriskInvite))
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		var m Message
		if err := ParseWith(in, &m, Options{NoSDP: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseInviteLight is Options.Light, as the capture reader parses
// each message for a media analysis before the full parse.
func BenchmarkParseInviteLight(b *testing.B) {
	in := []byte(crlf(asteriskInvite))
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	var m Message
	for b.Loop() {
		if err := ParseWith(in, &m, Options{Light: true, Owned: true}); err != nil {
			b.Fatal(err)
		}
	}
	if m.SDP == nil || m.CallID == "" || m.From.Tag == "" || m.CSeq == 0 {
		b.Fatal("unexpected result")
	}
}
