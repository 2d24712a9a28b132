package textlog

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/sipflow/sipflow/parse/capture"
	"github.com/sipflow/sipflow/parse/sip"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// stamp is a timestamp read from a log line before it is placed in time.
type stamp struct {
	year, month, day int // year 0: unknown; month 0: time of day only
	h, m, s, ns      int
	loc              *time.Location // explicit zone (RFC 5424, ISO), nil: the log's
	ok               bool
}

var months = map[string]int{"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6, "Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12}

// fixTime places a record header's stamp in time.
func (r *reader) fixTime(m *meta) {
	if !m.st.ok {
		return
	}
	m.time = r.place(m.st)
}

// place turns a stamp into a UTC time: a full date as given (the year from
// Options.Year when the log has none), a time of day on the date of the last
// dated line, or on 0001-01-01 (date unknown) rolling over at midnight.
func (r *reader) place(st stamp) time.Time {
	loc := r.opts.Location
	if st.loc != nil {
		loc = st.loc
	}
	if st.month != 0 {
		y := st.year
		if y == 0 {
			y = r.opts.Year
		}
		if y == 0 {
			y = 1
		}
		t := time.Date(y, time.Month(st.month), st.day, st.h, st.m, st.s, st.ns, loc).UTC()
		if y > 1 {
			r.lastDate = t
		}
		return t
	}
	if !r.lastDate.IsZero() {
		d := r.lastDate.In(loc)
		t := time.Date(d.Year(), d.Month(), d.Day(), st.h, st.m, st.s, st.ns, loc).UTC()
		if t.Before(r.lastDate.Add(-12 * time.Hour)) {
			t = t.AddDate(0, 0, 1)
		}
		r.lastDate = t
		return t
	}
	t := time.Date(1, 1, 1, st.h, st.m, st.s, st.ns, time.UTC)
	for !r.lastTOD.IsZero() && t.Before(r.lastTOD.Add(-12*time.Hour)) {
		t = t.AddDate(0, 0, 1)
	}
	r.lastTOD = t
	return t
}

// clock parses "HH:MM:SS[.frac]" at the start of s.
func clock(s string) (h, m, sec, ns, n int, ok bool) {
	if len(s) < 8 || s[2] != ':' || s[5] != ':' {
		return
	}
	h, e1 := strconv.Atoi(s[0:2])
	m, e2 := strconv.Atoi(s[3:5])
	sec, e3 := strconv.Atoi(s[6:8])
	if e1 != nil || e2 != nil || e3 != nil || h > 23 || m > 59 || sec > 60 {
		return
	}
	n = 8
	if n < len(s) && (s[n] == '.' || s[n] == ',') {
		j := n + 1
		for j < len(s) && j-n-1 < 9 && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j > n+1 {
			frac := s[n+1 : j]
			v, _ := strconv.Atoi(frac)
			for k := len(frac); k < 9; k++ {
				v *= 10
			}
			ns = v
			n = j
		}
	}
	return h, m, sec, ns, n, true
}

// isoDate parses "YYYY-MM-DD" at the start of s.
func isoDate(s string) (y, mo, d int, ok bool) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return
	}
	y, e1 := strconv.Atoi(s[0:4])
	mo, e2 := strconv.Atoi(s[5:7])
	d, e3 := strconv.Atoi(s[8:10])
	if e1 != nil || e2 != nil || e3 != nil || mo < 1 || mo > 12 || d < 1 || d > 31 {
		return
	}
	return y, mo, d, true
}

