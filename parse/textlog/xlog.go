package textlog

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/sipflow/sipflow/parse/capture"
)

// xlogWords are the direction words of a Kamailio/OpenSIPS xlog line that
// announces a message ("received from $si:$sp:", "sent to ...").
var xlogWords = map[string]bool{
	"received": true, "receiving": true, "receive": true, "recv": true, "rcv": true, "rx": true, "incoming": true,
	"sent": true, "sending": true, "send": true, "snd": true, "tx": true, "outgoing": true,
	"forwarded": true, "forwarding": true, "relayed": true, "relaying": true,
}

// xlogInfo is what the text of an xlog line before a message says.
type xlogInfo struct {
	st        stamp
	src, dst  netip.AddrPort
	transport capture.Transport
	hasTrans  bool
}

// parseXlog reads the direction, transport, time and addresses from the
// text of a Kamailio/OpenSIPS xlog line that prints a message ($mb,
// $snd(buf), $sipdump(buf)) after it, such as
//
//	 1(19002) INFO: <script>: 1795365885.156461 received udp from 127.0.0.1:5070 to 127.0.0.3:5060:
//	INFO: <script>: received from 10.0.0.1:5060:
//	sent TCP to [2001:db8::1]:5061
//
// It needs a direction word and "from ADDR" or "to ADDR" (ADDR: ip:port,
// [ipv6]:port, optionally "udp:" or "sip:" before it) with nothing but a
// colon after the last address. The time is an epoch "seconds.fraction"
// ($TV(Sn)) or a date and time the line holds; the transport a word
// (udp, tcp, tls, sctp, ws, wss) after the direction or before an address.
func parseXlog(s string) (xlogInfo, bool) {
	var x xlogInfo
	dir := false
	lastAddr := false // the last token was the address of a from/to
	expect := ""      // "from" or "to": the next token is its address
	for i := 0; i < len(s); {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			break
		}
		j := i
		for j < len(s) && s[j] != ' ' && s[j] != '\t' {
			j++
		}
		tok := s[i:j]
		lastAddr = false
		switch {
		case expect != "":
			a, tr, hasTr, ok := xlogAddr(tok)
			if !ok {
				return x, false
			}
			if expect == "from" {
				x.src = a
			} else {
				x.dst = a
			}
			if hasTr && !x.hasTrans {
				x.transport, x.hasTrans = tr, true
			}
			expect, lastAddr = "", true
		case strings.EqualFold(tok, "from") || strings.EqualFold(tok, "to"):
			if !dir {
				break // "... to" before any direction word: prose
			}
			expect = strings.ToLower(tok)
		case !dir && xlogWords[strings.ToLower(strings.Trim(tok, ":,[]()"))]:
			dir = true
		case dir && !x.hasTrans:
			if tr, ok := transportName(strings.Trim(tok, ":,")); ok {
				x.transport, x.hasTrans = tr, true
			}
		case !dir && !x.st.ok:
			if st, n := epochStamp(tok); n == len(tok) {
				x.st = st
			} else if st, n := parseStamp(s[i:]); n > 0 {
				x.st = st
				j = i + n
			}
		}
		i = j
	}
	ok := dir && lastAddr && expect == "" && (x.src.IsValid() || x.dst.IsValid())
	return x, ok
}

// xlogAddr parses an address token: "1.2.3.4:5060", "[2001:db8::1]:5060",
// with a trailing colon or comma, and "udp:" / "sip:" before it.
func xlogAddr(tok string) (netip.AddrPort, capture.Transport, bool, bool) {
	tok = strings.TrimRight(tok, ":,;")
	var tr capture.Transport
	hasTr := false
	for range 2 {
		p, rest, ok := strings.Cut(tok, ":")
		if !ok {
			break
		}
		if strings.EqualFold(p, "sip") || strings.EqualFold(p, "sips") {
			tok = rest
			continue
		}
		if t, ok := transportName(p); ok {
			tr, hasTr, tok = t, true, rest
		}
	}
	a, err := parseBracketAddrPort(tok)
	if err != nil || a.Port() == 0 {
		return netip.AddrPort{}, 0, false, false
	}
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port()), tr, hasTr, true
}

// epochStamp parses "1700000000.123456" (seconds since 1970, UTC, at least
// nine digits, a fraction of up to nine digits) at the start of s.
func epochStamp(s string) (stamp, int) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i < 9 || i > 11 || i >= len(s) || s[i] != '.' {
		return stamp{}, 0
	}
	j := i + 1
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j == i+1 || j-i-1 > 9 {
		return stamp{}, 0
	}
	sec, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return stamp{}, 0
	}
	frac := s[i+1 : j]
	ns, _ := strconv.Atoi(frac)
	for k := len(frac); k < 9; k++ {
		ns *= 10
	}
	t := time.Unix(sec, int64(ns)).UTC()
	return stamp{year: t.Year(), month: int(t.Month()), day: t.Day(), h: t.Hour(), m: t.Minute(), s: t.Second(), ns: t.Nanosecond(), loc: time.UTC, ok: true}, j
}

// xlogHeader: a whole line that announces the message on the next lines
// (see parseXlog).
func xlogHeader(l string) (meta, bool) {
	if len(l) > 512 {
		return meta{}, false
	}
	x, ok := parseXlog(l)
	if !ok {
		return meta{}, false
	}
	return meta{format: FormatRaw, st: x.st, src: x.src, dst: x.dst, transport: x.transport, hasTrans: x.hasTrans, length: -1, soft: true}, true
}
