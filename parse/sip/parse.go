package sip

import (
	"bytes"
	"fmt"
	"strings"
	"unsafe"

	"github.com/sipflow/sipflow/parse/sdp"
)

const (
	maxStartLine = 8 << 10  // a start line longer than this is not SIP
	maxHeaders   = 64 << 10 // a header section longer than this is not SIP
	maxBody      = 16 << 20 // a Content-Length larger than this is refused on a stream
)

// checkStart results besides a line end index.
const (
	startBad      = -1
	startNeedMore = -2
)

// checkStart reports whether b begins with a SIP start line. It returns the
// index of the LF ending that line (len(b) if final and there is none),
// startBad, or startNeedMore when b is a plausible prefix and !final.
func checkStart(b []byte, final bool) int {
	if len(b) == 0 {
		if final {
			return startBad
		}
		return startNeedMore
	}
	if c := b[0]; c < 'A' || c > 'Z' {
		return startBad
	}
	const ver = "SIP/2.0"
	// Status line: "SIP/2.0 200 OK".
	if b[0] == 'S' && len(b) >= 4 && b[1] == 'I' && b[2] == 'P' && b[3] == '/' {
		n := len(ver) + 1
		if len(b) < n+3 {
			if !final && bytes.HasPrefix([]byte(ver+" "), b[:min(len(b), n)]) && allDigits(b[min(len(b), n):]) {
				return startNeedMore
			}
			return startBad
		}
		if string(b[:len(ver)]) != ver || b[len(ver)] != ' ' || !allDigits(b[n:n+3]) {
			return startBad
		}
		i := n + 3
		if i == len(b) {
			if final {
				return i
			}
			return startNeedMore
		}
		if c := b[i]; c != ' ' && c != '\r' && c != '\n' {
			return startBad
		}
		return lineEnd(b, i, final)
	}
	// Request line: "METHOD SP uri SP SIP/2.0".
	i := 0
	for i < len(b) && isToken(b[i]) {
		i++
		if i > 32 {
			return startBad
		}
	}
	if i == len(b) {
		if final {
			return startBad
		}
		return startNeedMore
	}
	if b[i] != ' ' {
		return startBad
	}
	i++
	u := i
	for i < len(b) && b[i] > ' ' && b[i] != 0x7f {
		i++
		if i > maxStartLine {
			return startBad
		}
	}
	if i == len(b) {
		if final {
			return startBad
		}
		return startNeedMore
	}
	if i == u || b[i] != ' ' {
		return startBad
	}
	i++
	rest := b[i:]
	if len(rest) < len(ver) {
		if !final && bytes.HasPrefix([]byte(ver), rest) {
			return startNeedMore
		}
		return startBad
	}
	if string(rest[:len(ver)]) != ver {
		return startBad
	}
	i += len(ver)
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	if i == len(b) {
		if final {
			return i
		}
		return startNeedMore
	}
	if b[i] != '\r' && b[i] != '\n' {
		return startBad
	}
	return lineEnd(b, i, final)
}

// lineEnd finds the LF at or after i.
func lineEnd(b []byte, i int, final bool) int {
	if j := bytes.IndexByte(b[i:], '\n'); j >= 0 {
		return i + j
	}
	if final {
		return len(b)
	}
	if len(b) > maxStartLine {
		return startBad
	}
	return startNeedMore
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isToken reports whether c is an RFC 3261 token character.
func isToken(c byte) bool {
	return tokenTab[c]
}

var tokenTab = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "-.!%*_+`'~" {
		t[c] = true
	}
	return t
}()

// IsStart reports whether b begins with a SIP start line: a request line
// "METHOD SP uri SP SIP/2.0" or a status line "SIP/2.0 SP 3digit ...". It
// does not allocate and rejects binary data on its first byte.
func IsStart(b []byte) bool {
	return checkStart(b, true) >= 0
}

// MessageLen frames the first message of a stream buffer (TCP, WebSocket):
// the header section up to the empty line (CRLFCRLF or LFLF), then
// Content-Length (or compact l) bytes of body; a missing Content-Length
// means no body. It returns complete=false (and n=0) when more bytes are
// needed; n <= len(b) always. err wraps ErrNotSIP when b does not begin with
// a start line (the caller resynchronises), or ErrBadContentLength.
func MessageLen(b []byte) (n int, complete bool, err error) {
	f, complete, err := MessageFrame(b)
	return f.Len, complete, err
}

