// Package redact masks what must not leave the company in a report: digest
// credentials, phone numbers (all but the last few digits) and IP addresses
// (mapped to stable pseudonyms in the documentation ranges 192.0.2.0/24,
// 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32).
//
// It works on the call model and on the verbatim message text alike, so the
// ladder, the summary and the appendix of a report agree: the same address
// always becomes the same pseudonym, in Via, Contact, SDP c= lines and the
// packet addresses. Masked digits become 'x', which keeps lengths (and so
// Content-Length) intact; an address pseudonym may change a body's length,
// and then Content-Length is rewritten to match.
package redact

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/sipflow/sipflow/convert/call"
	"github.com/sipflow/sipflow/parse/capture"
)

// ErrBadSpec is wrapped by ParseSpec errors.
var ErrBadSpec = errors.New("redact: bad spec")

// DefaultDigits is how many trailing digits of a phone number stay visible.
const DefaultDigits = 3

// Mask replaces a secret (a digest response, nonce, cnonce).
const Mask = "REDACTED"

// Options say what to redact.
type Options struct {
	Credentials bool // digest response, nonce, cnonce, nextnonce, rspauth; Basic credentials
	Numbers     bool // phone numbers: all but the last Digits digits become 'x'
	IPs         bool // addresses become stable pseudonyms
	Digits      int  // digits kept by Numbers; 0 means DefaultDigits, negative means none
}

// Enabled reports whether o redacts anything.
func (o Options) Enabled() bool { return o.Credentials || o.Numbers || o.IPs }

// String is the spec ParseSpec reads back.
func (o Options) String() string {
	var s []string
	if o.Credentials {
		s = append(s, "credentials")
	}
	if o.Numbers {
		s = append(s, "numbers")
	}
	if o.IPs {
		s = append(s, "ips")
	}
	return strings.Join(s, ",")
}

func (o Options) digits() int {
	switch {
	case o.Digits == 0:
		return DefaultDigits
	case o.Digits < 0:
		return 0
	}
	return o.Digits
}

// ParseSpec reads the value of --redact: a comma-separated list of
// "credentials", "numbers", "ips" or "all". Credentials are always masked
// once anything is redacted, so "" and "credentials" mean the same.
func ParseSpec(spec string) (Options, error) {
	o := Options{Credentials: true}
	for _, f := range strings.Split(spec, ",") {
		switch strings.ToLower(strings.TrimSpace(f)) {
		case "", "credentials":
		case "numbers":
			o.Numbers = true
		case "ips":
			o.IPs = true
		case "all":
			o.Numbers, o.IPs = true, true
		default:
			return Options{}, fmt.Errorf("%w: %q: want credentials, numbers, ips or all", ErrBadSpec, strings.TrimSpace(f))
		}
	}
	return o, nil
}

// Redactor redacts calls with one memory of pseudonyms, so that the same
// address gets the same pseudonym in every call it redacts. It is not safe
// for concurrent use.
type Redactor struct {
	o       Options
	pseudo  map[netip.Addr]netip.Addr
	n4, n6  int
	numbers map[string]bool // digits of the phone numbers seen, '+' and separators dropped
}

// New returns a Redactor for o.
func New(o Options) *Redactor {
	return &Redactor{o: o, pseudo: map[netip.Addr]netip.Addr{}, numbers: map[string]bool{}}
}

// Apply returns a redacted deep copy of c (see Redactor.Call).
func Apply(c *call.Call, o Options) *call.Call { return New(o).Call(c) }

