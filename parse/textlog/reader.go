package textlog

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/sipflow/sipflow/parse/capture"
	"github.com/sipflow/sipflow/parse/sip"
)

// endKind says how the text of a record ends.
type endKind uint8

const (
	endContent endKind = iota // by content: blank line after the body, a non-SIP line, a new record
	endMarker                 // by an explicit marker line (chan_sip, FreeSWITCH): every line before it is the message
	endIndent                 // tcpdump -vvv: the lines indented with a tab
)

// meta is what a record header says about the message that follows.
type meta struct {
	format    Format
	line      int
	st        stamp
	time      time.Time // zero if unknown
	src, dst  netip.AddrPort
	transport capture.Transport
	hasTrans  bool
	length    int    // declared message size, -1 if none
	marker    string // for endMarker: the line that ends the message
	tcpdump   bool
	media     bool      // tcpdump UDP packet: counted as media when it holds no SIP
	wait      int       // lines left to find the start line in
	dashes    bool      // FreeSWITCH: message text is between dashed lines
	soft      bool      // xlog line: without a message after it, a skipped line, not an error
	dir       direction // logged by a box: which way, seen from it
}

// pending is a message being assembled.
type pending struct {
	meta
	start    int // line number of the start line
	indent   string
	end      endKind
	lines    []string // start line, headers
	body     []string
	inBody   bool
	blank    bool // a blank line separated headers and body
	cl       int  // Content-Length, -1 if none seen
	multi    bool // multipart body: blank lines inside
	bodyLen  int
	hex      []byte // tcpdump -X: packet bytes
	hexMode  bool
	syslog   bool   // one message per line, with escaped line breaks
	host     string // syslog host, to join continuation lines
	complete bool
	last     int // line number of the last line taken
}

type txKey struct {
	callID, branch string
	cseq           uint32
}

type reader struct {
	ctx   context.Context
	name  string
	opts  Options
	h     capture.Handler
	stats capture.Stats

	lineNo int
	cur    *pending
	expect *meta

	skipFrom, skipTo int
	warnFull         bool

	lastDate time.Time // date of the last dated line, for time-of-day stamps
	lastTOD  time.Time // last time-of-day stamp (date 1-1-1 based), for midnight rollover

	reqs map[txKey][2]netip.AddrPort

	boxes map[Format]*box // evidence of each logging box's own address
	held  []held          // messages waiting for it, in order
}

func newReader(ctx context.Context, name string, o Options, h capture.Handler) *reader {
	if o.Location == nil {
		o.Location = time.UTC
	}
	return &reader{ctx: ctx, name: name, opts: o, h: h, stats: capture.Stats{Files: 1}, reqs: make(map[txKey][2]netip.AddrPort)}
}

// line handles one physical line (with its line break).
func (r *reader) line(b []byte) {
	r.lineNo++
	r.stats.Frames++
	b = bytes.TrimRight(b, "\n")
	b = bytes.TrimSuffix(b, []byte("\r"))
	r.process(string(b), true)
}

func (r *reader) finish() {
	r.endExpect()
	r.flush()
	r.endSkip()
	r.release()
}

// warn records a warning for the line n.
func (r *reader) warn(n int, err error) {
	if r.warnFull {
		return
	}
	if len(r.stats.Warnings) >= capture.MaxWarnings-1 {
		r.stats.Warnings = append(r.stats.Warnings, capture.Warning{File: r.name, Frame: n, Offset: -1, Err: capture.ErrMaxWarnings})
		r.warnFull = true
		return
	}
	r.stats.Warnings = append(r.stats.Warnings, capture.Warning{File: r.name, Frame: n, Offset: -1, Err: err})
}

// skip counts line n as not part of any message.
func (r *reader) skip(n int) {
	if r.skipTo == n-1 && r.skipFrom > 0 {
		r.skipTo = n
		return
	}
	r.endSkip()
	r.skipFrom, r.skipTo = n, n
}

