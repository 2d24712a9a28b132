package redact

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/sipflow/sipflow/parse/capture"
	"github.com/sipflow/sipflow/parse/sip"
)

// identityHeaders carry a party's name and number (lower case, compact
// forms too).
var identityHeaders = map[string]bool{
	"from": true, "f": true, "to": true, "t": true, "contact": true, "m": true,
	"p-asserted-identity": true, "p-preferred-identity": true, "remote-party-id": true,
	"diversion": true, "history-info": true, "refer-to": true, "r": true,
	"referred-by": true, "b": true, "p-called-party-id": true, "request-uri": true,
}

// authHeaders carry digest credentials or challenges.
var authHeaders = map[string]bool{
	"authorization": true, "proxy-authorization": true, "www-authenticate": true,
	"proxy-authenticate": true, "authentication-info": true, "proxy-authentication-info": true,
}

// secretParams are the digest parameters masked under Credentials.
var secretParams = map[string]bool{"response": true, "nonce": true, "cnonce": true, "nextnonce": true, "rspauth": true}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func countDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			n++
		}
	}
	return n
}

// digitsOf returns the digits of s.
func digitsOf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// maskAll turns every digit of s but the last keep into 'x'.
func maskAll(s string, keep int) string {
	n := countDigits(s) - keep
	if n <= 0 {
		return s
	}
	b := []byte(s)
	for i := range b {
		if n == 0 {
			break
		}
		if isDigit(b[i]) {
			b[i] = 'x'
			n--
		}
	}
	return string(b)
}

// maskRuns masks each run of digits longer than keep (a number in a display
// name), leaving its last keep digits.
func maskRuns(s string, keep int) string {
	var b []byte
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j-i > keep {
			if b == nil {
				b = []byte(s)
			}
			for k := i; k < j-keep; k++ {
				b[k] = 'x'
			}
		}
		i = j
	}
	if b == nil {
		return s
	}
	return string(b)
}

// learn remembers a user part that is a phone number.
func (r *Redactor) learn(user string) {
	if user == "" {
		return
	}
	d := digitsOf(user)
	if len(d) <= r.o.digits() || len(d) < len(strings.TrimLeft(user, "+"))/2 {
		return // not mostly digits: a name such as "alice2"
	}
	r.numbers[d] = true
}

func (r *Redactor) learnURI(u string) {
	if pu, err := sip.ParseURI(u); err == nil {
		r.learn(pu.User)
	}
}

func (r *Redactor) learnMessage(s *sip.Message) {
	if s.Request {
		r.learn(s.RequestURI.User)
	}
	for _, h := range s.Headers {
		if !identityHeaders[strings.ToLower(h.Name)] {
			continue
		}
		for _, v := range sip.SplitList(h.Value) {
			if a, err := sip.ParseAddr(v); err == nil {
				r.learn(a.URI.User)
			}
		}
	}
}

// maskKnown masks every digit run (with its '-' separators) whose digits are
// a number learnt from the call.
func (r *Redactor) maskKnown(s string) string {
	if len(r.numbers) == 0 {
		return s
	}
	var b []byte
	for i := 0; i < len(s); {
		if !isDigit(s[i]) || (i > 0 && isDigit(s[i-1])) {
			i++
			continue
		}
		j := i
		for j < len(s) && (isDigit(s[j]) || (s[j] == '-' && j+1 < len(s) && isDigit(s[j+1]))) {
			j++
		}
		if r.numbers[digitsOf(s[i:j])] {
			if b == nil {
				b = []byte(s)
			}
			copy(b[i:j], maskAll(s[i:j], r.o.digits()))
		}
		i = j
	}
	if b == nil {
		return s
	}
	return string(b)
}