// Frame is where MessageFrame found a message to end, and the method of its
// CSeq.
type Frame struct {
	Body, Len int // the message is b[:Len], its body b[Body:Len]
	// CSeqMethod is the method of the first CSeq header, as Parse reads
	// it; MethodOther when there is none, when it names no method known
	// here, or when its line is folded.
	CSeqMethod Method
}

// MessageFrame is MessageLen that also says where the body starts (the body
// is empty without Content-Length) and the method of the CSeq. f is zero
// when the message is not complete.
func MessageFrame(b []byte) (f Frame, complete bool, err error) {
	le := checkStart(b, false)
	switch le {
	case startNeedMore:
		return Frame{}, false, nil
	case startBad:
		return Frame{}, false, fmt.Errorf("%w: no start line at %.20q", ErrNotSIP, b[:min(len(b), 20)])
	}
	pos := le + 1
	cl := -1
	cseq, folded := false, false // the first CSeq was seen; the line before was it
	for {
		if pos >= len(b) {
			return Frame{}, false, nil
		}
		j := bytes.IndexByte(b[pos:], '\n')
		if j < 0 {
			if len(b) > maxHeaders {
				return Frame{}, false, fmt.Errorf("%w: no end of headers in %d bytes", ErrNotSIP, len(b))
			}
			return Frame{}, false, nil
		}
		line := b[pos : pos+j]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		pos += j + 1
		if len(line) == 0 {
			break
		}
		if pos > maxHeaders {
			return Frame{}, false, fmt.Errorf("%w: no end of headers in %d bytes", ErrNotSIP, pos)
		}
		if folded && (line[0] == ' ' || line[0] == '\t') {
			f.CSeqMethod = MethodOther // a folded CSeq: left to the parser
		}
		folded = false
		if c := line[0] | 0x20; c != 'l' && c != 'c' {
			continue // not Content-Length (l) nor CSeq, whose names start the line
		}
		c := bytes.IndexByte(line, ':')
		if c < 0 {
			continue
		}
		name := bytes.TrimRight(line[:c], " \t")
		if !cseq && len(name) == len("cseq") && bytes.EqualFold(name, []byte("cseq")) {
			cseq, folded = true, true
			v := trimSpace(unsafe.String(unsafe.SliceData(line[c+1:]), len(line)-c-1))
			if _, _, rest, j := scanCSeq(v); j > 0 {
				f.CSeqMethod = parseMethod(rest[:j])
			}
			continue
		}
		if !(len(name) == 1 && (name[0] == 'l' || name[0] == 'L')) &&
			!(len(name) == len("content-length") && bytes.EqualFold(name, []byte("content-length"))) {
			continue
		}
		v, ok := atoi(bytes.Trim(line[c+1:], " \t"))
		if !ok || v > maxBody {
			return Frame{}, false, fmt.Errorf("%w: %.20q", ErrBadContentLength, line[c+1:])
		}
		if cl >= 0 && cl != v {
			return Frame{}, false, fmt.Errorf("%w: two values %d and %d", ErrBadContentLength, cl, v)
		}
		cl = v
	}
	if cl < 0 {
		cl = 0
	}
	if pos+cl > len(b) {
		return Frame{}, false, nil
	}
	f.Body, f.Len = pos, pos+cl
	return f, true, nil
}

// atoi reads a non-negative decimal int, refusing overflow and empty input.
func atoi[T []byte | string](b T) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// Parse tokenizes b into m, resetting every field of m first (the capacity
// of m's slices is reused: copy a Message with Clone before parsing into it
// again if you keep it). m keeps slices of b (Raw, Body, Parts); its
// strings are copies. Parse returns an error wrapping ErrNotSIP only when b
// does not start with a SIP start line; otherwise it returns nil and
// records every defect in m.Problems with its byte offset and line.
func Parse(b []byte, m *Message) error { return ParseWith(b, m, Options{}) }