func (r *reader) endSkip() {
	if r.skipFrom == 0 {
		return
	}
	if r.skipFrom == r.skipTo {
		r.warn(r.skipFrom, fmt.Errorf("%w: line %d is not part of a SIP message", ErrSkipped, r.skipFrom))
	} else {
		r.warn(r.skipFrom, fmt.Errorf("%w: lines %d-%d are not part of a SIP message", ErrSkipped, r.skipFrom, r.skipTo))
	}
	r.skipFrom, r.skipTo = 0, 0
}

// endExpect gives up on a record header that never got its message.
func (r *reader) endExpect() {
	if r.expect == nil {
		return
	}
	e := r.expect
	r.expect = nil
	switch {
	case e.media:
		r.stats.MediaPackets++
	case e.tcpdump:
		// a non-UDP packet (ARP, ICMP, TCP without payload...): a record, not SIP
	case e.soft:
		r.skip(e.line) // a log line that only looked like an xlog record
	default:
		r.warn(e.line, fmt.Errorf("%w: %s record at line %d has no SIP message", ErrNotSIP, e.format, e.line))
	}
}

// process handles the text of line r.lineNo (or the rest of it, when a
// message ended inside the line).
func (r *reader) process(l string, whole bool) {
	n := r.lineNo
	// tcpdump -X hex lines.
	if r.cur != nil && r.cur.hexMode {
		if hexLine(l, &r.cur.hex) {
			return
		}
		r.flush()
	}
	if r.expect != nil && r.expect.tcpdump {
		if hexLine(l, nil) {
			p := &pending{meta: *r.expect, start: n, cl: -1, hexMode: true}
			hexLine(l, &p.hex)
			r.expect = nil
			r.cur = p
			return
		}
		if r.expect.wait > 0 && !r.expect.src.IsValid() {
			if src, dst, tr, ok := tcpdumpAddrLine(l); ok {
				r.expect.src, r.expect.dst = src, dst
				if tr != 0xff {
					r.expect.transport, r.expect.hasTrans = capture.Transport(tr), true
				}
				r.expect.media = tr == uint8(capture.UDP)
				return
			}
		}
	}
	// End markers.
	if r.cur != nil && r.cur.end == endMarker && (l == r.cur.marker || strings.TrimSpace(l) == r.cur.marker) {
		r.flush()
		return
	}
	if r.cur == nil && r.expect != nil && r.expect.dashes && isDashes(l) {
		return // the dashed line before the message
	}
	if r.cur != nil && r.cur.dashes && isDashes(l) {
		r.flush()
		return
	}
	// Record headers.
	ciscoDir := r.expect != nil && r.expect.format == FormatCisco && isCiscoDir(l)
	if (r.cur == nil || r.cur.end != endMarker || r.cur.complete) && !ciscoDir {
		if h, ok := recognise(l, r.opts.Format, n); ok {
			r.flush()
			r.endExpect()
			r.endSkip()
			r.fixTime(&h)
			h.line = n
			r.expect = &h
			return
		}
	}
	if r.cur != nil {
		if rest, ok := r.appendLine(l); ok {
			if r.cur != nil {
				r.cur.last = n
			}
			if rest != "" {
				r.process(rest, false)
			}
			return
		}
		if r.cur != nil && !r.cur.inBody && r.cur.cl <= 0 && !r.cur.syslog {
			r.cur.complete = true // the blank line after the headers was lost
		}
		r.flush()
	}
	if r.expect != nil {
		if r.startFromExpect(l) {
			return
		}
	}
	// A message start anywhere: bare, after a syslog/log prefix.
	if r.startBare(l) {
		return
	}
	if strings.TrimSpace(l) == "" {
		// blank lines between records carry nothing; inside a run of
		// skipped lines they join it
		if whole && r.skipFrom > 0 && r.skipTo == n-1 {
			r.skipTo = n
		}
		return
	}
	if whole {
		r.skip(n)
		// a dated log line (FreeSWITCH, Asterisk) dates the time-of-day
		// stamps that follow it
		if st, k := parseStamp(l); k > 0 && st.year > 0 {
			r.place(st)
		}
	}
}