// parseStamp reads a timestamp at the start of s: "YYYY-MM-DD[T ]HH:MM:SS[.f][zone]",
// "Mmm dd [yyyy ]HH:MM:SS[.f]", "dd Mmm yyyy HH:MM:SS" or "HH:MM:SS[.f]".
// It returns the stamp and the length read.
func parseStamp(s string) (st stamp, n int) {
	if y, mo, d, ok := isoDate(s); ok && len(s) > 11 && (s[10] == ' ' || s[10] == 'T') {
		h, m, sec, ns, k, ok := clock(s[11:])
		if !ok {
			return stamp{}, 0
		}
		st = stamp{year: y, month: mo, day: d, h: h, m: m, s: sec, ns: ns, ok: true}
		n = 11 + k
		// zone
		if n < len(s) && s[n] == 'Z' {
			st.loc = time.UTC
			n++
		} else if n+6 <= len(s) && (s[n] == '+' || s[n] == '-') && s[n+3] == ':' {
			hh, e1 := strconv.Atoi(s[n+1 : n+3])
			mm, e2 := strconv.Atoi(s[n+4 : n+6])
			if e1 == nil && e2 == nil {
				off := hh*3600 + mm*60
				if s[n] == '-' {
					off = -off
				}
				st.loc = time.FixedZone("", off)
				n += 6
			}
		}
		return st, n
	}
	if mo, ok := months[prefix3(s)]; ok && len(s) > 4 && s[3] == ' ' {
		i := 4
		for i < len(s) && s[i] == ' ' {
			i++
		}
		j := i
		for j < len(s) && j-i < 2 && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		d, err := strconv.Atoi(s[i:j])
		if err != nil || j >= len(s) || s[j] != ' ' || d < 1 || d > 31 {
			return stamp{}, 0
		}
		j++
		y := 0
		if len(s) >= j+5 && s[j+4] == ' ' {
			if v, err := strconv.Atoi(s[j : j+4]); err == nil && v > 1900 {
				y, j = v, j+5
			}
		}
		h, m, sec, ns, k, ok := clock(s[j:])
		if !ok {
			return stamp{}, 0
		}
		return stamp{year: y, month: mo, day: d, h: h, m: m, s: sec, ns: ns, ok: true}, j + k
	}
	// "27 Jul 2014 08:02:21"
	if len(s) > 12 && s[0] >= '0' && s[0] <= '9' {
		i := 0
		for i < len(s) && i < 2 && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i < len(s) && s[i] == ' ' {
			if mo, ok := months[prefix3(s[i+1:])]; ok && len(s) > i+10 && s[i+4] == ' ' {
				d, _ := strconv.Atoi(s[:i])
				y, err := strconv.Atoi(s[i+5 : i+9])
				if err == nil && s[i+9] == ' ' {
					h, m, sec, ns, k, ok := clock(s[i+10:])
					if ok {
						return stamp{year: y, month: mo, day: d, h: h, m: m, s: sec, ns: ns, ok: true}, i + 10 + k
					}
				}
			}
		}
	}
	if h, m, sec, ns, k, ok := clock(s); ok {
		return stamp{h: h, m: m, s: sec, ns: ns, ok: true}, k
	}
	return stamp{}, 0
}

func prefix3(s string) string {
	if len(s) < 3 {
		return ""
	}
	return s[:3]
}

// recognise reports whether l is a record header of a known format (or of
// the forced one) and what it says.
func recognise(l string, forced Format, n int) (meta, bool) {
	allow := func(f Format) bool { return forced == FormatAuto || forced == f }
	if len(l) < 8 {
		return meta{}, false
	}
	if allow(FormatTcpdump) {
		if m, ok := tcpdumpHeader(l); ok {
			return m, true
		}
	}
	if allow(FormatAsterisk) {
		if m, ok := asteriskHeader(l); ok {
			return m, true
		}
	}
	if allow(FormatFreeSWITCH) {
		if m, ok := freeswitchHeader(l); ok {
			return m, true
		}
	}
	if allow(FormatCisco) {
		if m, ok := ciscoHeader(l); ok {
			return m, true
		}
	}
	if allow(FormatFireBrick) {
		if m, ok := firebrickHeader(l); ok {
			return m, true
		}
	}
	if allow(FormatRaw) {
		if m, ok := xlogHeader(l); ok {
			return m, true
		}
	}
	return meta{}, false
}

