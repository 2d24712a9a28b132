package sdp

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Parse reads an SDP body. It returns ErrEmpty when b holds no line at all;
// otherwise it never fails: unknown lines are ignored and lines it cannot
// read are recorded in Session.Problems (each wrapping ErrBadLine). Lines may
// end in CRLF or LF. The Session does not keep b.
func Parse(b []byte) (*Session, error) {
	return ParseString(string(b))
}

// ParseString is Parse on a string; the Session's strings are substrings of
// s, so a caller that already holds the body as a string saves a copy.
func ParseString(s string) (*Session, error) {
	sess := &Session{}
	if n := strings.Count(s, "\nm="); n > 0 {
		sess.Media = make([]Media, 0, n+1)
	}
	type mstate struct {
		hasAddr, hasDir, hasRTCP, hasRTCPAddr bool
	}
	var stBuf [4]mstate
	st := stBuf[:0]
	var cur *Media // nil at session level
	var curSt *mstate
	lines := 0
	lineNo := 0
	for len(s) > 0 {
		var line string
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			line, s = s, ""
		}
		lineNo++
		for len(line) > 0 && (line[len(line)-1] == ' ' || line[len(line)-1] == '\t' || line[len(line)-1] == '\r') {
			line = line[:len(line)-1]
		}
		if line == "" {
			continue
		}
		lines++
		if len(line) < 2 || line[1] != '=' || !isAlpha(line[0]) {
			sess.bad(lineNo, "not a type=value line: %.40q", line)
			continue
		}
		v := line[2:]
		switch line[0] {
		case 'o':
			if cur == nil {
				sess.Origin = v
			}
		case 's':
			if cur == nil {
				sess.Name = v
			}
		case 'c':
			raw, addr, ok := parseConn(v)
			if !ok {
				sess.bad(lineNo, "bad c= line: %.40q", v)
				continue
			}
			if cur == nil {
				sess.AddrRaw, sess.Addr = raw, addr
			} else {
				cur.AddrRaw, cur.Addr = raw, addr
				curSt.hasAddr = true
			}
		case 'm':
			m, ok := parseMedia(v)
			if !ok {
				sess.bad(lineNo, "bad m= line: %.40q", v)
			}
			m.Line = lineNo
			sess.Media = append(sess.Media, m)
			st = append(st, mstate{})
			cur = &sess.Media[len(sess.Media)-1]
			curSt = &st[len(st)-1]
		case 'a':
			name, val, hasVal := strings.Cut(v, ":")
			switch name {
			case "sendrecv", "sendonly", "recvonly", "inactive":
				d := SendRecv
				switch name {
				case "sendonly":
					d = SendOnly
				case "recvonly":
					d = RecvOnly
				case "inactive":
					d = Inactive
				}
				if cur == nil {
					sess.Direction = d
				} else {
					cur.Direction = d
					curSt.hasDir = true
				}
			case "rtpmap":
				if cur == nil {
					continue // meaningless at session level
				}
				rm, ok := parseRTPMap(val)
				if !ok || !hasVal {
					sess.bad(lineNo, "bad a=rtpmap: %.40q", val)
					continue
				}
				// RTPMaps has one slot per format, in m= order (PT -1
				// while empty); an rtpmap for an unlisted PT is dropped.
				for i, f := range cur.Formats {
					if pt, ok := atoiPT(f); ok && pt == rm.PT && cur.RTPMaps[i].PT < 0 {
						cur.RTPMaps[i] = rm
						break
					}
				}
			case "ptime":
				if cur == nil {
					continue
				}
				p, ok := leadingInt(val)
				if !ok {
					sess.bad(lineNo, "bad a=ptime: %.40q", val)
					continue
				}
				cur.Ptime = p
			case "rtcp":
				if cur == nil {
					continue
				}
				port, rest := nextField(val)
				p, err := strconv.Atoi(port)
				if err != nil || p < 0 || p > 65535 {
					sess.bad(lineNo, "bad a=rtcp: %.40q", val)
					continue
				}
				cur.RTCPPort = p
				curSt.hasRTCP = true
				if strings.TrimSpace(rest) != "" {
					if _, addr, ok := parseConn(rest); ok && addr.IsValid() {
						cur.RTCPAddr = addr
						curSt.hasRTCPAddr = true
					}
				}
			}
		}
	}
	if lines == 0 {
		return nil, ErrEmpty
	}
	for i := range sess.Media {
		m := &sess.Media[i]
		ms := st[i]
		if !ms.hasAddr {
			m.Addr, m.AddrRaw = sess.Addr, sess.AddrRaw
		}
		if !ms.hasDir {
			m.Direction = sess.Direction
		}
		if !ms.hasRTCP && m.Port > 0 {
			m.RTCPPort = m.Port + 1
		}
		if !ms.hasRTCPAddr {
			m.RTCPAddr = m.Addr
		}
		m.RTPMaps = fillMaps(m.Formats, m.RTPMaps)
	}
	return sess, nil
}

