// Package capture turns capture files into SIP messages and media packets:
// it runs the file reader (parse/pcap), the link/IP decoder with fragment
// reassembly (parse/packet), TCP reassembly (parse/tcp), WebSocket (parse/ws)
// and HEP (parse/hep) decapsulation, recognises SIP by content on any port,
// drops duplicate packets, counts TLS flows it cannot read, and hands every
// SIP message to the caller as it is found. It keeps no message after the
// handler returns, so memory is bounded by what is open at once (TCP streams,
// fragments, the duplicate window), not by file size.
//
// The file is read, decoded, parsed and handled in goroutines of their own,
// in capture order. An Inline handler takes the media (and a light parse of
// each SIP message, or of those it wants: PeekFilter) on the reading
// goroutine itself: a media analysis then costs no copy and no hand-over
// per packet.
package capture

import (
	"net/netip"
	"time"

	"github.com/sipflow/sipflow/parse/sip"
)

func (t Transport) String() string {
	switch t {
	case UDP:
		return "UDP"
	case TCP:
		return "TCP"
	case TLS:
		return "TLS"
	case WS:
		return "WS"
	case WSS:
		return "WSS"
	case SCTP:
		return "SCTP"
	}
	return "Transport(" + itoa(int(t)) + ")"
}

func (e Encap) String() string {
	switch e {
	case EncapNone:
		return "none"
	case EncapHEP:
		return "HEP"
	case EncapTunnel:
		return "tunnel"
	}
	return "Encap(" + itoa(int(e)) + ")"
}

// Transport is the transport a message was carried on.
type Transport uint8

const (
	UDP Transport = iota
	TCP
	TLS
	WS
	WSS
	SCTP
)

// Encap says what wrapped the packet on the wire, if anything.
type Encap uint8

const (
	EncapNone   Encap = iota
	EncapHEP          // HEP v2/v3: addresses and time are HEP's own
	EncapTunnel       // IP-in-IP or GRE
)

// Message is one SIP message as seen on the wire. It owns its bytes.
type Message struct {
	File      string         // the input file's path, as given
	Frame     int            // 1-based frame number of the (last) frame carrying it; line number for text logs
	Time      time.Time      // capture (or HEP) timestamp, UTC
	Src, Dst  netip.AddrPort // invalid (zero) when the input does not say
	Transport Transport
	Encap     Encap
	// FromLog says the message was read from a text log, which holds the
	// signalling only: its call's media cannot be measured from it.
	FromLog bool
	SIP     sip.Message
}

// Media is one UDP datagram that is not SIP (RTP, RTCP, UDPTL, anything).
// Payload is valid only during the Handler call.
type Media struct {
	File     string
	Frame    int
	Time     time.Time
	Src, Dst netip.AddrPort
	Payload  []byte
	IPID     uint32 // the IPv4 identification (IPv6: the fragment's, or 0)
	// Dups is set when the handler checks this datagram for copies itself
	// (OwnDuplicates); nil when the reader has checked it already.
	Dups *Dups
}

// OwnDuplicates is an Inline handler that checks the media datagrams for
// copies itself, where it can do so for less than the reader's check of
// every packet: a media analysis has each RTP stream's recent sequence
// numbers at hand already. Such a handler gets each media datagram
// unchecked, with Media.Dups, and must either call Dups.Seen before it
// uses the datagram, or call Dups.Drop for a copy it finds itself and not
// use it. A copy is what the reader's check would take for one: same
// addresses, ports, IP identification and contents, within the duplicate
// window (Options.DuplicateWindow) in capture time. The reader counts the
// copies dropped either way in Stats.Duplicates, as its own.
type OwnDuplicates interface {
	Inline
	// OwnDuplicates false: the reader checks, as for any handler; so it
	// does with Options.KeepDuplicates (none is checked), or without
	// Options.Media (no media is delivered)
	OwnDuplicates() bool
}

// Dups is the reader's side of OwnDuplicates, for the datagram being
// delivered.
type Dups struct {
	r       *reader
	dropped bool
}

// Seen runs the reader's own check on the datagram being delivered, and
// reports a copy (which the handler must then drop). A nil Dups (the reader
// has checked already) reports false.
func (d *Dups) Seen(p *Media) bool {
	if d == nil || d.dropped {
		return d != nil
	}
	d.dropped = d.r.udpDuplicate(&d.r.pkt, false, false, p.Time.UnixNano())
	return d.dropped // counted by the reader (ownMedia)
}