// maskAddrValue masks the numbers of a name-addr or addr-spec list: digit
// runs of display names, and the user part of each URI when it holds more
// digits than are kept. Header parameters (tags) are left alone.
func (r *Redactor) maskAddrValue(v string) string {
	keep := r.o.digits()
	b := []byte(v)
	depth, quoted := 0, false
	seg := 0 // start of the current value
	inURI := false
	uriStart := -1
	flushDisplay := func(from, to int) {
		copy(b[from:to], maskRuns(string(b[from:to]), keep))
	}
	maskURI := func(from, to int) {
		u := string(b[from:to])
		user, at := userPart(u)
		if at < 0 || countDigits(user) <= keep {
			return
		}
		off := from + strings.Index(u, user)
		copy(b[off:off+len(user)], maskAll(user, keep))
	}
	for i := 0; i <= len(v); i++ {
		var c byte = ','
		if i < len(v) {
			c = v[i]
		}
		switch {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '<':
			if depth == 0 {
				flushDisplay(seg, i)
				inURI, uriStart = true, i+1
			}
			depth++
		case c == '>':
			depth--
			if depth == 0 && inURI {
				maskURI(uriStart, i)
				inURI = false
			}
		case c == ',' && depth <= 0:
			if uriStart < 0 || uriStart < seg {
				// An addr-spec without <>: the URI runs to the first ';'.
				s := strings.TrimSpace(v[seg:i])
				if s != "" {
					off := seg + strings.Index(v[seg:i], s)
					end := off + len(s)
					if k := strings.IndexByte(s, ';'); k >= 0 && !strings.HasPrefix(strings.ToLower(s), "tel:") {
						end = off + k
					}
					maskURI(off, end)
				}
			}
			seg = i + 1
		}
	}
	return string(b)
}

// userPart returns the user part of a sip/sips URI or the number of a tel
// URI, and its offset (-1 when the URI has none).
func userPart(u string) (string, int) {
	lu := strings.ToLower(u)
	switch {
	case strings.HasPrefix(lu, "tel:"):
		n := u[4:]
		if k := strings.IndexByte(n, ';'); k >= 0 {
			n = n[:k]
		}
		return n, 4
	case strings.HasPrefix(lu, "sip:"), strings.HasPrefix(lu, "sips:"):
		c := strings.IndexByte(u, ':') + 1
		at := strings.IndexByte(u[c:], '@')
		if at < 0 {
			return "", -1
		}
		user := u[c : c+at]
		if k := strings.IndexByte(user, ':'); k >= 0 {
			user = user[:k] // user:password
		}
		return user, c
	}
	return "", -1
}

func isAddrChar(c byte) bool {
	return isDigit(c) || c == '.' || c == ':' || (c|0x20 >= 'a' && c|0x20 <= 'f')
}

// mapIPs replaces every IPv4 and IPv6 literal of s by its pseudonym.
func (r *Redactor) mapIPs(s string) string {
	var out strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if !isAddrChar(s[i]) || (s[i] == ':' && i > 0 && isWordChar(s[i-1])) {
			i++ // a scheme's colon ("sip:10.0.0.1") starts no address
			continue
		}
		j := i
		for j < len(s) && isAddrChar(s[j]) {
			j++
		}
		// A run glued to a letter or digit-word is part of a name.
		if (i > 0 && isWordChar(s[i-1])) || (j < len(s) && isWordChar(s[j])) {
			i = j
			continue
		}
		run := s[i:j]
		if rep, ok := r.mapRun(run); ok {
			out.WriteString(s[last:i])
			out.WriteString(rep)
			last = j
		}
		i = j
	}
	if last == 0 {
		return s
	}
	out.WriteString(s[last:])
	return out.String()
}

func isWordChar(c byte) bool {
	return c|0x20 >= 'g' && c|0x20 <= 'z' || c == '_'
}

// mapRun maps an address run: a whole IPv4 or IPv6 address, or IPv4
// addresses separated by ':' (address:port).
func (r *Redactor) mapRun(run string) (string, bool) {
	if strings.Count(run, ":") >= 2 {
		if a, err := netip.ParseAddr(run); err == nil {
			return r.Addr(a).String(), true
		}
	}
	if !strings.Contains(run, ".") {
		return "", false
	}
	parts := strings.Split(run, ":")
	changed := false
	for k, p := range parts {
		if strings.Count(p, ".") != 3 {
			continue
		}
		if a, err := netip.ParseAddr(p); err == nil && a.Is4() {
			parts[k] = r.Addr(a).String()
			changed = true
		}
	}
	if !changed {
		return "", false
	}
	return strings.Join(parts, ":"), true
}

// message rewrites a full message and parses the result again.
func (r *Redactor) message(m *capture.Message) *capture.Message {
	n := *m
	n.Src, n.Dst = r.AddrPort(m.Src), r.AddrPort(m.Dst)
	raw := r.rewrite(m.SIP.Raw)
	n.SIP = sip.Message{}
	if err := sip.Parse(raw, &n.SIP); err != nil {
		// The original parsed, and the rewrite keeps the start line's
		// shape; should it ever fail, keep the redacted text unparsed.
		n.SIP = sip.Message{Raw: raw, ContentLength: -1}
	}
	return &n
}