// tcpdumpHeader: "HH:MM:SS.ffffff IP a.b.c.d.p > e.f.g.h.p: UDP, length N",
// "... IP (tos ...)" (-v: addresses on the next line), IP6, -tttt dates,
// -tt epoch seconds, and other link-layer records (ARP...).
func tcpdumpHeader(l string) (meta, bool) {
	st, n := parseStamp(l)
	if n == 0 {
		// -tt: "1700000000.123456 IP ..."
		i := 0
		for i < len(l) && l[i] >= '0' && l[i] <= '9' {
			i++
		}
		if i < 9 || i >= len(l) || l[i] != '.' {
			return meta{}, false
		}
		j := i + 1
		for j < len(l) && l[j] >= '0' && l[j] <= '9' {
			j++
		}
		sec, _ := strconv.ParseInt(l[:i], 10, 64)
		frac := l[i+1 : j]
		ns, _ := strconv.Atoi(frac)
		for k := len(frac); k < 9; k++ {
			ns *= 10
		}
		t := time.Unix(sec, int64(ns)).UTC()
		st = stamp{year: t.Year(), month: int(t.Month()), day: t.Day(), h: t.Hour(), m: t.Minute(), s: t.Second(), ns: t.Nanosecond(), loc: time.UTC, ok: true}
		n = j
	}
	if st.month != 0 && st.year == 0 {
		return meta{}, false // "Mmm dd": syslog or Cisco, not tcpdump
	}
	if n >= len(l) || l[n] != ' ' {
		return meta{}, false
	}
	rest := l[n+1:]
	word, after, _ := strings.Cut(rest, " ")
	if word == "" || !isUpperWord(strings.TrimRight(word, ",")) {
		return meta{}, false
	}
	m := meta{format: FormatTcpdump, st: st, length: -1, tcpdump: true, wait: 8}
	if word != "IP" && word != "IP6" {
		m.wait = 4
		return m, true // ARP, STP...: a record that is not SIP
	}
	if strings.HasPrefix(after, "(") {
		// -v: "IP (tos 0x0, ttl 64, ..., proto UDP (17), length 634)", the
		// addresses on the next line; IP6 has them after the parenthesis
		if strings.Contains(after, "proto UDP") || strings.Contains(after, "next-header UDP") {
			m.transport, m.hasTrans, m.media = capture.UDP, true, true
		} else if strings.Contains(after, "proto TCP") || strings.Contains(after, "next-header TCP") {
			m.transport, m.hasTrans = capture.TCP, true
		}
		if k := closeParen(after); k > 0 && k+2 < len(after) {
			if src, dst, tr, ok := tcpdumpAddrs(after[k+2:]); ok {
				m.src, m.dst = src, dst
				if tr != 0xff && !m.hasTrans {
					m.transport, m.hasTrans = capture.Transport(tr), true
				}
			}
		}
		return m, true
	}
	src, dst, tr, ok := tcpdumpAddrs(after)
	if !ok {
		m.wait = 4
		return m, true // ICMP, IGMP...: addresses without ports, not SIP
	}
	m.src, m.dst = src, dst
	if tr != 0xff {
		m.transport, m.hasTrans = capture.Transport(tr), true
		m.media = tr == uint8(capture.UDP)
	}
	return m, true
}

func isUpperWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '/') {
			return false
		}
	}
	return s[0] >= 'A' && s[0] <= 'Z'
}

// tcpdumpAddrLine is the second line of -v output: "    a.b.c.d.p > e.f.g.h.p: ...".
func tcpdumpAddrLine(l string) (src, dst netip.AddrPort, tr uint8, ok bool) {
	if !strings.HasPrefix(l, " ") {
		return
	}
	return tcpdumpAddrs(strings.TrimLeft(l, " \t"))
}

// tcpdumpAddrs parses "a.b.c.d.p > e.f.g.h.p: rest" and guesses the transport
// (0xff: unknown).
func tcpdumpAddrs(s string) (src, dst netip.AddrPort, tr uint8, ok bool) {
	a, rest, ok1 := strings.Cut(s, " > ")
	b, info, ok2 := strings.Cut(rest, ": ")
	if !ok1 || !ok2 {
		if ok1 && strings.HasSuffix(rest, ":") {
			b, info, ok2 = strings.TrimSuffix(rest, ":"), "", true
		}
		if !ok1 || !ok2 {
			return
		}
	}
	src, ok1 = dottedAddrPort(a)
	dst, ok2 = dottedAddrPort(b)
	if !ok1 || !ok2 {
		return src, dst, 0, false
	}
	tr = 0xff
	switch {
	case strings.Contains(info, "Flags ["):
		tr = uint8(capture.TCP)
	case strings.Contains(info, "UDP") || strings.HasPrefix(info, "SIP") || strings.Contains(info, "] SIP"):
		tr = uint8(capture.UDP)
	}
	return src, dst, tr, true
}

// dottedAddrPort parses tcpdump's "10.0.0.1.5060" and "fd00::1.5060".
func dottedAddrPort(s string) (netip.AddrPort, bool) {
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return netip.AddrPort{}, false
	}
	a, err := netip.ParseAddr(s[:i])
	p, err2 := strconv.ParseUint(s[i+1:], 10, 16)
	if err != nil || err2 != nil {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a, uint16(p)), true
}