// startFromExpect looks for the message start line announced by a record
// header.
func (r *reader) startFromExpect(l string) bool {
	e := r.expect
	n := r.lineNo
	t := strings.TrimSpace(l)
	if e.format == FormatCisco {
		switch strings.TrimSuffix(t, ":") {
		case "Received":
			e.src, e.dst, e.dir = netip.AddrPort{}, netip.AddrPort{}, dirRx
			return true
		case "Sent":
			e.dir = dirTx
			return true
		}
	}
	if e.tcpdump && e.wait > 0 && (strings.HasPrefix(t, "(") || t == "") {
		e.wait--
		return true
	}
	i, _, ok := findStartIn(l, e.tcpdump)
	if ok && (i == 0 || strings.TrimSpace(l[:i]) == "" || e.tcpdump) {
		p := &pending{meta: *e, start: n, cl: -1}
		p.indent = l[:i]
		if strings.TrimSpace(p.indent) != "" {
			p.indent = "" // tcpdump -A: header bytes before the start line
		}
		switch {
		case e.marker != "" || e.dashes:
			p.end = endMarker
			if e.dashes {
				p.marker = "\x00" // dashes handled apart
			}
		case e.tcpdump && p.indent == "\t":
			p.end = endIndent
		}
		r.expect = nil
		r.cur = p
		p.lines = append(p.lines, l[i:])
		r.splitRunTogether(p)
		return true
	}
	if e.wait > 0 {
		e.wait--
		return true // part of the record (tcpdump header bytes, a log line's tail)
	}
	r.endExpect()
	return false
}

// startBare starts a message at a SIP start line found in l without a
// record header: plain SIP, syslog and other prefixed log lines.
func (r *reader) startBare(l string) bool {
	i, pre, ok := findStart(l)
	if !ok {
		return false
	}
	n := r.lineNo
	m := meta{format: FormatRaw, line: n, length: -1}
	sl, isSyslog := parseSyslogPrefix(pre, r.opts.Year, r.opts.Location)
	forced := r.opts.Format
	if isSyslog && (forced == FormatAuto || forced == FormatSyslog) {
		m.format = FormatSyslog
		m.time = r.place(sl.st)
	} else if strings.TrimSpace(pre) != "" && !plausiblePrefix(pre) {
		return false
	} else if x, ok := parseXlog(pre); ok && (forced == FormatAuto || forced == FormatRaw) {
		// "... received from 10.0.0.1:5060: INVITE sip:..." on one line
		m.src, m.dst, m.transport, m.hasTrans = x.src, x.dst, x.transport, x.hasTrans
		if x.st.ok {
			m.time = r.place(x.st)
		}
	}
	p := &pending{meta: m, start: n, cl: -1}
	rest := l[i:]
	if parts := splitEscaped(rest); len(parts) > 1 {
		p.syslog = true
		p.host = sl.host
		p.lines = append(p.lines, parts[0])
		r.cur = p
		for _, s := range parts[1:] {
			r.addText(p, s)
		}
		return true
	}
	if strings.TrimSpace(pre) == "" {
		p.indent = pre
	}
	p.lines = append(p.lines, rest)
	r.cur = p
	r.splitRunTogether(p)
	return true
}

// splitRunTogether splits a start line that runs on into its headers
// ("INVITE sip:x SIP/2.0 Via: ... From: ...", a web page that lost the line
// breaks).
func (r *reader) splitRunTogether(p *pending) {
	first := p.lines[0]
	parts := splitKnownHeaders(first)
	if len(parts) < 2 {
		return
	}
	p.lines[0] = parts[0]
	for _, s := range parts[1:] {
		r.addText(p, s)
	}
}