// Options tune ParseWith.
type Options struct {
	// NoSDP leaves Message.SDP nil; the SDP part is still in Parts. For a
	// caller that shows no media it saves a third of an INVITE's cost.
	NoSDP bool
	// Owned says the caller hands b over for good: nothing writes to it
	// again, so the message's strings may alias it instead of a copy. The
	// capture pipeline, which copies each message out of its read buffer
	// once, sets it.
	Owned bool
	// Light parses only what a media analysis reads: the start line (not
	// the Request-URI), Call-ID, From, CSeq, Content-Type, Content-Length,
	// the To of an INVITE (a new dialog has no To tag), and the body (with
	// its SDP). From and To are read without their URI. Headers holds
	// those headers alone; Via, RequestURI and the To of other messages
	// stay empty, and no missing header is reported. It costs less than
	// half a full parse, for a reader that must see a message's SDP at once
	// and leaves the full parse to another goroutine.
	Light bool
}

// lightHeader says which headers Options.Light keeps.
var lightHeader = [hMax]bool{hCallID: true, hFrom: true, hTo: true, hCSeq: true, hContentType: true, hContentLength: true}

// ParseWith is Parse with options.
func ParseWith(b []byte, m *Message, o Options) error {
	*m = Message{
		noSDP:         o.NoSDP,
		Headers:       m.Headers[:0],
		Via:           m.Via[:0],
		Parts:         m.Parts[:0],
		Problems:      m.Problems[:0],
		ContentLength: -1,
	}
	le := checkStart(b, true)
	if le < 0 {
		return fmt.Errorf("%w: no start line at %.20q", ErrNotSIP, b[:min(len(b), 20)])
	}
	var s string // every string in m is a substring of it
	if o.Owned {
		s = unsafe.String(unsafe.SliceData(b), len(b)) // b is never written again: alias it
	} else {
		s = string(b) // one copy
	}
	m.Raw = b
	m.light = o.Light
	m.parseStartLine(s[:le])

	// Header section.
	pos := le + 1
	bodyStart, blank := -1, len(b)
	skipped := false // Light: the last header line was not kept, nor its continuations
	for pos < len(s) {
		var line string
		next := len(s)
		if j := strings.IndexByte(s[pos:], '\n'); j >= 0 {
			line, next = s[pos:pos+j], pos+j+1
		} else {
			line = s[pos:]
		}
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if line == "" {
			bodyStart, blank = next, pos
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if skipped {
				pos = next
				continue
			}
			if len(m.Headers) == 0 {
				m.problem(pos, fmt.Errorf("%w: continuation line before any header", ErrBadHeader))
				m.Headers = append(m.Headers, Header{Value: trimSpace(line), Offset: pos})
			} else {
				h := &m.Headers[len(m.Headers)-1]
				if t := trimSpace(line); t != "" {
					if h.Value == "" {
						h.Value = t
					} else {
						h.Value = h.Value + " " + t
					}
				}
			}
			pos = next
			continue
		}
		if o.Light {
			// every header Light keeps starts with one of these letters
			// (Call-ID i, CSeq, Content-Type c, Content-Length l, From f,
			// To t): the others are passed over before the colon is looked
			// for.
			switch line[0] | 0x20 {
			case 'c', 'i', 'l', 'f', 't':
			default:
				skipped = true
				pos = next
				continue
			}
		}
		c := strings.IndexByte(line, ':')
		if c < 0 {
			m.problem(pos, fmt.Errorf("%w: no colon in %.40q", ErrBadHeader, line))
			m.Headers = append(m.Headers, Header{Value: trimSpace(line), Offset: pos})
			pos = next
			continue
		}
		name := line[:c]
		for len(name) > 0 && (name[len(name)-1] == ' ' || name[len(name)-1] == '\t') {
			name = name[:len(name)-1]
		}
		id := headerID(name)
		if o.Light {
			if skipped = !lightHeader[id]; skipped {
				pos = next
				continue
			}
		}
		if !validName(name) {
			m.problem(pos, fmt.Errorf("%w: bad header name %.40q", ErrBadHeader, name))
		}
		m.Headers = append(m.Headers, Header{Name: name, Value: trimSpace(line[c+1:]), Offset: pos, id: id + 1})
		pos = next
	}
	if bodyStart < 0 {
		bodyStart = len(b)
		m.problem(len(b), fmt.Errorf("%w: no empty line ends the headers", ErrTruncated))
	}

	m.hotHeaders()
	if !o.Light {
		m.checkMandatory(blank)
	}

	// Body framing.
	end := len(b)
	avail := len(b) - bodyStart
	switch cl := m.ContentLength; {
	case cl < 0:
	case cl > avail:
		m.problem(len(b), fmt.Errorf("%w: Content-Length %d, %d bytes present", ErrTruncated, cl, avail))
	case cl < avail:
		end = bodyStart + cl
		if t := bytes.TrimLeft(b[end:], " \t\r\n\x00"); len(t) > 0 {
			m.problem(end, fmt.Errorf("%w: %d bytes after the %d-byte body are not part of the message",
				ErrBadContentLength, len(b)-end, cl))
		}
	}
	m.Raw = b[:end]
	m.Body = b[bodyStart:end]
	if len(m.Body) > 0 {
		m.splitBody(s, bodyStart, end)
	}
	return nil
}