// logStamp reads an Asterisk/Cisco style prefix stamp anywhere before pos:
// "[Mmm dd hh:mm:ss]", "[YYYY-MM-DD hh:mm:ss]", "*Mar  1 00:55:49.983:".
func logStamp(pre string) stamp {
	s := strings.TrimLeft(pre, " \t*.")
	s = strings.TrimPrefix(s, "[")
	st, n := parseStamp(s)
	if n == 0 {
		return stamp{}
	}
	return st
}

// asteriskHeader: pjsip logger and chan_sip debug record headers.
func asteriskHeader(l string) (meta, bool) {
	if i := strings.Index(l, "<--- "); i >= 0 {
		s := l[i+5:]
		var dirFrom bool
		switch {
		case strings.HasPrefix(s, "Received SIP "):
			dirFrom = true
		case strings.HasPrefix(s, "Transmitting SIP "):
		case strings.HasPrefix(s, "SIP read from "):
			addr := strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(s, "SIP read from ")), "--->")
			m := meta{format: FormatAsterisk, st: logStamp(l[:i]), length: -1, marker: "<------------->", wait: 2, dir: dirRx}
			m.src, m.transport, m.hasTrans = typedAddr(strings.TrimSpace(addr))
			return m, true
		case strings.HasPrefix(s, "Transmitting (") || strings.HasPrefix(s, "Reliably Transmitting ("):
			// chan_sip send_response: "<--- Reliably Transmitting (no NAT) to 10.0.0.1:5060 --->"
			// ... "<------------>"
			_, addr, ok := strings.Cut(s, ") to ")
			if !ok {
				return meta{}, false
			}
			a, err := netip.ParseAddrPort(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(addr), "--->")))
			if err != nil {
				return meta{}, false
			}
			return meta{format: FormatAsterisk, st: logStamp(l[:i]), length: -1, marker: "<------------>", dst: a, wait: 2, dir: dirTx}, true
		default:
			return meta{}, false
		}
		m := meta{format: FormatAsterisk, st: logStamp(l[:i]), length: -1, wait: 2, dir: dirTx}
		if dirFrom {
			m.dir = dirRx
		}
		if j := strings.Index(s, "("); j >= 0 {
			if k := strings.Index(s[j:], " bytes)"); k > 0 {
				m.length, _ = strconv.Atoi(s[j+1 : j+k])
			}
		}
		var addr string
		if dirFrom {
			_, addr, _ = strings.Cut(s, ") from ")
		} else {
			_, addr, _ = strings.Cut(s, ") to ")
		}
		addr = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(addr), "--->"))
		a, tr, has := typedAddr(addr)
		m.transport, m.hasTrans = tr, has
		if dirFrom {
			m.src = a
		} else {
			m.dst = a
		}
		return m, true
	}
	// chan_sip: "Transmitting (NAT) to 1.2.3.4:5060:" / "Reliably Transmitting (no NAT) to ..."
	if i := strings.Index(l, "Transmitting ("); i >= 0 && strings.HasSuffix(l, ":") {
		s := l[i:]
		_, addr, ok := strings.Cut(s, ") to ")
		if !ok {
			return meta{}, false
		}
		a, err := netip.ParseAddrPort(strings.TrimSuffix(addr, ":"))
		if err != nil {
			return meta{}, false
		}
		return meta{format: FormatAsterisk, st: logStamp(l[:i]), length: -1, marker: "---", dst: a, wait: 2, dir: dirTx}, true
	}
	return meta{}, false
}

// typedAddr parses "UDP:1.2.3.4:5060", "TLS:[2001:db8::1]:5061".
func typedAddr(s string) (netip.AddrPort, capture.Transport, bool) {
	t, a, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, 0, false
	}
	ap, err := netip.ParseAddrPort(a)
	if err != nil {
		ap = netip.AddrPort{}
	}
	tr, has := transportName(t)
	return ap, tr, has
}

func transportName(t string) (capture.Transport, bool) {
	switch strings.ToUpper(t) {
	case "UDP":
		return capture.UDP, true
	case "TCP":
		return capture.TCP, true
	case "TLS":
		return capture.TLS, true
	case "WS":
		return capture.WS, true
	case "WSS":
		return capture.WSS, true
	case "SCTP":
		return capture.SCTP, true
	}
	return capture.UDP, false
}

