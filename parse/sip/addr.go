package sip

import (
	"fmt"
	"strings"
)

// ParseURI splits a SIP, SIPS or TEL URI leniently:
// scheme:user:password@host:port;params?headers, with IPv6 hosts in
// brackets (Host is stored without them). Other schemes keep only Raw and
// Scheme. The error wraps ErrBadAddress; the URI holds what could be read.
func ParseURI(s string) (URI, error) {
	u := URI{Raw: s}
	t := trimSpace(s)
	colon := strings.IndexByte(t, ':')
	if colon <= 0 || !isAlpha(t[0]) {
		return u, fmt.Errorf("%w: no scheme in URI %.40q", ErrBadAddress, s)
	}
	scheme := t[:colon]
	for i := 1; i < len(scheme); i++ {
		if c := scheme[i]; !isAlpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.' {
			return u, fmt.Errorf("%w: bad scheme in URI %.40q", ErrBadAddress, s)
		}
	}
	switch {
	case asciiEqualFold(scheme, "sip"):
		u.Scheme = "sip"
	case asciiEqualFold(scheme, "sips"):
		u.Scheme = "sips"
	case asciiEqualFold(scheme, "tel"):
		u.Scheme = "tel"
	default:
		u.Scheme = strings.ToLower(scheme)
		return u, nil // opaque
	}
	rest := t[colon+1:]
	if u.Scheme == "tel" {
		u.User, u.Params, _ = strings.Cut(rest, ";")
		if u.User == "" {
			return u, fmt.Errorf("%w: empty tel number in %.40q", ErrBadAddress, s)
		}
		return u, nil
	}
	rest, u.Headers, _ = strings.Cut(rest, "?")
	if at := strings.IndexByte(rest, '@'); at >= 0 {
		u.User, u.Password, _ = strings.Cut(rest[:at], ":")
		rest = rest[at+1:]
		if u.User == "" {
			return u, fmt.Errorf("%w: empty user in %.40q", ErrBadAddress, s)
		}
	}
	hostport, params, _ := strings.Cut(rest, ";")
	u.Params = params
	host, port, ok := splitHostPort(hostport)
	u.Host, u.Port = host, port
	if !ok || host == "" {
		return u, fmt.Errorf("%w: bad host in URI %.40q", ErrBadAddress, s)
	}
	return u, nil
}

// splitHostPort splits host[:port] or [v6][:port]. A host with several
// colons and no brackets is taken as a bare IPv6 address without port.
func splitHostPort(hp string) (host string, port int, ok bool) {
	if hp == "" {
		return "", 0, false
	}
	var portStr string
	if hp[0] == '[' {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return hp[1:], 0, false
		}
		host = hp[1:end]
		rest := hp[end+1:]
		if rest != "" {
			if rest[0] != ':' {
				return host, 0, false
			}
			portStr = rest[1:]
		}
	} else {
		host = hp
		if i := strings.IndexByte(hp, ':'); i >= 0 {
			if strings.IndexByte(hp[i+1:], ':') >= 0 {
				return hp, 0, validHost(hp) // bare IPv6
			}
			host, portStr = hp[:i], hp[i+1:]
			if portStr == "" {
				return host, 0, false
			}
		}
	}
	if portStr != "" {
		p, pok := atoi(portStr)
		if !pok || p > 65535 {
			return host, 0, false
		}
		port = p
	}
	return host, port, host != "" && validHost(host)
}

