// Package ws decodes WebSocket (RFC 6455) as used to carry SIP (RFC 7118):
// it recognises the HTTP Upgrade handshake, frames a byte stream into
// WebSocket frames, unmasks client frames and reassembles fragmented
// messages.
//
// Ownership: ParseFrame returns a Frame whose Payload points into the
// input, still masked; Frame.AppendPayload unmasks into a buffer the caller
// owns. Message reassembles into its own buffer, reused between messages.
package ws

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Sentinel errors.
var (
	ErrMalformed = errors.New("ws: malformed frame")
	ErrTooLarge  = errors.New("ws: message too large")
	ErrNotHTTP   = errors.New("ws: not an HTTP handshake")
)

// Limits.
const (
	MaxFrame     = 16 << 20 // a larger frame length is taken as garbage
	MaxMessage   = 16 << 20 // a larger reassembled message is an error
	MaxHandshake = 16 << 10 // an HTTP header block longer than this is not a handshake
)

// Opcode is the frame type.
type Opcode uint8

const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xa
)

func (o Opcode) String() string {
	switch o {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return fmt.Sprintf("opcode(%#x)", uint8(o))
}

// IsControl reports whether o is a control opcode (close, ping, pong).
func (o Opcode) IsControl() bool { return o&0x8 != 0 }

// Frame is one WebSocket frame.
type Frame struct {
	Fin     bool
	RSV     uint8 // the three reserved bits (RSV1 = 4): non-zero only with an extension such as permessage-deflate
	Opcode  Opcode
	Masked  bool
	Key     [4]byte // masking key, when Masked
	Payload []byte  // as on the wire (still masked), a slice of the input
}

// ParseFrame decodes the frame at the start of b. n is the frame's total
// length; n == 0 with a nil error means b holds only part of the frame and
// more bytes are needed. err wraps ErrMalformed for a reserved opcode, a
// fragmented or oversized control frame, or an impossible length.
func ParseFrame(b []byte) (f Frame, n int, err error) {
	if len(b) < 2 {
		return f, 0, nil
	}
	f.Fin = b[0]&0x80 != 0
	f.RSV = b[0] >> 4 & 7
	f.Opcode = Opcode(b[0] & 0xf)
	f.Masked = b[1]&0x80 != 0
	switch f.Opcode {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
	default:
		return Frame{}, 0, fmt.Errorf("%w: reserved opcode %#x at byte 0", ErrMalformed, uint8(f.Opcode))
	}
	plen := uint64(b[1] & 0x7f)
	hl := 2
	switch plen {
	case 126:
		if len(b) < 4 {
			return Frame{}, 0, nil
		}
		plen, hl = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return Frame{}, 0, nil
		}
		plen, hl = binary.BigEndian.Uint64(b[2:]), 10
	}
	if f.Opcode.IsControl() && (!f.Fin || plen > 125) {
		return Frame{}, 0, fmt.Errorf("%w: %v control frame, fin %v, length %d", ErrMalformed, f.Opcode, f.Fin, plen)
	}
	if plen > MaxFrame {
		return Frame{}, 0, fmt.Errorf("%w: frame length %d over %d", ErrMalformed, plen, MaxFrame)
	}
	if f.Masked {
		hl += 4
	}
	total := hl + int(plen)
	if len(b) < total {
		return Frame{}, 0, nil
	}
	if f.Masked {
		copy(f.Key[:], b[hl-4:hl])
	}
	f.Payload = b[hl:total:total]
	return f, total, nil
}

// AppendPayload appends the frame's payload to dst, unmasked, and returns
// the extended buffer.
func (f *Frame) AppendPayload(dst []byte) []byte {
	start := len(dst)
	dst = append(dst, f.Payload...)
	if f.Masked {
		unmask(dst[start:], f.Key, 0)
	}
	return dst
}

// unmask XORs p with the key, starting at key position pos.
func unmask(p []byte, key [4]byte, pos int) {
	for i := range p {
		p[i] ^= key[(pos+i)&3]
	}
}