func (s *Session) bad(line int, format string, args ...any) {
	s.Problems = append(s.Problems, Problem{Line: line, Err: fmt.Errorf("%w: "+format, append([]any{ErrBadLine}, args...)...)})
}

// fillMaps completes the per-format slots with the RFC 3551 static table
// and removes the slots left empty (non-numeric or unknown dynamic
// formats), in place.
func fillMaps(formats []string, slots []RTPMap) []RTPMap {
	out := slots[:0]
	for i, rm := range slots {
		if rm.PT < 0 {
			pt, ok := atoiPT(formats[i])
			if !ok {
				continue
			}
			if rm, ok = StaticPayload(pt); !ok {
				continue
			}
		}
		out = append(out, rm)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// atoiPT reads a payload type number 0..127.
func atoiPT(f string) (int, bool) {
	if len(f) == 0 || len(f) > 3 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(f); i++ {
		if f[i] < '0' || f[i] > '9' {
			return 0, false
		}
		n = n*10 + int(f[i]-'0')
	}
	return n, n <= 127
}

// parseConn reads "IN IP4 1.2.3.4[/ttl[/n]]" and returns the address as
// written (suffix stripped) and parsed (invalid for a host name).
func parseConn(v string) (raw string, addr netip.Addr, ok bool) {
	nt, rest := nextField(v)
	at, rest := nextField(rest)
	a, _ := nextField(rest)
	if nt == "" || at == "" || a == "" {
		return "", netip.Addr{}, false
	}
	if i := strings.IndexByte(a, '/'); i >= 0 {
		a = a[:i]
	}
	if a == "" {
		return "", netip.Addr{}, false
	}
	addr, err := netip.ParseAddr(a)
	if err != nil {
		addr = netip.Addr{}
	} else {
		addr = addr.WithZone("")
	}
	return a, addr, true
}

// parseMedia reads "audio 4000[/2] RTP/AVP 0 8 101".
func parseMedia(v string) (Media, bool) {
	var m Media
	typ, rest := nextField(v)
	port, rest := nextField(rest)
	proto, rest := nextField(rest)
	m.Type, m.Proto = typ, proto
	if i := strings.IndexByte(port, '/'); i >= 0 {
		port = port[:i]
	}
	p, err := strconv.Atoi(port)
	ok := typ != "" && proto != "" && err == nil && p >= 0 && p <= 65535
	if err == nil && p >= 0 && p <= 65535 {
		m.Port = p
	}
	n := 0
	for r := rest; ; n++ {
		var f string
		f, r = nextField(r)
		if f == "" {
			break
		}
	}
	if n > 0 {
		m.Formats = make([]string, 0, n)
		for {
			var f string
			f, rest = nextField(rest)
			if f == "" {
				break
			}
			m.Formats = append(m.Formats, f)
		}
		m.RTPMaps = make([]RTPMap, n)
		for i := range m.RTPMaps {
			m.RTPMaps[i].PT = -1
		}
	}
	return m, ok
}

// parseRTPMap reads "101 telephone-event/8000[/1]".
func parseRTPMap(v string) (RTPMap, bool) {
	var rm RTPMap
	pt, rest := nextField(v)
	enc, _ := nextField(rest)
	p, err := strconv.Atoi(pt)
	if err != nil || p < 0 || p > 127 || enc == "" {
		return rm, false
	}
	rm.PT = p
	name, clock, _ := strings.Cut(enc, "/")
	clock, ch, hasCh := strings.Cut(clock, "/")
	rm.Encoding = name
	if clock != "" {
		c, err := strconv.Atoi(clock)
		if err != nil || c < 0 {
			return rm, false
		}
		rm.ClockRate = c
	}
	if hasCh {
		c, err := strconv.Atoi(ch)
		if err != nil || c < 0 {
			return rm, false
		}
		rm.Channels = c
	}
	return rm, name != ""
}

// leadingInt reads the integer at the start of s ("20", "20.0", " 30").
func leadingInt(s string) (int, bool) {
	s = strings.TrimLeft(s, " \t")
	n, i := 0, 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int(s[i]-'0')
		if n > 1<<24 {
			return 0, false
		}
	}
	return n, i > 0
}

// nextField returns the first space-separated field of s and the rest.
func nextField(s string) (field, rest string) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	j := i
	for j < len(s) && s[j] != ' ' && s[j] != '\t' {
		j++
	}
	return s[i:j], s[j:]
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

var static = [35]RTPMap{
	0:  {0, "PCMU", 8000, 0},
	3:  {3, "GSM", 8000, 0},
	4:  {4, "G723", 8000, 0},
	5:  {5, "DVI4", 8000, 0},
	6:  {6, "DVI4", 16000, 0},
	7:  {7, "LPC", 8000, 0},
	8:  {8, "PCMA", 8000, 0},
	9:  {9, "G722", 8000, 0},
	10: {10, "L16", 44100, 2},
	11: {11, "L16", 44100, 0},
	12: {12, "QCELP", 8000, 0},
	13: {13, "CN", 8000, 0},
	14: {14, "MPA", 90000, 0},
	15: {15, "G728", 8000, 0},
	16: {16, "DVI4", 11025, 0},
	17: {17, "DVI4", 22050, 0},
	18: {18, "G729", 8000, 0},
	25: {25, "CelB", 90000, 0},
	26: {26, "JPEG", 90000, 0},
	28: {28, "nv", 90000, 0},
	31: {31, "H261", 90000, 0},
	32: {32, "MPV", 90000, 0},
	33: {33, "MP2T", 90000, 0},
	34: {34, "H263", 90000, 0},
}

// StaticPayload returns the RFC 3551 static payload type pt (0 PCMU/8000,
// 3 GSM, 4 G723, 8 PCMA, 9 G722/8000, 13 CN, 18 G729, ...). Channels is 0
// (meaning one) except for 10 L16/44100/2.
func StaticPayload(pt int) (RTPMap, bool) {
	if pt < 0 || pt >= len(static) || static[pt].Encoding == "" {
		return RTPMap{}, false
	}
	return static[pt], true
}

// Summary is one line for a ladder diagram, one section per m= line joined
// by "; ": "audio 10.0.0.1:4000 PCMU/8000 telephone-event/8000 sendrecv".
// A media with port 0 shows as "audio 0 (rejected)"; formats without an
// rtpmap or static entry show as listed. "no media" if there is no m= line.
func (s *Session) Summary() string {
	if s == nil || len(s.Media) == 0 {
		return "no media"
	}
	var b strings.Builder
	for i := range s.Media {
		m := &s.Media[i]
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(m.Type)
		if m.Port == 0 {
			b.WriteString(" 0 (rejected)")
			continue
		}
		b.WriteByte(' ')
		switch {
		case m.Addr.IsValid():
			b.WriteString(netip.AddrPortFrom(m.Addr, uint16(m.Port)).String())
		case m.AddrRaw != "":
			b.WriteString(m.AddrRaw)
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(m.Port))
		default:
			b.WriteString("?:")
			b.WriteString(strconv.Itoa(m.Port))
		}
		for _, f := range m.Formats {
			b.WriteByte(' ')
			rm, ok := m.mapFor(f)
			if !ok {
				b.WriteString(f)
				continue
			}
			b.WriteString(rm.Encoding)
			b.WriteByte('/')
			b.WriteString(strconv.Itoa(rm.ClockRate))
			if rm.Channels > 1 {
				b.WriteByte('/')
				b.WriteString(strconv.Itoa(rm.Channels))
			}
		}
		b.WriteByte(' ')
		b.WriteString(m.Direction.String())
	}
	return b.String()
}

func (m *Media) mapFor(format string) (RTPMap, bool) {
	pt, ok := atoiPT(format)
	if !ok {
		return RTPMap{}, false
	}
	for _, rm := range m.RTPMaps {
		if rm.PT == pt {
			return rm, true
		}
	}
	return RTPMap{}, false
}