func validHost(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`<>"@;,?/\[]`, c) >= 0 {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// ParseAddr reads a name-addr ("Display" <uri>;params or Display <uri>) or
// an addr-spec (uri;params; there the parameters belong to the header, as
// RFC 3261 says). Display names are kept as written, bytes and all (UTF-8,
// ISO-8859-1); quoted ones are unescaped. The error wraps ErrBadAddress;
// the Addr always holds Raw and what could be read (Tag included).
func ParseAddr(s string) (Addr, error) {
	a, uri, err := splitAddr(s)
	if uri != "" {
		var uerr error
		if a.URI, uerr = ParseURI(uri); uerr != nil && err == nil {
			err = uerr
		}
	}
	return a, err
}

// splitAddr is ParseAddr but for the URI, which it returns unparsed.
func splitAddr(s string) (a Addr, uri string, err error) {
	a = Addr{Raw: s}
	t := trimSpace(s)
	if t == "" {
		return a, "", fmt.Errorf("%w: empty", ErrBadAddress)
	}
	setErr := func(e error) {
		if err == nil {
			err = e
		}
	}
	angle := false
	if t[0] == '"' {
		disp, n, ok := unquote(t)
		a.Display = disp
		if !ok {
			return a, "", fmt.Errorf("%w: unterminated quoted display name in %.40q", ErrBadAddress, s)
		}
		t = trimSpace(t[n:])
		if t == "" || t[0] != '<' {
			setErr(fmt.Errorf("%w: display name without <uri> in %.40q", ErrBadAddress, s))
		} else {
			angle = true
		}
	} else if i := strings.IndexByte(t, '<'); i >= 0 {
		a.Display = trimSpace(t[:i])
		t = t[i:]
		angle = true
	}
	var params string
	if angle {
		end := strings.IndexByte(t, '>')
		if end < 0 {
			uri = t[1:]
			setErr(fmt.Errorf("%w: no closing '>' in %.40q", ErrBadAddress, s))
		} else {
			uri = t[1:end]
			rest := trimSpace(t[end+1:])
			if rest != "" {
				if rest[0] == ';' {
					params = rest[1:]
				} else {
					setErr(fmt.Errorf("%w: text after '>' in %.40q", ErrBadAddress, s))
					if i := strings.IndexByte(rest, ';'); i >= 0 {
						params = rest[i+1:]
					}
				}
			}
		}
	} else if t != "" && t[0] == ';' {
		params = t[1:] // display name then params only: URI lost
	} else {
		uri, params, _ = strings.Cut(t, ";")
	}
	a.Params = trimSpace(params)
	a.Tag = paramIn(a.Params, "tag")
	if uri == "" && err == nil {
		setErr(fmt.Errorf("%w: no URI in %.40q", ErrBadAddress, s))
	}
	return a, uri, err
}

// unquote reads a quoted-string at the start of t and returns its content
// unescaped, the number of bytes consumed, and whether it was terminated.
func unquote(t string) (string, int, bool) {
	esc := false
	for i := 1; i < len(t); i++ {
		switch t[i] {
		case '\\':
			esc = true
			i++
		case '"':
			if !esc {
				return t[1:i], i + 1, true
			}
			var b strings.Builder
			for j := 1; j < i; j++ {
				if t[j] == '\\' && j+1 < i {
					j++
				}
				b.WriteByte(t[j])
			}
			return b.String(), i + 1, true
		}
	}
	return t[1:], len(t), false
}

// ParseVia reads a Via header value holding one or more comma-separated
// values ("SIP/2.0/UDP host:port;branch=z9hG4bK..;rport"). The error wraps
// ErrBadVia; the result holds every value, read as far as possible.
func ParseVia(s string) ([]Via, error) {
	return appendVia(nil, s)
}

func appendVia(dst []Via, s string) ([]Via, error) {
	var err error
	n := 0
	for rest := s; rest != ""; {
		var item string
		item, rest = nextItem(rest)
		if item == "" {
			continue
		}
		n++
		v, e := parseOneVia(item)
		dst = append(dst, v)
		if e != nil && err == nil {
			err = e
		}
	}
	if n == 0 && err == nil {
		err = fmt.Errorf("%w: empty", ErrBadVia)
	}
	return dst, err
}

func parseOneVia(s string) (Via, error) {
	v := Via{Raw: s}
	bad := func(why string) error { return fmt.Errorf("%w: %s in %.60q", ErrBadVia, why, s) }
	// sent-protocol: SIP / 2.0 / UDP, with optional LWS around the slashes.
	name, rest, ok := strings.Cut(s, "/")
	if !ok || !asciiEqualFold(trimSpace(name), "SIP") {
		return v, bad("no SIP/2.0/ protocol")
	}
	ver, rest, ok := strings.Cut(rest, "/")
	if !ok || trimSpace(ver) != "2.0" {
		return v, bad("no SIP/2.0/ protocol")
	}
	rest = trimSpace(rest)
	i := 0
	for i < len(rest) && isToken(rest[i]) {
		i++
	}
	v.Transport = transport(rest[:i])
	if v.Transport == "" {
		return v, bad("no transport")
	}
	rest = trimSpace(rest[i:])
	sentBy, params, _ := strings.Cut(rest, ";")
	sentBy = trimSpace(sentBy)
	for j := 0; j < len(sentBy); j++ {
		if c := sentBy[j]; c == ' ' || c == '\t' || c == '(' { // a comment after sent-by
			sentBy = sentBy[:j]
			break
		}
	}
	var err error
	host, port, ok := splitHostPort(sentBy)
	v.Host, v.Port = host, port
	if !ok {
		err = bad("bad sent-by")
	}
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, val, _ := strings.Cut(p, "=")
		k, val = trimSpace(k), trimSpace(val)
		switch {
		case asciiEqualFold(k, "branch"):
			v.Branch = val
		case asciiEqualFold(k, "received"):
			v.Received = val
		case asciiEqualFold(k, "rport"):
			if val != "" {
				if p, ok := atoi(val); ok && p <= 65535 {
					v.RPort = p
				} else if err == nil {
					err = bad("bad rport")
				}
			}
		}
	}
	return v, err
}

func transport(t string) string {
	for _, c := range [...]string{"UDP", "TCP", "TLS", "WS", "WSS", "SCTP", "TLS-SCTP"} {
		if asciiEqualFold(c, t) {
			return c
		}
	}
	return strings.ToUpper(t)
}
