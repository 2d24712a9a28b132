package textlog

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/sipflow/sipflow/parse/capture"
	"github.com/sipflow/sipflow/parse/sip"
)

// The logging box's own address.
//
// A log printed BY a box (Asterisk, FreeSWITCH, Cisco) names only the far
// end of each message: what it read a message from, what it sent one to.
// The box's own address (the local side: Dst of what it received, Src of
// what it sent) is taken from what the box itself wrote into its messages,
// never invented:
//
//  1. the sent-by of its own Via: the top Via of the requests it sends, and
//     the same Via echoed back as the top Via of the responses it receives;
//  2. the received= (and rport) the far end put on that Via, when the
//     sent-by is a name;
//  3. the Contact of what it sends (requests, and 1xx/2xx responses other
//     than to REGISTER, whose Contacts are the registrar's bindings);
//  4. the Request-URI of the requests it receives.
//
// Only IP literals count (a name would need DNS); a missing port is 5060
// (5061 for TLS and sips:). The first of these kinds that appears at all
// decides, and it must name a single address. Per far end, the box's own
// Via and Contact in the messages exchanged with it (kinds 1-3) are
// preferred, so a box that talks to different far ends from different
// addresses (FreeSWITCH's internal and external profiles, a NATed box's
// public address) gets the right one on each; a far end without such
// evidence gets the address of the whole log section (one per format
// within a file). When several addresses compete, the messages keep an
// unknown local side (their own Via still names it where it can) and an
// ErrLocalUnknown warning says why.

// direction is which way a message went, seen from the box that logged it.
type direction uint8

const (
	dirNone direction = iota // not logged by a box (tcpdump, syslog, plain SIP)
	dirRx                    // the box received it: Src is the far end
	dirTx                    // the box sent it: Dst is the far end
)

func (d direction) String() string {
	switch d {
	case dirRx:
		return "rx"
	case dirTx:
		return "tx"
	}
	return "none"
}

// evidence kinds, strongest first.
const (
	evVia     = iota // sent-by of the box's own Via
	evRecv           // received=/rport on the box's own Via
	evContact        // Contact of what the box sent
	evRURI           // Request-URI of what the box received
	evKinds
)

var evNames = [evKinds]string{"own Via", "received= on its own Via", "Contact", "Request-URI of received requests"}

// addrSet is a small set of distinct addresses (at most maxSet kept).
type addrSet struct {
	a    []netip.AddrPort
	more bool // more distinct addresses than kept
}

const maxSet = 8

func (s *addrSet) add(a netip.AddrPort) {
	for _, x := range s.a {
		if x == a {
			return
		}
	}
	if len(s.a) >= maxSet {
		s.more = true
		return
	}
	s.a = append(s.a, a)
}

func (s *addrSet) String() string {
	parts := make([]string, len(s.a))
	for i, a := range s.a {
		parts[i] = a.String()
	}
	if s.more {
		parts = append(parts, "...")
	}
	return strings.Join(parts, ", ")
}

// evidence is what a set of messages says about the box's address.
type evidence [evKinds]addrSet

// decide returns the single address the strongest kind of evidence names
// (kinds up to and including last), or the kind that named several (-1 if
// no evidence at all).
func (e *evidence) decide(last int) (netip.AddrPort, int) {
	for k := 0; k <= last; k++ {
		switch s := &e[k]; {
		case len(s.a) == 1 && !s.more:
			return s.a[0], k
		case len(s.a) > 1:
			return netip.AddrPort{}, k
		}
	}
	return netip.AddrPort{}, -1
}

// box is one log section: the messages one format logged in one file.
type box struct {
	all    evidence
	byPeer map[netip.AddrPort]*evidence
}

const maxPeers = 4096

// held is a message waiting for its box's address to be known.
type held struct {
	m      *capture.Message
	format Format
	dir    direction // dirNone: delivered as it is, held only to keep the order
	peer   netip.AddrPort
}

// maxHeld bounds the messages held until the end of the input: past it, the
// ones held are resolved with the evidence seen so far and delivered.
const maxHeld = 1 << 15

// hold keeps m (logged by a box in direction dir with an unknown local
// side, or any message once others are held) and records its evidence.
func (r *reader) hold(m *capture.Message, f Format, dir direction, peer netip.AddrPort) {
	if dir != dirNone {
		r.observe(m, f, dir, peer)
	}
	r.held = append(r.held, held{m: m, format: f, dir: dir, peer: peer})
	if len(r.held) >= maxHeld {
		r.release()
	}
}

// observe records what m says about the address of the box that logged it.
func (r *reader) observe(m *capture.Message, f Format, dir direction, peer netip.AddrPort) {
	if r.boxes == nil {
		r.boxes = make(map[Format]*box)
	}
	b := r.boxes[f]
	if b == nil {
		b = &box{byPeer: make(map[netip.AddrPort]*evidence)}
		r.boxes[f] = b
	}
	var pe *evidence
	if peer.IsValid() {
		pe = b.byPeer[peer]
		if pe == nil && len(b.byPeer) < maxPeers {
			pe = new(evidence)
			b.byPeer[peer] = pe
		}
	}
	add := func(k int, a netip.AddrPort) {
		if !usable(a) {
			return
		}
		b.all[k].add(a)
		if pe != nil && k != evRURI {
			pe[k].add(a)
		}
	}
	s := &m.SIP
	var via *sip.Via
	if len(s.Via) > 0 {
		via = &s.Via[0]
	}
	switch {
	case dir == dirTx && s.Request:
		if a := sentBy(via); a.IsValid() {
			add(evVia, a)
		}
		add(evContact, contactAddr(s))
	case dir == dirRx && !s.Request:
		if a := sentBy(via); a.IsValid() {
			add(evVia, a)
		} else {
			add(evRecv, receivedAddr(via))
		}
	case dir == dirTx:
		if s.StatusCode < 300 && s.CSeqMethod != sip.REGISTER {
			add(evContact, contactAddr(s))
		}
	default: // a request the box received
		add(evRURI, uriAddr(&s.RequestURI))
	}
}