// AppendFrame appends f encoded to dst, with the shortest length form; when
// f.Masked, payload is taken as plain text and masked with f.Key. It builds
// test streams and is the inverse of ParseFrame + AppendPayload.
func AppendFrame(dst []byte, f *Frame, payload []byte) []byte {
	b0 := byte(f.Opcode&0xf) | f.RSV&7<<4
	if f.Fin {
		b0 |= 0x80
	}
	var m byte
	if f.Masked {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		dst = append(dst, b0, m|byte(n))
	case n <= 0xffff:
		dst = append(dst, b0, m|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, b0, m|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	if f.Masked {
		dst = append(dst, f.Key[:]...)
	}
	start := len(dst)
	dst = append(dst, payload...)
	if f.Masked {
		unmask(dst[start:], f.Key, 0)
	}
	return dst
}

// Message reassembles data messages from frames. The zero value is ready.
type Message struct {
	buf    []byte
	op     Opcode
	inProg bool
}

// Add takes the next frame of a direction. When it completes a message it
// returns the message's opcode and unmasked payload (valid until the next
// call) with done = true. Control frames are returned at once, even in the
// middle of a fragmented message. err wraps ErrMalformed for a continuation
// without a start or a new message before the previous one ended (the
// partial message is dropped and the new frame is taken), ErrTooLarge when
// the message grows past MaxMessage (it is dropped).
func (m *Message) Add(f *Frame) (op Opcode, payload []byte, done bool, err error) {
	if f.Opcode.IsControl() {
		return f.Opcode, f.AppendPayload(m.scratch()), true, nil
	}
	if f.Opcode == OpContinuation {
		if !m.inProg {
			return 0, nil, false, fmt.Errorf("%w: continuation frame without a message start", ErrMalformed)
		}
	} else {
		if m.inProg {
			err = fmt.Errorf("%w: %v frame inside an unfinished %v message", ErrMalformed, f.Opcode, m.op)
		}
		m.buf, m.op, m.inProg = m.buf[:0], f.Opcode, true
	}
	if len(m.buf)+len(f.Payload) > MaxMessage {
		m.inProg, m.buf = false, m.buf[:0]
		return 0, nil, false, fmt.Errorf("%w: over %d bytes", ErrTooLarge, MaxMessage)
	}
	m.buf = f.AppendPayload(m.buf)
	if !f.Fin {
		return 0, nil, false, err
	}
	m.inProg = false
	return m.op, m.buf, true, err
}

// scratch returns an empty buffer for a control frame that does not
// disturb a message in progress.
func (m *Message) scratch() []byte {
	if m.inProg {
		return nil
	}
	return m.buf[:0]
}

// IsUpgradeRequest reports whether b starts an HTTP GET request whose
// header block (complete or not yet) asks to upgrade to websocket.
func IsUpgradeRequest(b []byte) bool {
	if !bytes.HasPrefix(b, []byte("GET ")) {
		return false
	}
	return headerHas(b, "upgrade", "websocket")
}

// IsUpgradeResponse reports whether b starts an HTTP 101 response.
func IsUpgradeResponse(b []byte) bool {
	return bytes.HasPrefix(b, []byte("HTTP/1.1 101")) || bytes.HasPrefix(b, []byte("HTTP/1.0 101"))
}

// HandshakeLen frames an HTTP request or response header block at the
// start of b: n is its length through the empty line. complete is false
// when more bytes are needed; err wraps ErrNotHTTP when b does not start
// like HTTP or the block exceeds MaxHandshake.
func HandshakeLen(b []byte) (n int, complete bool, err error) {
	if !bytes.HasPrefix(b, []byte("GET ")) && !bytes.HasPrefix(b, []byte("HTTP/")) &&
		!bytes.HasPrefix([]byte("GET "), b) && !bytes.HasPrefix([]byte("HTTP/"), b) {
		return 0, false, ErrNotHTTP
	}
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		return i + 4, true, nil
	}
	if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
		return i + 2, true, nil
	}
	if len(b) > MaxHandshake {
		return 0, false, fmt.Errorf("%w: no end of header block in %d bytes", ErrNotHTTP, len(b))
	}
	return 0, false, nil
}

// headerHas reports whether the header block at the start of b has a
// header name (lower case) whose value contains token, case-insensitively.
func headerHas(b []byte, name, token string) bool {
	if len(b) > MaxHandshake {
		b = b[:MaxHandshake]
	}
	for len(b) > 0 {
		line := b
		i := bytes.IndexByte(b, '\n')
		if i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			return false
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(bytes.TrimSpace(k), []byte(name)) && containsFold(v, token) {
			return true
		}
	}
	return false
}

func containsFold(s []byte, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if bytes.EqualFold(s[i:i+len(sub)], []byte(sub)) {
			return true
		}
	}
	return false
}