// addText adds one logical line to p without the record-level checks.
func (r *reader) addText(p *pending, s string) {
	if p.inBody {
		p.body = append(p.body, s)
		p.bodyLen += len(s) + 2
		return
	}
	if s == "" {
		p.inBody, p.blank = true, true
		return
	}
	r.addHeader(p, s)
}

func (r *reader) addHeader(p *pending, s string) {
	p.lines = append(p.lines, s)
	name, val, ok := strings.Cut(s, ":")
	if !ok {
		return
	}
	name = strings.TrimSpace(name)
	switch {
	case strings.EqualFold(name, "Content-Length") || name == "l":
		cl := 0
		val = strings.TrimSpace(val)
		if val == "" {
			return
		}
		for _, c := range val {
			if c < '0' || c > '9' || cl > 1<<24 {
				return
			}
			cl = cl*10 + int(c-'0')
		}
		p.cl = cl
	case strings.EqualFold(name, "Content-Type") || name == "c":
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(val)), "multipart/") {
			p.multi = true
		}
	}
}

// appendLine tries to add line l to the current message. It returns false
// when l does not belong to it (the caller flushes and reprocesses l), and
// a non-empty rest when the message ended inside l and rest begins another.
func (r *reader) appendLine(l string) (rest string, ok bool) {
	p := r.cur
	if p.complete {
		return "", false
	}
	if p.syslog {
		return "", r.syslogContinuation(p, l)
	}
	s := l
	switch {
	case p.indent != "" && strings.HasPrefix(s, p.indent):
		s = s[len(p.indent):]
	case p.end == endIndent:
		return "", false
	case p.dashes:
		s = strings.TrimPrefix(s, "   ")
	}
	if p.end == endMarker {
		r.addText(p, s)
		return "", true
	}
	if !p.inBody {
		t := strings.TrimSpace(s)
		switch {
		case s == "" || t == "" && p.end == endIndent:
			if p.cl == 0 || (p.cl < 0 && p.format == FormatRaw) {
				p.complete = true
				r.flush()
				return "", true
			}
			p.inBody, p.blank = true, true
			if p.cl < 0 && p.end != endIndent && !p.tcpdump {
				// no Content-Length: a body follows only if it looks like one
				p.complete = true
				r.flush()
			}
			return "", true
		case isStartLine(s):
			return "", false
		case p.cl > 0 && len(s) > p.cl && isStartLine(s[p.cl:]):
			// "selamSIP/2.0 200 OK": blank line lost, next message runs on after the body
			p.inBody, p.blank = true, true
			p.body = append(p.body, s[:p.cl])
			p.bodyLen = p.cl
			p.complete = true
			r.flush()
			return s[p.cl:], true
		case s[0] == ' ' || s[0] == '\t':
			if len(p.lines) > 1 {
				p.lines = append(p.lines, s)
				return "", true
			}
			return "", false
		case isSDPLine(s) && (p.cl > 0 || p.cl < 0 && p.tcpdump):
			// the blank line before the body was lost
			p.inBody = true
			return r.appendBody(p, s)
		case isHeaderLine(s):
			parts := splitKnownHeaders(s)
			for _, h := range parts {
				r.addHeader(p, h)
			}
			return "", true
		case p.tcpdump || p.format != FormatRaw && p.format != FormatSyslog && p.format != FormatCisco:
			r.addHeader(p, s) // a malformed header line inside a framed record: sip.Parse reports it
			return "", true
		}
		return "", false
	}
	return r.appendBody(p, s)
}