func (m *Message) parseStartLine(line string) {
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if strings.HasPrefix(line, "SIP/2.0 ") {
		m.StatusCode = int(line[8]-'0')*100 + int(line[9]-'0')*10 + int(line[10]-'0')
		m.Reason = trimSpace(line[11:])
		return
	}
	m.Request = true
	sp := strings.IndexByte(line, ' ')
	m.MethodName = line[:sp]
	m.Method = parseMethod(m.MethodName)
	if m.light {
		return
	}
	uri := line[sp+1:]
	uri = uri[:strings.IndexByte(uri, ' ')]
	var err error
	m.RequestURI, err = ParseURI(uri)
	if err != nil {
		m.problem(sp+1, fmt.Errorf("%w: Request-URI: %w", ErrBadStartLine, err))
	}
}

// problem records a defect at byte offset off of the message.
func (m *Message) problem(off int, err error) {
	off = max(0, min(off, len(m.Raw)))
	line := 1 + bytes.Count(m.Raw[:off], []byte{'\n'})
	m.Problems = append(m.Problems, Problem{Offset: off, Line: line, Err: err})
}

func validName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isToken(name[i]) {
			return false
		}
	}
	return true
}

func trimSpace(s string) string {
	i, j := 0, len(s)
	for i < j && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	for j > i && (s[j-1] == ' ' || s[j-1] == '\t' || s[j-1] == '\r') {
		j--
	}
	return s[i:j]
}

// hotHeaders fills the eagerly parsed fields from m.Headers.
func (m *Message) hotHeaders() {
	var seenCallID, seenFrom, seenTo, seenCSeq, seenCT bool
	for i := range m.Headers {
		h := &m.Headers[i]
		switch h.hid() {
		case hCallID:
			if !seenCallID {
				seenCallID = true
				m.CallID = h.Value
				if h.Value == "" {
					m.problem(h.Offset, fmt.Errorf("%w: empty Call-ID", ErrBadHeader))
				}
			}
		case hFrom:
			if !seenFrom {
				seenFrom = true
				var err error
				if m.From, err = m.parseAddr(h.Value); err != nil {
					//lint:ignore ST1005 the header's name, as on the wire, starts the problem
					m.problem(h.Offset, fmt.Errorf("From: %w", err))
				}
			}
		case hTo:
			if m.light && !(m.Request && m.Method == INVITE) {
				continue // Light: only an INVITE's To is read
			}
			if !seenTo {
				seenTo = true
				var err error
				if m.To, err = m.parseAddr(h.Value); err != nil {
					//lint:ignore ST1005 the header's name, as on the wire, starts the problem
					m.problem(h.Offset, fmt.Errorf("To: %w", err))
				}
			}
		case hCSeq:
			if !seenCSeq {
				seenCSeq = true
				m.parseCSeq(h)
			}
		case hVia:
			var err error
			if m.Via, err = appendVia(m.Via, h.Value); err != nil {
				m.problem(h.Offset, err)
			}
		case hContentType:
			if !seenCT {
				seenCT = true
				m.ContentType = mediaType(h.Value)
			}
		case hContentLength:
			v, ok := atoi(h.Value)
			switch {
			case !ok:
				m.problem(h.Offset, fmt.Errorf("%w: %.20q", ErrBadContentLength, h.Value))
			case m.ContentLength >= 0 && m.ContentLength != v:
				m.problem(h.Offset, fmt.Errorf("%w: second value %d (first %d)", ErrBadContentLength, v, m.ContentLength))
			default:
				m.ContentLength = v
			}
		}
	}
}