// freeswitchHeader: "recv 1234 bytes from udp/[1.2.3.4]:5060 at 12:00:00.123456:"
// and "send 1234 bytes to tcp/[...]:5060 at ...:".
func freeswitchHeader(l string) (meta, bool) {
	i := strings.Index(l, "recv ")
	from := true
	if i < 0 {
		i = strings.Index(l, "send ")
		from = false
	}
	if i < 0 || (i > 0 && l[i-1] != ' ' && l[i-1] != ']') {
		return meta{}, false
	}
	s := l[i+5:]
	num, s, ok := strings.Cut(s, " bytes ")
	if !ok {
		return meta{}, false
	}
	length, err := strconv.Atoi(num)
	if err != nil {
		return meta{}, false
	}
	if from {
		s, ok = strings.CutPrefix(s, "from ")
	} else {
		s, ok = strings.CutPrefix(s, "to ")
	}
	if !ok {
		return meta{}, false
	}
	tname, s, ok := strings.Cut(s, "/")
	if !ok {
		return meta{}, false
	}
	addr, at, _ := strings.Cut(s, " at ")
	addr = strings.TrimSuffix(addr, ":")
	if j := strings.Index(addr, "]:"); j >= 0 {
		// tport_stamp prints "/flowinfo" (IPv6) and ";comp=sigcomp" after the port
		k := j + 2
		for k < len(addr) && isDigit(addr[k]) {
			k++
		}
		if k < len(addr) && (addr[k] == '/' || addr[k] == ';') {
			addr = addr[:k]
		}
	}
	ap, err := parseBracketAddrPort(addr)
	if err != nil {
		return meta{}, false
	}
	m := meta{format: FormatFreeSWITCH, length: length, dashes: true, wait: 2}
	m.transport, m.hasTrans = transportName(tname)
	if from {
		m.src, m.dir = ap, dirRx
	} else {
		m.dst, m.dir = ap, dirTx
	}
	if at != "" {
		m.st, _ = parseStamp(at)
	}
	if !m.st.ok || m.st.month == 0 {
		// a FreeSWITCH log line prefix carries the date
		if st, n := parseStamp(l[:i]); n > 0 && st.month != 0 {
			if m.st.ok {
				st.h, st.m, st.s, st.ns = m.st.h, m.st.m, m.st.s, m.st.ns
			}
			m.st = st
		}
	}
	return m, true
}

func isDashes(l string) bool {
	t := strings.TrimSpace(l)
	return len(t) >= 20 && strings.Trim(t, "-") == ""
}

// ciscoHeader: "*Mar  1 00:55:49.983: //-1/xxxxxxxxxxxx/SIP/Msg/ccsipDisplayMsg:"
// and the bare "Received:" / "Sent:" lines.
func ciscoHeader(l string) (meta, bool) {
	if i := strings.Index(l, "/SIP/Msg/ccsipDisplayMsg:"); i >= 0 {
		pre := l[:i]
		if j := strings.Index(pre, "//"); j >= 0 {
			pre = pre[:j]
		}
		m := meta{format: FormatCisco, st: logStamp(pre), length: -1, wait: 3}
		if strings.HasSuffix(l, "Received:") || strings.Contains(l, "Received:") {
			m.wait, m.dir = 2, dirRx
		} else if strings.Contains(l, "Sent:") {
			m.dir = dirTx
		}
		return m, true
	}
	if isCiscoDir(l) {
		m := meta{format: FormatCisco, length: -1, wait: 2, dir: dirTx}
		if strings.TrimSpace(l) == "Received:" {
			m.dir = dirRx
		}
		return m, true
	}
	return meta{}, false
}

