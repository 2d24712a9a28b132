// Package sip is a hand-written, tolerant SIP message tokenizer.
//
// It is written by hand, not taken from a SIP stack such as sipgo, because a
// diagnostic tool must show exactly the messages a stack would refuse: LF-only
// line endings, header lines without a colon, a malformed From, Via or CSeq.
// A broken message is never dropped: Parse keeps its raw bytes and records
// each problem with its byte offset and line. It is also several times faster
// and allocates less than a general-purpose stack parser, which matters when
// a capture holds millions of messages.
//
// Ownership: Parse keeps slices of the buffer it is given (Raw, Body, header
// values point into it). The caller hands Parse a buffer that it will not
// reuse, or copies the message first.
package sip

import (
	"errors"
	"fmt"

	"github.com/sipflow/sipflow/parse/sdp"
)

// Sentinel errors. Problems wrap one of these, so callers test with errors.Is.
var (
	ErrNotSIP           = errors.New("sip: not a SIP message")
	ErrBadStartLine     = errors.New("sip: malformed start line")
	ErrBadHeader        = errors.New("sip: malformed header line")
	ErrBadCSeq          = errors.New("sip: malformed CSeq")
	ErrBadVia           = errors.New("sip: malformed Via")
	ErrBadAddress       = errors.New("sip: malformed name-addr")
	ErrBadContentLength = errors.New("sip: malformed Content-Length")
	ErrTruncated        = errors.New("sip: body shorter than Content-Length")
	ErrMissingHeader    = errors.New("sip: mandatory header missing")
	ErrBadBody          = errors.New("sip: malformed body")
)

// Problem is one defect found in a message, with its position.
type Problem struct {
	Offset int   // byte offset in Message.Raw
	Line   int   // 1-based line number in Message.Raw
	Err    error // wraps one of the sentinel errors
}

func (p Problem) Error() string { return fmt.Sprintf("line %d (byte %d): %v", p.Line, p.Offset, p.Err) }
func (p Problem) Unwrap() error { return p.Err }

// Method is a SIP request method.
type Method uint8

const (
	MethodOther Method = iota // any method not listed; see Message.MethodName
	INVITE
	ACK
	BYE
	CANCEL
	REGISTER
	OPTIONS
	PRACK
	UPDATE
	INFO
	SUBSCRIBE
	NOTIFY
	REFER
	MESSAGE
	PUBLISH
)

// Header is one header line as on the wire.
type Header struct {
	Name   string // as written on the wire (may be compact, e.g. "i")
	Value  string // unfolded (continuation lines joined by one space), trimmed
	Offset int    // byte offset of the header line in Message.Raw

	id hid // the header, plus one, as the parser found it; 0 if not looked up
}

// hid is the header h names, looked up once by the parser.
func (h *Header) hid() hid {
	if h.id != 0 {
		return h.id - 1
	}
	return headerID(h.Name)
}

// URI is a SIP/SIPS/TEL URI, split leniently.
type URI struct {
	Raw    string // verbatim
	Scheme string // "sip", "sips", "tel", ... lower case
	User   string // user part, or the tel number
	Host   string // host name or address; an IPv6 reference without its brackets
	Port   int    // 0 if absent
	Params string // everything after the first ';' in the hostport part, raw

	Password string // "password" of user:password@, "" if none
	Headers  string // everything after '?', raw, "" if none
}

// Addr is a name-addr or addr-spec (From, To, Contact, P-Asserted-Identity...).
type Addr struct {
	Raw     string // verbatim header value
	Display string // display name, unquoted, unescaped
	URI     URI
	Tag     string // tag parameter, "" if none

	Params string // header parameters after the URI (";tag=a;foo"), raw, without the first ';'
}

// Via is one Via value (one header may carry several, comma-separated).
type Via struct {
	Raw       string
	Transport string // "UDP", "TCP", "TLS", "WS", "WSS", "SCTP" (upper case)
	Host      string // sent-by host; an IPv6 reference without its brackets
	Port      int
	Branch    string
	Received  string
	RPort     int // 0 if absent or empty
}

// Part is one body part; a non-multipart body is one part.
type Part struct {
	ContentType string // lower case, parameters stripped
	Body        []byte
}

// Message is a parsed SIP request or response. Every field is reset by Parse.
type Message struct {
	Raw []byte // the whole message, start line to end of body

	Request    bool
	Method     Method // requests only
	MethodName string // request method token as on the wire (upper case as sent)
	RequestURI URI    // requests only
	StatusCode int    // responses only
	Reason     string // responses only: reason phrase

	Headers []Header // every header, wire order

	// Hot headers, parsed eagerly. Compact forms are accepted.
	CallID         string
	From, To       Addr
	CSeq           uint32
	CSeqMethod     Method
	CSeqMethodName string
	Via            []Via  // all Via values, in order, across headers
	ContentType    string // media type only, lower case, parameters stripped ("application/sdp")
	ContentLength  int    // -1 if absent or unreadable

	Body  []byte // the body as framed (Content-Length, else to the end)
	Parts []Part // body parts (multipart/mixed split), empty if no body
	SDP   *sdp.Session

	Problems []Problem

	noSDP bool // ParseWith was asked not to parse SDP
	light bool // ParseWith was asked for Options.Light
}