// Drop says the handler found the datagram to be a copy and dropped it.
func (d *Dups) Drop() { d.dropped = true }

// Window is how close in capture time two copies must be
// (Options.DuplicateWindow, or its default).
func (d *Dups) Window() time.Duration { return time.Duration(d.r.dup.window * dupTick) }

// Handler receives what a file holds, in capture order.
type Handler interface {
	SIP(m *Message) // m is owned by the handler from now on
	Media(p *Media) // p and p.Payload are reused after the call returns
}

// Inline is a Handler split in two halves that run side by side: Peek and
// Media run on the goroutine that reads the file, SIP on a goroutine of its
// own. Peek sees each SIP message, parsed, before any media datagram that
// follows it in the capture and before SIP gets it; Media gets each datagram
// straight from the read buffers, with no copy and no hand-over. A media
// analysis that must see the SDP before the media it announces (Peek) and
// measures every packet (Media) thus runs in the reading goroutine, on a
// trunk's 95% of RTP, while grouping the calls (SIP) runs beside it.
//
// Peek must not modify m nor keep it, or anything of it, after it returns.
// Readers that run the Handler on one goroutine call Peek then SIP for each
// message (see Serial).
type Inline interface {
	Handler
	Peek(m *Message)
}

// PeekFilter is an Inline handler with no use in Peek for some messages,
// which it can tell from what the reader finds before parsing them
// (PeekInfo). The reader does not parse those for Peek; SIP gets every
// message all the same. On a trunk, OPTIONS and REGISTER with their
// answers, ACKs, provisional responses and the answers to BYE are three
// messages in four.
type PeekFilter interface {
	Inline
	PeekWants(PeekInfo) bool
}

// PeekInfo is what the reader knows of a message before parsing it.
type PeekInfo struct {
	Request bool
	Method  sip.Method // of a request
	Status  int        // of a response
	// CSeqMethod is the method of the CSeq, MethodOther when the reader
	// cannot tell (see sip.Frame).
	CSeqMethod sip.Method
	Body       bool // the message may have a body
}

// Serial returns h as a Handler that runs on one goroutine: for an Inline
// handler each message goes to Peek and then SIP; any other h is returned as
// it is. Readers that deliver everything from one goroutine (text logs, the
// merge of several inputs) use it, so an Inline handler sees the same calls
// in the same order from any reader.
func Serial(h Handler) Handler {
	if ih, ok := h.(Inline); ok {
		return serial{ih}
	}
	return h
}

// serial is not an Inline itself: a reader given it calls SIP alone.
type serial struct{ h Inline }

func (s serial) SIP(m *Message) {
	s.h.Peek(m)
	s.h.SIP(m)
}

func (s serial) Media(p *Media) { s.h.Media(p) }

// Options tune reading.
type Options struct {
	KeepDuplicates bool // keep packets seen twice (tcpdump -i any, two interfaces)
	Media          bool // deliver non-SIP UDP datagrams to Handler.Media
	NoSDP          bool // leave sip.Message.SDP nil (see sip.Options); an Inline handler's Peek has it all the same
	// ReuseMessages says the Handler keeps nothing of a Message once SIP
	// returns: no pointer to it, its bytes or any of its strings. The
	// reader then reuses Messages and their buffers.
	ReuseMessages bool
	// DuplicateWindow is how close in capture time two identical packets must
	// be to count as one. Zero means 5 ms.
	DuplicateWindow time.Duration
}

// Warning is one problem in a file that did not stop reading it.
type Warning struct {
	File   string
	Frame  int   // 0 if the problem is not tied to a frame
	Offset int64 // byte offset in the (decompressed) file, -1 if unknown
	Err    error
}

// Stats counts what was read; Add merges the counts of several files.
type Stats struct {
	Files        int
	Frames       int       // records in the file(s)
	SIPMessages  int       // delivered to Handler.SIP
	Broken       int       // delivered messages with at least one Problem
	Duplicates   int       // packets dropped as duplicates
	TLSFlows     int       // TCP flows recognised as TLS, not readable
	MediaPackets int       // non-SIP UDP datagrams (delivered or not)
	BadPackets   int       // frames that could not be decoded (malformed headers...)
	Keepalives   int       // CRLF, zero-byte and STUN datagrams skipped
	HEPPackets   int       // HEP packets unwrapped (any payload type)
	Warnings     []Warning // bounded; see MaxWarnings
}