// parseAddr is ParseAddr, without the URI for Options.Light.
func (m *Message) parseAddr(v string) (Addr, error) {
	if m.light {
		a, _, err := splitAddr(v)
		return a, err
	}
	return ParseAddr(v)
}

// scanCSeq splits a CSeq value: n is the number its first i bytes hold
// (more than 32 bits when it overflows), and rest[:j] the method token after
// it.
func scanCSeq(v string) (n uint64, i int, rest string, j int) {
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		n = n*10 + uint64(v[i]-'0')
		if n > 1<<32-1 {
			break
		}
		i++
	}
	rest = trimSpace(v[i:])
	for j < len(rest) && isToken(rest[j]) {
		j++
	}
	return n, i, rest, j
}

func (m *Message) parseCSeq(h *Header) {
	v := h.Value
	n, i, rest, j := scanCSeq(v)
	num := i > 0 && n <= 1<<32-1
	if num {
		m.CSeq = uint32(n)
	}
	if j > 0 {
		m.CSeqMethodName = rest[:j]
		m.CSeqMethod = parseMethod(m.CSeqMethodName)
	}
	switch {
	case !num:
		m.problem(h.Offset, fmt.Errorf("%w: no sequence number in %.40q", ErrBadCSeq, v))
	case j == 0 || i == len(v) || (v[i] != ' ' && v[i] != '\t'):
		m.problem(h.Offset, fmt.Errorf("%w: no method in %.40q", ErrBadCSeq, v))
	case j != len(rest):
		m.problem(h.Offset, fmt.Errorf("%w: trailing text in %.40q", ErrBadCSeq, v))
	case m.Request && m.CSeqMethodName != m.MethodName && m.Method != ACK && m.Method != CANCEL:
		m.problem(h.Offset, fmt.Errorf("%w: method %s differs from request method %s", ErrBadCSeq, m.CSeqMethodName, m.MethodName))
	}
}

func (m *Message) checkMandatory(off int) {
	var have [hMax]bool
	for i := range m.Headers {
		have[m.Headers[i].hid()] = true
	}
	for _, id := range []hid{hCallID, hFrom, hTo, hCSeq, hVia} {
		if id == hVia && !m.Request {
			continue
		}
		if !have[id] {
			m.problem(off, fmt.Errorf("%w: %s", ErrMissingHeader, fullNames[id]))
		}
	}
}

// mediaType returns the lower-case media type of a Content-Type value,
// without parameters. Common types are returned without allocating.
func mediaType(v string) string {
	if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	v = trimSpace(v)
	for _, c := range commonTypes {
		if len(c) == len(v) && strings.EqualFold(c, v) {
			return c
		}
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(v)
		}
	}
	return v
}

var commonTypes = []string{
	"application/sdp", "multipart/mixed", "application/isup", "application/dtmf-relay",
	"application/pidf+xml", "message/sipfrag", "text/plain", "application/simple-message-summary",
	"application/qsig", "multipart/alternative", "multipart/related",
}

// splitBody fills m.Parts (and m.SDP) from the body b[start:end]; s is the
// whole message as a string.
func (m *Message) splitBody(s string, start, end int) {
	if strings.HasPrefix(m.ContentType, "multipart/") {
		if m.splitMultipart(s, start, end) {
			return
		}
	} else {
		m.Parts = append(m.Parts, Part{ContentType: m.ContentType, Body: m.Raw[start:end]})
		if m.ContentType == "application/sdp" {
			m.parseSDP(s[start:end], start)
		}
	}
}