// appendBody adds a body line.
func (r *reader) appendBody(p *pending, s string) (string, bool) {
	remaining := p.cl - p.bodyLen
	if p.cl >= 0 && remaining <= 0 {
		p.complete = true
		r.flush()
		return "", false
	}
	if s == "" {
		if p.multi && remaining > 0 || p.cl < 0 && p.tcpdump {
			p.body = append(p.body, s)
			p.bodyLen += 2
			return "", true
		}
		if p.cl > 0 && remaining > 0 && len(p.body) == 0 {
			return "", true // blank lines doubled by a logger
		}
		p.complete = true
		r.flush()
		return "", true
	}
	if p.cl > 0 && remaining > 0 && remaining < len(s) {
		// "selamSIP/2.0 200 OK": the next message runs on after the body
		if isStartLine(s[remaining:]) {
			p.body = append(p.body, s[:remaining])
			p.bodyLen += remaining
			p.complete = true
			r.flush()
			return s[remaining:], true
		}
	}
	if isStartLine(s) && !(p.tcpdump && remaining > 0 && p.end != endContent) {
		return "", false
	}
	if p.format == FormatRaw || p.format == FormatCisco || p.format == FormatSyslog {
		// unframed text: a body line must look like one
		if !isSDPLine(s) && !(remaining > 0 && len(s) <= remaining) {
			return "", false
		}
	}
	p.body = append(p.body, s)
	p.bodyLen += len(s) + 2
	if p.cl >= 0 && p.bodyLen >= p.cl {
		p.complete = true
		r.flush()
	}
	return "", true
}

// syslogContinuation joins a syslog line that continues the current
// one-line message (a logger that split a long message).
func (r *reader) syslogContinuation(p *pending, l string) bool {
	if _, _, ok := findStart(l); ok {
		return false
	}
	sl, ok := parseSyslogPrefix(l, r.opts.Year, r.opts.Location)
	if !ok || sl.host != p.host || sl.rest == "" {
		return false
	}
	parts := splitEscaped(sl.rest)
	if len(parts) == 0 {
		return false
	}
	// the first part continues the last line
	if p.inBody && len(p.body) > 0 {
		p.body[len(p.body)-1] += parts[0]
		p.bodyLen += len(parts[0])
	} else if !p.inBody && len(p.lines) > 0 {
		p.lines[len(p.lines)-1] += parts[0]
	}
	for _, s := range parts[1:] {
		r.addText(p, s)
	}
	return true
}

// flush emits the current message, if any.
func (r *reader) flush() {
	p := r.cur
	if p == nil {
		return
	}
	r.cur = nil
	var raw []byte
	if p.hexMode {
		raw = payloadFromPacket(p.hex)
		if raw == nil {
			if p.media {
				r.stats.MediaPackets++
			}
			return
		}
	} else {
		if len(p.lines) > 0 {
			p.lines[0] = repairStart(p.lines[0])
		}
		if (p.syslog || p.end == endMarker) && !p.inBody && p.cl <= 0 {
			p.complete = true // the line ended the message
		}
		if (p.format == FormatRaw || p.format == FormatSyslog) && len(p.lines) < 2 && len(p.body) == 0 {
			// a start line alone, without a header: prose quoting one
			last := max(p.last, p.start)
			for n := p.start; n <= last; n++ {
				r.skip(n)
			}
			return
		}
		raw = p.text()
	}
	r.emit(p, raw)
}

// text rebuilds the message with CRLF line ends.
func (p *pending) text() []byte {
	size := 0
	for _, s := range p.lines {
		size += len(s) + 2
	}
	size += 2 + p.bodyLen + 2
	b := make([]byte, 0, size)
	for _, s := range p.lines {
		b = append(b, s...)
		b = append(b, '\r', '\n')
	}
	if !p.inBody && !p.blank && len(p.body) == 0 && !p.complete {
		return b // cut before the blank line: keep it as cut
	}
	b = append(b, '\r', '\n')
	if len(p.body) == 0 {
		return b
	}
	start := len(b)
	for _, s := range p.body {
		b = append(b, s...)
		b = append(b, '\r', '\n')
	}
	if p.cl >= 0 && len(b)-start == p.cl+2 {
		b = b[:len(b)-2] // the body had no final line break
	}
	return b
}

