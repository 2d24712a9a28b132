// Package sdp is a lenient SDP (RFC 4566/8866) reader.
//
// It is written by hand because pion/sdp rejects what real devices send: an
// unknown x= line, a= before c=, a missing s= or t=, trailing garbage. This
// reader takes each line on its own, keeps what it understands, and records
// the rest as problems, so a diagnostic tool can still show the media.
package sdp

import (
	"errors"
	"fmt"
	"net/netip"
)

var (
	ErrEmpty   = errors.New("sdp: empty body")
	ErrBadLine = errors.New("sdp: malformed line")
)

// Direction is the media direction attribute.
type Direction uint8

const (
	SendRecv Direction = iota // the default when none is given
	SendOnly
	RecvOnly
	Inactive
)

// String returns the attribute name: "sendrecv", "sendonly", "recvonly",
// "inactive".
func (d Direction) String() string {
	switch d {
	case SendRecv:
		return "sendrecv"
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// RTPMap is one a=rtpmap (or a static payload type filled from the table).
type RTPMap struct {
	PT        int
	Encoding  string // as written, e.g. "PCMU", "telephone-event"
	ClockRate int
	Channels  int // 0 if not given
}

// Media is one m= section with its effective attributes (session-level
// values inherited where the media level has none).
type Media struct {
	Type      string     // audio, video, image, application
	Port      int        // RTP port
	Proto     string     // RTP/AVP, RTP/SAVP, RTP/SAVPF, udptl, ...
	Formats   []string   // payload formats as listed on the m= line
	Addr      netip.Addr // effective connection address (media c=, else session c=); invalid if none
	RTCPPort  int        // a=rtcp port, else Port+1
	RTCPAddr  netip.Addr // a=rtcp address if given, else Addr
	Direction Direction  // effective direction
	RTPMaps   []RTPMap   // rtpmap per listed format, static table filling gaps, in m= order
	Ptime     int        // a=ptime, 0 if absent

	// AddrRaw is the effective c= connection address as written, without
	// a /ttl suffix; it is set even when Addr is invalid (a host name).
	AddrRaw string
	// Line is the 1-based line of the m= line in the body.
	Line int
}

// Session is a parsed SDP body.
type Session struct {
	Origin    string     // o= line value, verbatim
	Name      string     // s=
	Addr      netip.Addr // session-level c= address, invalid if none
	Direction Direction  // session-level direction
	Media     []Media
	Problems  []Problem

	// AddrRaw is the session-level c= address as written (without /ttl),
	// kept even when it is a host name and Addr is invalid.
	AddrRaw string
}

// Problem is one line the reader could not understand.
type Problem struct {
	Line int // 1-based line in the body
	Err  error
}

func (p Problem) Error() string { return fmt.Sprintf("line %d: %v", p.Line, p.Err) }
func (p Problem) Unwrap() error { return p.Err }