func (m *Message) parseSDP(body string, off int) {
	if m.noSDP {
		return
	}
	sess, err := sdp.ParseString(body)
	if err != nil {
		m.problem(off, fmt.Errorf("%w: SDP: %w", ErrBadBody, err))
		return
	}
	m.SDP = sess
}

// splitMultipart splits a multipart body on its boundary (RFC 2046). It
// returns false, with one whole-body part and a Problem, when it cannot.
func (m *Message) splitMultipart(s string, start, end int) bool {
	boundary := param(m.Get("Content-Type"), "boundary")
	if len(boundary) > 1 && boundary[0] == '"' && boundary[len(boundary)-1] == '"' {
		boundary = boundary[1 : len(boundary)-1]
	}
	fail := func(why string) bool {
		m.problem(start, fmt.Errorf("%w: %s", ErrBadBody, why))
		m.Parts = append(m.Parts[:0], Part{ContentType: m.ContentType, Body: m.Raw[start:end]})
		return true
	}
	if boundary == "" {
		return fail("multipart body without boundary")
	}
	body := s[:end]
	d := findDelim(body, start, boundary)
	if d < 0 {
		return fail("boundary not found in multipart body")
	}
	closed := false
	for {
		// d is at "--boundary"; see whether it is the close delimiter.
		p := d + 2 + len(boundary)
		if strings.HasPrefix(body[p:], "--") {
			closed = true
			break
		}
		nl := strings.IndexByte(body[p:], '\n')
		if nl < 0 {
			break
		}
		p += nl + 1
		next := findDelim(body, p, boundary)
		partEnd := next
		if next < 0 {
			partEnd = end
		} else {
			// The CRLF before the delimiter belongs to it.
			partEnd = next
			if partEnd > p && body[partEnd-1] == '\n' {
				partEnd--
				if partEnd > p && body[partEnd-1] == '\r' {
					partEnd--
				}
			}
		}
		m.addPart(s, p, max(p, partEnd))
		if next < 0 {
			break
		}
		d = next
	}
	if !closed {
		m.problem(start, fmt.Errorf("%w: multipart body without close delimiter", ErrBadBody))
	}
	return true
}

// addPart parses the part headers of s[p:end] and appends the part.
func (m *Message) addPart(s string, p, end int) {
	ct := "text/plain" // RFC 2046 default
	for p < end {
		nl := strings.IndexByte(s[p:end], '\n')
		line := s[p:end]
		next := end
		if nl >= 0 {
			line, next = s[p:p+nl], p+nl+1
		}
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if line == "" {
			p = next
			break
		}
		if name, val, ok := strings.Cut(line, ":"); ok && headerID(trimSpace(name)) == hContentType {
			ct = mediaType(val)
		}
		p = next
		if nl < 0 {
			break
		}
	}
	if p > end {
		p = end
	}
	m.Parts = append(m.Parts, Part{ContentType: ct, Body: m.Raw[p:end]})
	if ct == "application/sdp" && m.SDP == nil {
		m.parseSDP(s[p:end], p)
	}
}

// findDelim returns the index of the next "--boundary" at a line start at
// or after from, or -1.
func findDelim(s string, from int, boundary string) int {
	for from < len(s) {
		i := strings.Index(s[from:], boundary)
		if i < 0 {
			return -1
		}
		i += from
		if i >= 2 && s[i-1] == '-' && s[i-2] == '-' && (i == 2 || s[i-3] == '\n' || i-2 == from) {
			return i - 2
		}
		from = i + 1
	}
	return -1
}

// param returns the value of the ;name=value parameter in a header value
// (case-insensitive name), "" if absent.
func param(v, name string) string {
	i := strings.IndexByte(v, ';')
	if i < 0 {
		return ""
	}
	return paramIn(v[i+1:], name)
}

// paramIn looks name up in a parameter list "a=1;b;c=3".
func paramIn(list, name string) string {
	for list != "" {
		var p string
		p, list, _ = strings.Cut(list, ";")
		n, val, _ := strings.Cut(p, "=")
		if asciiEqualFold(trimSpace(n), name) {
			return trimSpace(val)
		}
	}
	return ""
}