// Call returns a redacted deep copy of c; c is not modified. Full messages
// are rewritten and parsed again.
func (r *Redactor) Call(c *call.Call) *call.Call {
	if c == nil {
		return nil
	}
	d := *c
	d.CallIDs = append([]string(nil), c.CallIDs...)
	d.Legs = append([]call.Leg(nil), c.Legs...)
	d.Transactions = append([]call.Transaction(nil), c.Transactions...)
	d.Dialogs = append([]call.Dialog(nil), c.Dialogs...)
	if c.Msgs != nil {
		d.Msgs = append([]call.Msg(nil), c.Msgs...)
	}
	if !r.o.Enabled() {
		for i := range d.Msgs {
			if m := d.Msgs[i].Full; m != nil {
				d.Msgs[i].Full = cloneMessage(m)
			}
		}
		return &d
	}
	// Learn the numbers first, so that every field masks all of them.
	if r.o.Numbers {
		for _, p := range []call.Party{c.From, c.To, c.PAI, c.Diversion} {
			r.learn(p.User)
		}
		r.learnURI(c.RequestURI)
		for i := range c.Msgs {
			if m := c.Msgs[i].Full; m != nil {
				r.learnMessage(&m.SIP)
			}
		}
	}
	d.From, d.To, d.PAI, d.Diversion = r.party(c.From), r.party(c.To), r.party(c.PAI), r.party(c.Diversion)
	d.RequestURI = r.uri(c.RequestURI)
	for i := range d.CallIDs {
		d.CallIDs[i] = r.Text(d.CallIDs[i])
	}
	d.FinalReason = r.Text(c.FinalReason)
	d.ReasonHdr = r.Text(c.ReasonHdr)
	d.EndedBy = r.AddrPort(c.EndedBy)
	for i := range d.Legs {
		l := &d.Legs[i]
		l.CallID = r.Text(l.CallID)
		l.A, l.B = r.AddrPort(l.A), r.AddrPort(l.B)
	}
	for i := range d.Msgs {
		m := &d.Msgs[i]
		m.Src, m.Dst = r.AddrPort(m.Src), r.AddrPort(m.Dst)
		m.CallID = r.Text(m.CallID)
		m.Reason = r.Text(m.Reason)
		m.SDP = r.Text(m.SDP)
		if m.Full != nil {
			m.Full = r.message(m.Full)
		}
	}
	return &d
}

// cloneMessage deep-copies a capture message.
func cloneMessage(m *capture.Message) *capture.Message {
	n := *m
	n.SIP = *m.SIP.Clone()
	return &n
}

// AddrPort maps the address of ap to its pseudonym when IPs are redacted.
func (r *Redactor) AddrPort(ap netip.AddrPort) netip.AddrPort {
	if !r.o.IPs || !ap.IsValid() {
		return ap
	}
	return netip.AddrPortFrom(r.Addr(ap.Addr()), ap.Port())
}

// Addr maps a to its pseudonym when IPs are redacted: the first IPv4
// address seen becomes 192.0.2.1, the next 192.0.2.2, and so on through
// 198.51.100.0/24, 203.0.113.0/24 and then 100.64.0.0/10; IPv6 addresses
// become 2001:db8::1, 2001:db8::2... Unspecified and loopback addresses are
// kept: they say nothing about the network.
func (r *Redactor) Addr(a netip.Addr) netip.Addr {
	if !r.o.IPs || !a.IsValid() || a.IsUnspecified() || a.IsLoopback() {
		return a
	}
	mapped := a.Is4In6()
	key := a.Unmap().WithZone("")
	p, ok := r.pseudo[key]
	if !ok {
		if key.Is4() {
			p = pseudo4(r.n4)
			r.n4++
		} else {
			p = pseudo6(r.n6)
			r.n6++
		}
		r.pseudo[key] = p
	}
	if mapped {
		return netip.AddrFrom16(p.As16())
	}
	return p
}

func pseudo4(k int) netip.Addr {
	nets := [][3]byte{{192, 0, 2}, {198, 51, 100}, {203, 0, 113}}
	if k < 254*len(nets) {
		n := nets[k/254]
		return netip.AddrFrom4([4]byte{n[0], n[1], n[2], byte(k%254 + 1)})
	}
	v := uint32(100)<<24 | uint32(64)<<16 | uint32(k-254*len(nets)+1)&0x3fffff
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func pseudo6(k int) netip.Addr {
	var b [16]byte
	b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
	v := uint64(k + 1)
	for i := 15; i >= 8; i-- {
		b[i] = byte(v)
		v >>= 8
	}
	return netip.AddrFrom16(b)
}

// Text redacts free text: known phone numbers and IP addresses. It does not
// know which parts of s are credentials or display names; message text goes
// through the header-aware rewrite instead.
func (r *Redactor) Text(s string) string {
	if r.o.Numbers {
		s = r.maskKnown(s)
	}
	if r.o.IPs {
		s = r.mapIPs(s)
	}
	return s
}

func (r *Redactor) party(p call.Party) call.Party {
	if !r.o.Enabled() {
		return p
	}
	if r.o.Numbers {
		p.Display = maskRuns(p.Display, r.o.digits())
		if countDigits(p.User) > r.o.digits() {
			p.User = maskAll(p.User, r.o.digits())
		}
	}
	p.Display = r.Text(p.Display)
	p.User = r.Text(p.User)
	p.URI = r.uri(p.URI)
	return p
}

// uri redacts a URI: its user part when it holds a number, then the text.
func (r *Redactor) uri(u string) string {
	if r.o.Numbers {
		u = r.maskAddrValue(u)
	}
	return r.Text(u)
}
