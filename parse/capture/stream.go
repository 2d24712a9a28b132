package capture

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/sipflow/sipflow/parse/hep"
	"github.com/sipflow/sipflow/parse/sip"
	"github.com/sipflow/sipflow/parse/tcp"
	"github.com/sipflow/sipflow/parse/ws"
)

// streamKind is what a TCP stream was recognised as.
type streamKind uint8

const (
	kindUnknown streamKind = iota
	kindSIP
	kindWSHandshake // HTTP Upgrade request or 101 response, then frames
	kindWS
	kindHEP
	kindTLS
)

// streamState is the consumer's state of one TCP direction (tcp.Stream.Ctx).
type streamState struct {
	kind streamKind
	msg  ws.Message
	tls  bool // counted in reader.tls
}

// tcpConsumer is the reader seen as a tcp.Consumer.
type tcpConsumer reader

func (c *tcpConsumer) Data(s *tcp.Stream) {
	r := (*reader)(c)
	st, _ := s.Ctx.(*streamState)
	if st == nil {
		st = &streamState{}
		s.Ctx = st
	}
	for {
		progressed := false
		switch st.kind {
		case kindUnknown:
			if !r.classify(s, st) {
				return
			}
			progressed = true
		case kindSIP:
			progressed = r.sipStream(s, st, false)
		case kindWSHandshake:
			progressed = r.wsHandshake(s, st)
		case kindWS:
			progressed = r.wsStream(s, st)
		case kindHEP:
			progressed = r.hepStream(s, st)
		case kindTLS:
			s.Consume(len(s.Buffered()))
			return
		}
		if !progressed {
			return
		}
	}
}

func (c *tcpConsumer) Closed(s *tcp.Stream) {
	r := (*reader)(c)
	st, _ := s.Ctx.(*streamState)
	if st == nil {
		return
	}
	if st.kind == kindSIP {
		for r.sipStream(s, st, true) {
		}
	}
	if st.tls {
		k := connKey(s.Key)
		if r.tls[k]--; r.tls[k] <= 0 {
			delete(r.tls, k)
		}
	}
}

// connKey is the same for both directions of a connection.
func connKey(k tcp.Key) tcp.Key {
	if k.Src.Compare(k.Dst) > 0 {
		return k.Reverse()
	}
	return k
}

// isTLSRecord reports a TLS record header: content type 20-23, version 3.x.
func isTLSRecord(b []byte) bool {
	return len(b) >= 3 && b[0] >= 0x14 && b[0] <= 0x17 && b[1] == 3 && b[2] <= 4
}

// classify decides what the stream carries from its first bytes. It returns
// false when it needs more bytes.
func (r *reader) classify(s *tcp.Stream, st *streamState) bool {
	b := s.Buffered()
	if gap := s.GapAt(); gap == 0 {
		s.Consume(0)
	}
	b = bytes.TrimLeft(b, "\r\n")
	if skip := len(s.Buffered()) - len(b); skip > 0 {
		s.Consume(skip)
	}
	if len(b) == 0 {
		return false
	}
	switch {
	case isTLSRecord(b):
		r.markTLS(s, st)
		return true
	case ws.IsUpgradeRequest(b) || ws.IsUpgradeResponse(b):
		st.kind = kindWSHandshake
		return true
	case bytes.HasPrefix(b, []byte("HEP3")):
		st.kind = kindHEP
		return true
	}
	if _, _, err := sip.MessageLen(b); err == nil {
		if sip.IsStart(b) {
			st.kind = kindSIP
			return true
		}
		if len(b) < 4096 {
			return false // the start line is still arriving
		}
	}
	if len(b) < 16 && (bytes.HasPrefix([]byte("HEP3"), b) || bytes.HasPrefix([]byte("GET "), b) || bytes.HasPrefix([]byte("HTTP/"), b)) {
		return false
	}
	if (bytes.HasPrefix(b, []byte("GET ")) || bytes.HasPrefix(b, []byte("HTTP/"))) && !bytes.Contains(b, []byte("\r\n\r\n")) && len(b) < ws.MaxHandshake {
		return false // an HTTP header block still arriving
	}
	if s.Key.Src.Port() == 5061 || s.Key.Dst.Port() == 5061 {
		r.markTLS(s, st)
		return true
	}
	// Picked up mid-message, or something else: look for a start line.
	if i := nextStart(b); i > 0 {
		s.Consume(len(s.Buffered()) - len(b) + i)
		st.kind = kindSIP
		return true
	}
	// Keep a short tail in case a start line is cut at the end.
	if keep := 256; len(b) > keep {
		s.Consume(len(s.Buffered()) - keep)
	}
	return false
}

func (r *reader) markTLS(s *tcp.Stream, st *streamState) {
	st.kind, st.tls = kindTLS, true
	k := connKey(s.Key)
	if r.tls[k] == 0 {
		r.stats.TLSFlows++
	}
	r.tls[k]++
	s.Consume(len(s.Buffered()))
}

// nextStart returns the offset of the next line in b, after offset 0, that
// begins a SIP message, or -1.
func nextStart(b []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		if i < len(b) && sip.IsStart(b[i:]) {
			return i
		}
	}
}

// limit is the part of Buffered before the next gap.
func limit(s *tcp.Stream) []byte {
	b := s.Buffered()
	if g := s.GapAt(); g >= 0 {
		return b[:g]
	}
	return b
}