// firebrickHeader: "27 Jul 2014 08:02:21 voip-udp-rx VoIP Rx 17 a.b.c.d:p->e.f.g.h:p".
func firebrickHeader(l string) (meta, bool) {
	i := strings.Index(l, "VoIP Rx ")
	if i < 0 {
		i = strings.Index(l, "VoIP Tx ")
	}
	if i < 0 || !strings.Contains(l[:i], "voip-") {
		return meta{}, false
	}
	f := strings.Fields(l[i+8:])
	if len(f) < 2 {
		return meta{}, false
	}
	a, b, ok := strings.Cut(f[1], "->")
	if !ok {
		return meta{}, false
	}
	src, err1 := netip.ParseAddrPort(a)
	dst, err2 := netip.ParseAddrPort(b)
	if err1 != nil || err2 != nil {
		return meta{}, false
	}
	m := meta{format: FormatFireBrick, src: src, dst: dst, length: -1, wait: 2, dir: dirRx}
	if l[i+5] == 'T' {
		m.dir = dirTx
	}
	switch f[0] {
	case "17":
		m.transport, m.hasTrans = capture.UDP, true
	case "6":
		m.transport, m.hasTrans = capture.TCP, true
	}
	pre := strings.TrimSpace(l[:i])
	if st, n := parseStamp(pre); n > 0 {
		m.st = st
	}
	return m, true
}

// syslogInfo is what a syslog prefix says.
type syslogInfo struct {
	st   stamp
	time time.Time
	host string
	rest string
}

// parseSyslogPrefix reads "<PRI>Mmm dd hh:mm:ss host [tag:] ", RFC 5424
// "<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD " and ISO-stamped variants.
func parseSyslogPrefix(s string, year int, loc *time.Location) (syslogInfo, bool) {
	s = strings.TrimLeft(s, " ")
	if strings.HasPrefix(s, "<") {
		j := strings.IndexByte(s, '>')
		if j < 2 || j > 4 {
			return syslogInfo{}, false
		}
		if _, err := strconv.Atoi(s[1:j]); err != nil {
			return syslogInfo{}, false
		}
		s = s[j+1:]
	}
	rfc5424 := false
	if strings.HasPrefix(s, "1 ") {
		rfc5424, s = true, s[2:]
	}
	st, n := parseStamp(s)
	if n == 0 || st.month == 0 || n >= len(s) || s[n] != ' ' {
		return syslogInfo{}, false
	}
	s = s[n+1:]
	host, rest, _ := strings.Cut(s, " ")
	if host == "" {
		return syslogInfo{}, false
	}
	if rfc5424 {
		// APP PROCID MSGID SD
		f := strings.SplitN(rest, " ", 4)
		if len(f) == 4 {
			rest = f[3]
			if strings.HasPrefix(rest, "- ") {
				rest = rest[2:]
			} else if strings.HasPrefix(rest, "[") {
				if k := strings.Index(rest, "] "); k >= 0 {
					rest = rest[k+2:]
				}
			}
		}
	} else if tag, r2, ok := strings.Cut(rest, " "); ok && strings.HasSuffix(tag, ":") {
		rest = r2
	}
	if loc == nil {
		loc = time.UTC
	}
	if st.loc != nil {
		loc = st.loc
	}
	y := st.year
	if y == 0 {
		y = year
	}
	if y == 0 {
		y = 1
	}
	t := time.Date(y, time.Month(st.month), st.day, st.h, st.m, st.s, st.ns, loc).UTC()
	return syslogInfo{st: st, time: t, host: host, rest: rest}, true
}

// plausiblePrefix reports whether text before a start line on the same line
// looks like a log prefix rather than words run into the message.
func plausiblePrefix(pre string) bool {
	c := pre[len(pre)-1]
	return c == ' ' || c == '\t' || c == ':' || c == '>' || c == ']' || c == '|' || c == '"' || c == '\''
}