func (r *reader) emit(p *pending, raw []byte) {
	r.endSkip()
	m := &capture.Message{File: r.name, Frame: p.start, Time: p.time, Src: p.src, Dst: p.dst, Transport: p.transport, FromLog: true}
	ok := func() (ok bool) {
		defer func() {
			if v := recover(); v != nil {
				r.warn(p.start, fmt.Errorf("%w: line %d: %v", ErrPanic, p.start, v))
				ok = false
			}
		}()
		if err := sip.Parse(raw, &m.SIP); err != nil {
			r.warn(p.start, fmt.Errorf("%w: line %d: %v", ErrNotSIP, p.start, err))
			return false
		}
		return true
	}()
	if !ok {
		return
	}
	// the far end, as the log names it, before anything is inferred
	peer := m.Src
	if p.dir == dirTx {
		peer = m.Dst
	}
	r.infer(m, p.hasTrans, p.dir)
	if len(m.SIP.Problems) > 0 {
		r.stats.Broken++
	}
	truncated := p.length > 0 && len(raw) < p.length
	for _, pr := range m.SIP.Problems {
		if errorsIs(pr.Err, sip.ErrTruncated) {
			truncated = true
		}
	}
	if truncated {
		if p.length > 0 {
			r.warn(p.start, fmt.Errorf("%w: line %d: %d of %d bytes logged", ErrTruncated, p.start, len(raw), p.length))
		} else {
			r.warn(p.start, fmt.Errorf("%w: line %d: body shorter than Content-Length %d", ErrTruncated, p.start, m.SIP.ContentLength))
		}
	}
	r.stats.SIPMessages++
	local := m.Dst
	if p.dir == dirTx {
		local = m.Src
	}
	switch {
	case p.dir != dirNone && !local.IsValid():
		r.hold(m, p.format, p.dir, peer)
	case len(r.held) > 0:
		r.hold(m, p.format, dirNone, peer) // keep the order
	default:
		r.h.SIP(m)
	}
}

// infer fills what the message says about its addresses and transport when
// the log did not. The local side of a message a box logged (dir) is left
// to release, which knows the box's address from the whole log.
func (r *reader) infer(m *capture.Message, hasTrans bool, dir direction) {
	s := &m.SIP
	var via *sip.Via
	if len(s.Via) > 0 {
		via = &s.Via[0]
	}
	if !hasTrans && via != nil {
		switch via.Transport {
		case "TCP":
			m.Transport = capture.TCP
		case "TLS":
			m.Transport = capture.TLS
		case "WS":
			m.Transport = capture.WS
		case "WSS":
			m.Transport = capture.WSS
		case "SCTP":
			m.Transport = capture.SCTP
		}
	}
	key := txKey{callID: s.CallID, cseq: s.CSeq}
	if via != nil {
		key.branch = via.Branch
	}
	if s.Request {
		if !m.Src.IsValid() && via != nil && dir != dirTx {
			m.Src = viaAddr(via, m.Transport)
		}
		if s.CallID != "" && (m.Src.IsValid() || m.Dst.IsValid()) {
			if len(r.reqs) > 4096 {
				clear(r.reqs)
			}
			r.reqs[key] = [2]netip.AddrPort{m.Src, m.Dst}
		}
		return
	}
	if a, ok := r.reqs[key]; ok {
		if !m.Dst.IsValid() && dir != dirRx {
			m.Dst = a[0]
		}
		if !m.Src.IsValid() && dir != dirTx {
			m.Src = a[1]
		}
	}
	if !m.Dst.IsValid() && via != nil && dir != dirRx {
		m.Dst = viaAddr(via, m.Transport)
	}
}

// viaAddr is where a Via says its sender is: received/rport when present,
// else sent-by; only IP literals count (a name would need DNS).
func viaAddr(v *sip.Via, tr capture.Transport) netip.AddrPort {
	host := v.Host
	if v.Received != "" {
		host = v.Received
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return netip.AddrPort{}
	}
	port := v.Port
	if v.RPort > 0 {
		port = v.RPort
	}
	if port <= 0 || port > 65535 {
		port = 5060
		if tr == capture.TLS || v.Transport == "TLS" {
			port = 5061
		}
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(port))
}