// rewrite redacts the text of one SIP message, header by header, then its
// body, and fixes Content-Length when the body's length changed.
func (r *Redactor) rewrite(raw []byte) []byte {
	s := string(raw)
	head, body, sep := s, "", ""
	if k := strings.Index(s, "\r\n\r\n"); k >= 0 {
		head, sep, body = s[:k], "\r\n\r\n", s[k+4:]
	} else if k := strings.Index(s, "\n\n"); k >= 0 {
		head, sep, body = s[:k], "\n\n", s[k+2:]
	}
	lines := strings.SplitAfter(head, "\n")
	name := ""
	clIdx := -1
	for i, l := range lines {
		text, eol := l, ""
		text = strings.TrimRight(l, "\r\n")
		eol = l[len(text):]
		switch {
		case i == 0:
			name = "request-uri"
			if f := strings.Fields(text); len(f) == 3 && f[2] == "SIP/2.0" && r.o.Numbers {
				k := strings.Index(text, f[1])
				text = text[:k] + r.maskAddrValue(f[1]) + text[k+len(f[1]):]
			}
		case len(text) > 0 && (text[0] == ' ' || text[0] == '\t'):
			text = r.headerValue(name, text)
		default:
			c := strings.IndexByte(text, ':')
			if c < 0 {
				name = ""
				break
			}
			name = strings.ToLower(strings.TrimSpace(text[:c]))
			if name == "content-length" || name == "l" {
				clIdx = i
			}
			text = text[:c+1] + r.headerValue(name, text[c+1:])
		}
		lines[i] = r.Text(text) + eol
	}
	nb := r.Text(body)
	if len(nb) != len(body) && clIdx >= 0 {
		l := lines[clIdx]
		c := strings.IndexByte(l, ':')
		v := strings.TrimSpace(strings.TrimRight(l[c+1:], "\r\n"))
		if n, err := strconv.Atoi(v); err == nil && n == len(body) {
			eol := l[len(strings.TrimRight(l, "\r\n")):]
			lines[clIdx] = l[:c+1] + " " + strconv.Itoa(len(nb)) + eol
		}
	}
	return []byte(strings.Join(lines, "") + sep + nb)
}

// headerValue applies the header-aware rules to one header value (or a
// continuation line of it).
func (r *Redactor) headerValue(name, v string) string {
	if r.o.Credentials && authHeaders[name] {
		v = maskSecrets(v)
	}
	if r.o.Numbers && identityHeaders[name] {
		v = r.maskAddrValue(v)
	}
	return v
}

// maskSecrets masks digest secrets (param=value or param="value") and
// Basic credentials.
func maskSecrets(v string) string {
	var out strings.Builder
	i := 0
	if t := strings.TrimLeft(v, " \t"); len(t) > 6 && strings.EqualFold(t[:6], "basic ") {
		return v[:len(v)-len(t)+6] + Mask
	}
	for i < len(v) {
		// Find the next '='.
		e := strings.IndexByte(v[i:], '=')
		if e < 0 {
			out.WriteString(v[i:])
			break
		}
		e += i
		// Parameter name: the token before '='.
		k := e
		for k > i && (v[k-1] == ' ' || v[k-1] == '\t') {
			k--
		}
		st := k
		for st > i && isTokenChar(v[st-1]) {
			st--
		}
		pname := strings.ToLower(v[st:k])
		// Value.
		vs := e + 1
		for vs < len(v) && (v[vs] == ' ' || v[vs] == '\t') {
			vs++
		}
		ve := vs
		quoted := vs < len(v) && v[vs] == '"'
		if quoted {
			ve = vs + 1
			for ve < len(v) && v[ve] != '"' {
				if v[ve] == '\\' {
					ve++
				}
				ve++
			}
			ve = min(ve+1, len(v))
		} else {
			for ve < len(v) && v[ve] != ',' && v[ve] != ' ' && v[ve] != '\t' {
				ve++
			}
		}
		out.WriteString(v[i:vs])
		if secretParams[pname] && ve > vs {
			if quoted {
				out.WriteString(`"` + Mask + `"`)
			} else {
				out.WriteString(Mask)
			}
		} else {
			out.WriteString(v[vs:ve])
		}
		i = ve
	}
	return out.String()
}

func isTokenChar(c byte) bool {
	return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'z' || strings.IndexByte("-.!%*_+`'~", c) >= 0
}