// splitEscaped splits a one-line message at escaped line breaks: "^M",
// rsyslog's "#015#012"/"#012", a literal "\r\n", or bare CRs.
func splitEscaped(s string) []string {
	var parts []string
	switch {
	case strings.Contains(s, "#015#012"):
		parts = strings.Split(s, "#015#012")
	case strings.Contains(s, "#012"):
		parts = strings.Split(s, "#012")
	case strings.Contains(s, "^M"):
		parts = strings.Split(s, "^M")
		for i := 1; i < len(parts); i++ {
			parts[i] = strings.TrimPrefix(parts[i], " ")
		}
	case strings.Contains(s, `\r\n`):
		parts = strings.Split(s, `\r\n`)
	case strings.Contains(s, "\r"):
		parts = strings.Split(s, "\r")
		for i := 1; i < len(parts); i++ {
			parts[i] = strings.TrimPrefix(parts[i], "\n")
		}
	default:
		return []string{s}
	}
	if len(parts) > 1 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// findStart finds a SIP start line in l: a status line "SIP/2.0 ddd ..." or
// a request line "METHOD uri SIP/2.0" (possibly running on into headers).
// It returns its offset and the text before it.
func findStart(l string) (int, string, bool) { return findStartIn(l, false) }

// knownMethods trim the bytes tcpdump -A prints before a payload.
var knownMethods = []string{"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK", "SUBSCRIBE", "NOTIFY", "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE"}

// findStartIn is findStart; junk says the start line may follow arbitrary
// bytes (tcpdump -A prints the IP and UDP headers before the payload).
func findStartIn(l string, junk bool) (int, string, bool) {
	off := 0
	for {
		j := strings.Index(l[off:], "SIP/2.0")
		if j < 0 {
			return 0, "", false
		}
		j += off
		off = j + 7
		after := l[j+7:]
		if strings.HasPrefix(after, "/") {
			continue // a Via
		}
		// status line
		if len(after) >= 4 && after[0] == ' ' && isDigit(after[1]) && isDigit(after[2]) && isDigit(after[3]) && (len(after) == 4 || after[4] == ' ') {
			if j == 0 || junk || !isAlnum(l[j-1]) {
				return j, l[:j], true
			}
			continue
		}
		// request line ending here
		if after != "" && (isAlnum(after[0]) || after[0] == '.') {
			continue
		}
		if j < 2 || l[j-1] != ' ' {
			continue
		}
		k := j - 1
		u := k
		for u > 0 && l[u-1] != ' ' {
			u--
		}
		if u > 7 && strings.HasSuffix(l[:u-1], "[email") && l[u:k] == "protected]" {
			// "sip:[email protected]": a web page hid the address
			u -= 7
			for u > 0 && l[u-1] != ' ' {
				u--
			}
		}
		if u == k || u == 0 || !strings.Contains(l[u:k], ":") {
			continue
		}
		mEnd := u - 1
		mStart := mEnd
		for mStart > 0 && l[mStart-1] >= 'A' && l[mStart-1] <= 'Z' {
			mStart--
		}
		if junk && mStart > 0 {
			best := -1
			for _, km := range knownMethods {
				if strings.HasSuffix(l[mStart:mEnd], km) && (best < 0 || len(km) > mEnd-best) {
					best = mEnd - len(km)
				}
			}
			if best >= 0 {
				mStart = best
			}
		}
		if mEnd-mStart < 3 || mEnd-mStart > 16 {
			continue
		}
		if mStart > 0 && isAlnum(l[mStart-1]) && !junk {
			continue
		}
		return mStart, l[:mStart], true
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// isStartLine reports whether s begins with a SIP start line.
func isStartLine(s string) bool {
	i, _, ok := findStart(s)
	return ok && i == 0
}

func isSDPLine(s string) bool {
	return len(s) >= 2 && s[1] == '=' && s[0] >= 'a' && s[0] <= 'z'
}

// isHeaderLine reports whether s looks like "Name: value" (no space before
// the colon: "VIA : explains..." is prose).
func isHeaderLine(s string) bool {
	i := strings.IndexByte(s, ':')
	if i < 1 || i > 64 {
		return false
	}
	c := s[0]
	if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
		return false
	}
	for k := 0; k < i; k++ {
		if !tokenChar(s[k]) {
			return false
		}
	}
	return true
}

func tokenChar(c byte) bool {
	return isAlnum(c) || strings.IndexByte("-.!%*_+`'~", c) >= 0
}

// knownHeaders are split out of lines a web page ran together.
var knownHeaders = []string{
	"Via", "Max-Forwards", "From", "To", "Contact", "Call-ID", "CSeq", "Allow", "Supported",
	"Session-Expires", "Min-SE", "User-Agent", "Content-Type", "Content-Length", "Expires",
	"Route", "Record-Route", "Authorization", "Proxy-Authorization", "WWW-Authenticate",
	"Proxy-Authenticate", "Server", "Date", "Require", "Accept", "Allow-Events", "Event",
	"Subscription-State", "P-Asserted-Identity", "Diversion", "Reason", "Refer-To", "Referred-By",
	"Privacy", "Remote-Party-ID", "P-Preferred-Identity", "Session-ID", "Subject", "Proxy-Require",
}

// splitKnownHeaders splits s before each " Known-Header:" it holds (only
// when there are at least two such pieces or s is a start line).
func splitKnownHeaders(s string) []string {
	if !strings.Contains(s, ": ") && !strings.Contains(s, " Contact:") {
		return []string{s}
	}
	var cuts []int
	for _, h := range knownHeaders {
		pat := " " + h + ":"
		off := 0
		for {
			k := strings.Index(s[off:], pat)
			if k < 0 {
				break
			}
			k += off
			e := k + len(pat)
			if e == len(s) || s[e] == ' ' {
				cuts = append(cuts, k)
			}
			off = e
		}
	}
	if len(cuts) == 0 {
		return []string{s}
	}
	// only split where the part before is a complete header or start line
	sortInts(cuts)
	var parts []string
	prev := 0
	for _, c := range cuts {
		if c <= prev {
			continue
		}
		parts = append(parts, s[prev:c])
		prev = c + 1
	}
	parts = append(parts, s[prev:])
	if len(parts) < 3 && !isStartLine(parts[0]) {
		return []string{s}
	}
	return parts
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// hexLine parses a tcpdump -X line "\t0x0010:  0a63 0003 13ce ...  ascii",
// appending its bytes to *dst when dst is not nil.
func hexLine(l string, dst *[]byte) bool {
	s := strings.TrimLeft(l, " \t")
	if len(s) < 10 || !strings.HasPrefix(s, "0x") || s[6] != ':' || l == s {
		return false
	}
	if _, err := hex.DecodeString(s[2:6]); err != nil {
		return false
	}
	s = strings.TrimLeft(s[7:], " ")
	var buf [16]byte
	n := 0
	for len(s) >= 2 && n < 16 {
		g := s
		if sp := strings.IndexByte(g, ' '); sp >= 0 {
			g = g[:sp]
		}
		if len(g) != 4 && len(g) != 2 || n+len(g)/2 > len(buf) {
			break // not a hex group, or more than 16 bytes on the line
		}
		k, err := hex.Decode(buf[n:], []byte(g))
		if err != nil {
			break
		}
		n += k
		s = s[len(g):]
		if strings.HasPrefix(s, "  ") || s == "" {
			break
		}
		s = s[1:]
	}
	if n == 0 {
		return false
	}
	if dst != nil {
		*dst = append(*dst, buf[:n]...)
	}
	return true
}

// payloadFromPacket finds the SIP text in a packet dumped by tcpdump -X
// (from the IP header) or -XX (from the link header). It returns a copy, or
// nil when the packet holds no SIP.
func payloadFromPacket(b []byte) []byte {
	if len(b) >= 20 {
		var off int
		var proto byte
		switch b[0] >> 4 {
		case 4:
			off, proto = int(b[0]&15)*4, b[9]
		case 6:
			if len(b) >= 40 {
				off, proto = 40, b[6]
			}
		}
		if off > 0 && off < len(b) {
			switch proto {
			case 17:
				off += 8
			case 6:
				if off+13 < len(b) {
					off += int(b[off+12]>>4) * 4
				}
			default:
				off = 0
			}
			if off > 0 && off <= len(b) && sip.IsStart(b[off:]) {
				return append([]byte(nil), b[off:]...)
			}
		}
	}
	for off := 0; off < len(b) && off < 160; off++ {
		if (b[off] == 'S' || b[off] >= 'A' && b[off] <= 'Z') && sip.IsStart(b[off:]) {
			return append([]byte(nil), b[off:]...)
		}
	}
	return nil
}

func isCiscoDir(l string) bool {
	t := strings.TrimSpace(l)
	return t == "Received:" || t == "Sent:"
}

// repairStart makes a start line whose URI a web page replaced with
// "[email protected]" parseable, escaping the space as %20.
func repairStart(s string) string {
	if sip.IsStart([]byte(s)) || !strings.Contains(s, "[email protected]") {
		return s
	}
	return strings.ReplaceAll(s, "[email protected]", "[email%20protected]")
}

// closeParen returns the index of the parenthesis closing the one s starts with.
func closeParen(s string) int {
	d := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			d++
		case ')':
			d--
			if d == 0 {
				return i
			}
		}
	}
	return -1
}

// parseBracketAddrPort accepts "[1.2.3.4]:5060" besides what netip does.
func parseBracketAddrPort(s string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap, nil
	}
	if strings.HasPrefix(s, "[") {
		if h, p, ok := strings.Cut(s[1:], "]:"); ok {
			return netip.ParseAddrPort(h + ":" + p)
		}
	}
	return netip.ParseAddrPort(s)
}