// sipStream frames one SIP message off the stream. final is set when the
// stream has ended: an incomplete message left over is delivered as it is.
func (r *reader) sipStream(s *tcp.Stream, st *streamState, final bool) bool {
	all := s.Buffered()
	b := limit(s)
	gapped := len(b) < len(all)
	if t := bytes.TrimLeft(b, "\r\n\x00"); len(t) < len(b) {
		s.Consume(len(b) - len(t)) // keepalives between messages
		return true
	}
	if len(b) == 0 {
		if gapped {
			s.Consume(0)
			st.kind = kindUnknown // resynchronise after the hole
			return true
		}
		return false
	}
	n, complete, err := sip.MessageLen(b)
	if err != nil {
		// Garbage or a broken Content-Length: skip to the next start line.
		i := nextStart(b)
		if errors.Is(err, sip.ErrBadContentLength) || errors.Is(err, sip.ErrNotSIP) && sip.IsStart(b) {
			// A message we cannot frame: deliver up to the next start line.
			end := len(b)
			if i > 0 {
				end = i
			} else if !gapped && !final {
				return false
			}
			r.tcpDeliver(s, b[:end], TCP)
			s.Consume(end)
			return true
		}
		f, _ := s.FrameAt(0)
		r.warn(f, -1, fmt.Errorf("%w: %s -> %s: %v", ErrStream, s.Key.Src, s.Key.Dst, err))
		if i < 0 {
			s.Consume(len(b))
			st.kind = kindUnknown
			return true
		}
		s.Consume(i)
		return true
	}
	if !complete {
		switch {
		case gapped:
			f, _ := s.FrameAt(len(b) - 1)
			r.warn(f, -1, fmt.Errorf("%w: %d bytes of a message %s -> %s", ErrGap, len(b), s.Key.Src, s.Key.Dst))
			s.Consume(len(b))
			st.kind = kindUnknown
			return true
		case final && sip.IsStart(b):
			r.tcpDeliver(s, b, TCP)
			s.Consume(len(b))
		}
		return false
	}
	r.tcpDeliver(s, b[:n], TCP)
	s.Consume(n)
	return true
}

func (r *reader) tcpDeliver(s *tcp.Stream, b []byte, tr Transport) {
	f, ts := s.FrameAt(len(b) - 1)
	body, cseq := frameHints(b)
	r.deliver(b, f, ts, s.Key.Src, s.Key.Dst, tr, r.streamEncap(), body, cseq)
}

// streamEncap is the encapsulation of the current frame (tunnels).
func (r *reader) streamEncap() Encap {
	if r.pkt.Tunneled {
		return EncapTunnel
	}
	return EncapNone
}

// wsHandshake skips the HTTP header block of the Upgrade handshake.
func (r *reader) wsHandshake(s *tcp.Stream, st *streamState) bool {
	b := limit(s)
	n, complete, err := ws.HandshakeLen(b)
	if err != nil {
		st.kind = kindUnknown
		s.Consume(min(len(b), 1))
		return true
	}
	if !complete {
		return false
	}
	s.Consume(n)
	st.kind = kindWS
	return true
}

// wsStream decodes one WebSocket frame; text and binary messages are SIP.
func (r *reader) wsStream(s *tcp.Stream, st *streamState) bool {
	b := limit(s)
	if len(b) == 0 {
		if len(s.Buffered()) > 0 { // a hole: frames cannot be found again
			s.Consume(0)
			st.kind = kindUnknown
			return true
		}
		return false
	}
	f, n, err := ws.ParseFrame(b)
	if err != nil {
		fr, _ := s.FrameAt(0)
		r.warn(fr, -1, fmt.Errorf("%w: %s -> %s: %v", ErrStream, s.Key.Src, s.Key.Dst, err))
		s.Consume(len(b))
		st.kind = kindUnknown
		return true
	}
	if n == 0 {
		if len(b) < len(s.Buffered()) {
			s.Consume(len(b))
			st.kind = kindUnknown
			return true
		}
		return false
	}
	op, payload, done, err := st.msg.Add(&f)
	if err != nil {
		fr, _ := s.FrameAt(n - 1)
		r.warn(fr, -1, fmt.Errorf("%w: %s -> %s: %v", ErrStream, s.Key.Src, s.Key.Dst, err))
	}
	if done && (op == ws.OpText || op == ws.OpBinary) {
		if t := bytes.TrimLeft(payload, "\r\n"); sip.IsStart(t) {
			fr, ts := s.FrameAt(n - 1)
			body, cseq := frameHints(t)
			r.deliver(t, fr, ts, s.Key.Src, s.Key.Dst, WS, r.streamEncap(), body, cseq)
		}
	}
	s.Consume(n)
	return true
}

// hepStream frames one HEP3 message off the stream.
func (r *reader) hepStream(s *tcp.Stream, st *streamState) bool {
	b := limit(s)
	if len(b) == 0 {
		if len(s.Buffered()) > 0 {
			s.Consume(0)
			st.kind = kindUnknown
			return true
		}
		return false
	}
	n, complete, err := hep.MessageLen(b)
	if err != nil {
		i := bytes.Index(b[1:], []byte("HEP3"))
		if i < 0 {
			s.Consume(len(b))
			st.kind = kindUnknown
			return true
		}
		s.Consume(i + 1)
		return true
	}
	if !complete {
		if len(b) < len(s.Buffered()) {
			s.Consume(len(b))
			st.kind = kindUnknown
			return true
		}
		return false
	}
	fr, ts := s.FrameAt(n - 1)
	r.hepPacket(b[:n], fr, ts)
	s.Consume(n)
	return true
}
