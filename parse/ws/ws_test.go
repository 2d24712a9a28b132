package ws

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

const sipMsg = "OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n"

func TestParseFrame(t *testing.T) {
	// RFC 6455 section 5.7 examples.
	tests := []struct {
		name    string
		b       []byte
		n       int
		op      Opcode
		fin     bool
		payload string
		want    error
	}{
		{"unmasked text", []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}, 7, OpText, true, "Hello", nil},
		{"masked text", []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}, 11, OpText, true, "Hello", nil},
		{"first fragment", []byte{0x01, 0x03, 0x48, 0x65, 0x6c}, 5, OpText, false, "Hel", nil},
		{"last fragment", []byte{0x80, 0x02, 0x6c, 0x6f}, 4, OpContinuation, true, "lo", nil},
		{"ping", []byte{0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}, 7, OpPing, true, "Hello", nil},
		{"256 bytes", append([]byte{0x82, 0x7E, 0x01, 0x00}, make([]byte, 256)...), 260, OpBinary, true, string(make([]byte, 256)), nil},
		{"64-bit length", append([]byte{0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}, make([]byte, 65536)...), 65546, OpBinary, true, string(make([]byte, 65536)), nil},
		{"need header", []byte{0x81}, 0, 0, false, "", nil},
		{"need 16-bit length", []byte{0x81, 0x7e, 0x01}, 0, 0, false, "", nil},
		{"need payload", []byte{0x81, 0x05, 0x48}, 0, 0, false, "", nil},
		{"need mask", []byte{0x81, 0x85, 0x37}, 0, 0, false, "", nil},
		{"reserved opcode", []byte{0x83, 0x00}, 0, 0, false, "", ErrMalformed},
		{"fragmented ping", []byte{0x09, 0x00}, 0, 0, false, "", ErrMalformed},
		{"long close", []byte{0x88, 0x7e, 0, 126}, 0, 0, false, "", ErrMalformed},
		{"huge length", []byte{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0}, 0, 0, false, "", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, n, err := ParseFrame(tt.b)
			if !errors.Is(err, tt.want) || n != tt.n {
				t.Fatalf("n %d err %v, want %d %v", n, err, tt.n, tt.want)
			}
			if n == 0 {
				return
			}
			if f.Opcode != tt.op || f.Fin != tt.fin || string(f.AppendPayload(nil)) != tt.payload {
				t.Errorf("got %+v", f)
			}
		})
	}
}

func TestMessage(t *testing.T) {
	var stream []byte
	key := [4]byte{1, 2, 3, 4}
	stream = AppendFrame(stream, &Frame{Opcode: OpText, Masked: true, Key: key}, []byte(sipMsg[:10]))
	stream = AppendFrame(stream, &Frame{Fin: true, Opcode: OpPing}, []byte("p"))
	stream = AppendFrame(stream, &Frame{Opcode: OpContinuation, Masked: true, Key: key}, []byte(sipMsg[10:20]))
	stream = AppendFrame(stream, &Frame{Fin: true, Opcode: OpContinuation, Masked: true, Key: key}, []byte(sipMsg[20:]))
	stream = AppendFrame(stream, &Frame{Fin: true, Opcode: OpBinary}, []byte(sipMsg))
	var m Message
	var got []string
	for len(stream) > 0 {
		f, n, err := ParseFrame(stream)
		if err != nil || n == 0 {
			t.Fatalf("ParseFrame: %d %v", n, err)
		}
		stream = stream[n:]
		op, p, done, err := m.Add(&f)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			got = append(got, op.String()+":"+string(p))
		}
	}
	want := []string{"ping:p", "text:" + sipMsg, "binary:" + sipMsg}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q\nwant %q", got, want)
	}
	// Errors: continuation with no start, new message inside another.
	if _, _, _, err := m.Add(&Frame{Opcode: OpContinuation, Fin: true}); !errors.Is(err, ErrMalformed) {
		t.Errorf("orphan continuation: %v", err)
	}
	m.Add(&Frame{Opcode: OpText, Payload: []byte("a")})
	op, p, done, err := m.Add(&Frame{Opcode: OpText, Fin: true, Payload: []byte("b")})
	if !errors.Is(err, ErrMalformed) || !done || op != OpText || string(p) != "b" {
		t.Errorf("interrupted message: %v %q %v %v", op, p, done, err)
	}
}

func TestHandshake(t *testing.T) {
	req := "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUPGRADE: WebSocket\r\nSec-WebSocket-Protocol: sip\r\n\r\n"
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
	if !IsUpgradeRequest([]byte(req)) || !IsUpgradeRequest([]byte(req[:70])) || IsUpgradeRequest([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\nUpgrade: websocket\r\n")) {
		t.Error("IsUpgradeRequest")
	}
	if !IsUpgradeResponse([]byte(resp)) || IsUpgradeResponse([]byte("HTTP/1.1 200 OK\r\n")) {
		t.Error("IsUpgradeResponse")
	}
	tests := []struct {
		b        string
		n        int
		complete bool
		want     error
	}{
		{req + "\x81", len(req), true, nil},
		{resp, len(resp), true, nil},
		{req[:30], 0, false, nil},
		{"GE", 0, false, nil},
		{"INVITE sip:x SIP/2.0\r\n", 0, false, ErrNotHTTP},
		{"GET /" + strings.Repeat("a", MaxHandshake), 0, false, ErrNotHTTP},
	}
	for _, tt := range tests {
		n, c, err := HandshakeLen([]byte(tt.b))
		if n != tt.n || c != tt.complete || !errors.Is(err, tt.want) {
			t.Errorf("HandshakeLen(%.20q) = %d %v %v, want %d %v %v", tt.b, n, c, err, tt.n, tt.complete, tt.want)
		}
	}
}

// FuzzWS checks ParseFrame: no panic; a parsed frame re-encodes to a frame
// that parses to the same header and payload; every proper prefix of a
// parsed frame asks for more bytes rather than failing.
func FuzzWS(f *testing.F) {
	f.Add([]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58})
	f.Add(AppendFrame(nil, &Frame{Fin: true, Opcode: OpText, Masked: true, Key: [4]byte{9, 8, 7, 6}}, []byte(sipMsg)))
	f.Add(AppendFrame(nil, &Frame{Opcode: OpBinary}, make([]byte, 300)))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, n, err := ParseFrame(b)
		if err != nil || n == 0 {
			return
		}
		if n > len(b) {
			t.Fatalf("n %d > len %d", n, len(b))
		}
		for k := 0; k < n; k++ {
			if _, n2, err := ParseFrame(b[:k]); n2 != 0 || err != nil {
				t.Fatalf("prefix %d of %d: n %d err %v", k, n, n2, err)
			}
		}
		plain := fr.AppendPayload(nil)
		enc := AppendFrame(nil, &fr, plain)
		g, n2, err := ParseFrame(enc)
		if err != nil || n2 != len(enc) {
			t.Fatalf("re-parse: %d %v", n2, err)
		}
		if g.Fin != fr.Fin || g.RSV != fr.RSV || g.Opcode != fr.Opcode || g.Masked != fr.Masked || g.Key != fr.Key ||
			!bytes.Equal(g.AppendPayload(nil), plain) {
			t.Fatalf("round trip: %+v vs %+v", g, fr)
		}
		var m Message
		m.Add(&fr)
	})
}