// ownVia is the box's address as m's own top Via names it: the messages
// whose top Via is the box's (what it sent, responses it received).
func ownVia(m *capture.Message, dir direction) netip.AddrPort {
	s := &m.SIP
	if len(s.Via) == 0 || (dir == dirTx) != s.Request {
		return netip.AddrPort{}
	}
	if a := sentBy(&s.Via[0]); usable(a) {
		return a
	}
	if !s.Request {
		if a := receivedAddr(&s.Via[0]); usable(a) {
			return a
		}
	}
	return netip.AddrPort{}
}

// release fills the local side of the held messages and delivers them in
// order. Messages left unknown are reported, once per section and release.
func (r *reader) release() {
	if len(r.held) == 0 {
		return
	}
	type miss struct {
		line, n int
		why     string
	}
	var misses map[Format]*miss
	var order []Format
	for i := range r.held {
		h := &r.held[i]
		if h.dir != dirNone {
			a, why := r.localAddr(h)
			if a.IsValid() {
				if h.dir == dirRx {
					h.m.Dst = a
				} else {
					h.m.Src = a
				}
			} else {
				if misses == nil {
					misses = make(map[Format]*miss)
				}
				ms := misses[h.format]
				if ms == nil {
					ms = &miss{line: h.m.Frame, why: why}
					misses[h.format] = ms
					order = append(order, h.format)
				}
				ms.n++
			}
		}
		r.h.SIP(h.m)
		h.m = nil
	}
	r.held = r.held[:0]
	for _, f := range order {
		ms := misses[f]
		r.warn(ms.line, fmt.Errorf("%w: %s log: %s; %d messages from line %d keep an unknown side", ErrLocalUnknown, f, ms.why, ms.n, ms.line))
	}
}

// localAddr is the address of the box that logged h, or why it is unknown.
func (r *reader) localAddr(h *held) (netip.AddrPort, string) {
	b := r.boxes[h.format]
	if b == nil {
		return netip.AddrPort{}, "no evidence"
	}
	if pe := b.byPeer[h.peer]; pe != nil {
		a, k := pe.decide(evContact)
		if a.IsValid() {
			return a, ""
		}
		if k >= 0 {
			if own := ownVia(h.m, h.dir); own.IsValid() {
				return own, ""
			}
			return netip.AddrPort{}, fmt.Sprintf("its %s names several addresses (%s) in messages with %s", evNames[k], pe[k].String(), h.peer)
		}
	}
	a, k := b.all.decide(evRURI)
	if a.IsValid() {
		return a, ""
	}
	if own := ownVia(h.m, h.dir); own.IsValid() {
		return own, ""
	}
	if k >= 0 {
		return netip.AddrPort{}, fmt.Sprintf("its %s names several addresses (%s)", evNames[k], b.all[k].String())
	}
	return netip.AddrPort{}, "no IP literal in its own Via, its Contact or the Request-URIs it received names it"
}

// usable reports whether a can be a box's address.
func usable(a netip.AddrPort) bool {
	return a.IsValid() && !a.Addr().IsUnspecified() && a.Port() != 0
}

// sentBy is the sent-by of v when it is an IP literal (received= and rport
// left aside: they say where the far end saw the sender).
func sentBy(v *sip.Via) netip.AddrPort {
	if v == nil {
		return netip.AddrPort{}
	}
	return hostPort(v.Host, v.Port, v.Transport == "TLS")
}

// receivedAddr is where the far end saw the sender of v: received= with
// rport (else the sent-by port).
func receivedAddr(v *sip.Via) netip.AddrPort {
	if v == nil || v.Received == "" {
		return netip.AddrPort{}
	}
	port := v.Port
	if v.RPort > 0 {
		port = v.RPort
	}
	return hostPort(v.Received, port, v.Transport == "TLS")
}

// contactAddr is the host and port of the first Contact of s, if an IP literal.
func contactAddr(s *sip.Message) netip.AddrPort {
	c := s.Get("Contact")
	if c == "" {
		return netip.AddrPort{}
	}
	a, err := sip.ParseAddr(sip.FirstItem(c))
	if err != nil {
		return netip.AddrPort{}
	}
	return uriAddr(&a.URI)
}

// uriAddr is the host and port of a sip:/sips: URI, if an IP literal.
func uriAddr(u *sip.URI) netip.AddrPort {
	if u.Scheme != "sip" && u.Scheme != "sips" {
		return netip.AddrPort{}
	}
	tls := u.Scheme == "sips" || strings.Contains(strings.ToLower(u.Params), "transport=tls")
	return hostPort(u.Host, u.Port, tls)
}

// hostPort is host:port for an IP literal host; port 0 means the default.
func hostPort(host string, port int, tls bool) netip.AddrPort {
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil || a.Zone() != "" {
		return netip.AddrPort{}
	}
	if port <= 0 || port > 65535 {
		port = 5060
		if tls {
			port = 5061
		}
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(port))
}
