// Package call groups SIP messages into the model a support engineer reasons
// about: transactions (branch + CSeq), dialogs (Call-ID + tags, early dialogs
// of a forked INVITE kept apart), legs (one Call-ID on one hop) and calls
// (legs correlated across proxies and B2BUAs), and derives the facts of each
// call: numbers, final status, setup time, post-dial delay, talk time, who
// ended it and why.
//
// The Builder is fed messages in capture order and emits each call when it is
// over (by capture time, never by wall clock), releasing its messages, so
// memory is bounded by the calls in progress.
package call

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	"github.com/sipflow/sipflow/parse/capture"
)

// State is how a call (or dialog) ended, or where it stands.
type State uint8

const (
	StateUnknown    State = iota
	StateInProgress       // input ended while the call was still being set up or up
	StateAnswered         // 2xx to the INVITE, still up when the input ended
	StateCompleted        // answered, then ended by BYE
	StateCancelled        // CANCEL before answer (487)
	StateFailed           // final 3xx-6xx to the INVITE
	StateNoAnswer         // INVITE never got a final response
	StateNonInvite        // REGISTER, OPTIONS, MESSAGE, SUBSCRIBE... (see FinalStatus)
)

var stateNames = [...]string{"unknown", "in-progress", "answered", "completed", "cancelled", "failed", "no-answer", "non-invite"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// EndCause is how a call ended.
type EndCause uint8

const (
	EndNone    EndCause = iota // not ended (or not an INVITE call)
	EndBye                     // BYE
	EndCancel                  // CANCEL before answer
	EndError                   // a final error response
	EndTimeout                 // no final response / no BYE within the input
)

var endNames = [...]string{"", "BYE", "CANCEL", "error", "timeout"}

func (e EndCause) String() string {
	if int(e) < len(endNames) {
		return endNames[e]
	}
	return ""
}

// Party is one end of a call as the signalling names it.
type Party struct {
	Display string // display name, "" if none
	User    string // user part (number) of the URI, "" if none
	URI     string // the URI, verbatim
}

// Msg is one SIP message in a call. Full is set only when the Builder was
// asked to keep messages for this call (Options.Keep).
type Msg struct {
	File           string
	Frame          int
	Time           time.Time
	Src, Dst       netip.AddrPort
	Transport      capture.Transport
	Request        bool
	Method         string // request method, or the CSeq method of a response
	StatusCode     int    // 0 for requests
	Reason         string // reason phrase of a response
	CSeq           uint32
	CallID         string
	Branch         string // top Via branch
	Leg            int    // index into Call.Legs
	Transaction    int    // index into Call.Transactions
	Retransmission bool   // same message seen before on the same hop
	SDP            string // one-line SDP summary, "" if none
	Problems       int    // number of parse problems
	Full           *capture.Message

	fromTag, toTag string
	cseqMethod     string
	reasonHdr      string   // Reason header, verbatim
	init           *initial // parties of an initial (out-of-dialog) request
}

// initial holds what an out-of-dialog request says about the parties.
type initial struct {
	from, to, pai, diversion Party
	ruri                     string
}

// Label is the arrow label: the method, or "code reason" for a response.
func (m *Msg) Label() string { return label(m) }

// Transaction is one request and its responses on one hop.
type Transaction struct {
	Leg         int
	Branch      string
	CSeq        uint32
	Method      string
	Request     int // index into Call.Msgs of the first request, -1 if only responses were seen
	FinalStatus int // 0 if none
	Retrans     int // retransmissions of the request and its responses
}

// Dialog is one dialog (or early dialog) on a leg.
type Dialog struct {
	Leg     int
	FromTag string
	ToTag   string // "" while only the request was seen
	Early   bool   // never confirmed by a 2xx
}

// Leg is one Call-ID on one hop: the messages between the same two hosts.
type Leg struct {
	CallID string
	A, B   netip.AddrPort // A sent the first request of the leg
	First  time.Time
}

// Call is one call (or one non-INVITE exchange) with its derived facts.
type Call struct {
	Index   int      // 1-based, in start-time order; set by Sort
	CallIDs []string // all Call-IDs of its legs, first seen first
	Start   time.Time
	End     time.Time
	Method  string // method of the first request (INVITE, REGISTER, ...)

	From, To   Party  // of the first request
	RequestURI string // of the first request
	PAI        Party  // P-Asserted-Identity, if any
	Diversion  Party  // Diversion / History-Info origin, if any

	FinalStatus int    // final response to the first INVITE (or request), 0 if none
	FinalReason string // its reason phrase
	State       State

	SetupTime     time.Duration // INVITE to final response; -1 if none
	PostDialDelay time.Duration // INVITE to first 18x; -1 if none
	TalkTime      time.Duration // 2xx/ACK to BYE (or to end of input); -1 if never answered

	EndedBy     netip.AddrPort // who sent the BYE/CANCEL/error response; zero if unknown
	EndedByFrom bool           // true if the ending request came from the caller's side
	EndCause    EndCause
	ReasonHdr   string // Reason header of the ending message, verbatim
	Q850        int    // Q.850 cause from the Reason header, 0 if none

	Legs         []Leg
	Transactions []Transaction
	Dialogs      []Dialog

	Messages        int // every message on the wire, each hop and retransmission
	Retransmissions int
	Broken          int // messages with parse problems

	Msgs []Msg // every message, capture order (kept in compact form while the call is open; released on emit unless kept)

	seq int64 // order of the first message in the input
}

// Sort puts calls in start-time order (input order on ties) and numbers them
// from 1.
func Sort(calls []*Call) {
	slices.SortStableFunc(calls, func(a, b *Call) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	for i, c := range calls {
		c.Index = i + 1
	}
}

// Dateless says t holds a time of day but no date: a text log that prints
// none (tcpdump -vvv, Asterisk chan_sip) gives its times on 1 January of
// year 1. Renderers show the time alone as it was logged, never that date,
// and convert it to no time zone (in year 1 a zone's offset is its local
// mean time, minutes off the modern one).
func Dateless(t time.Time) bool { return !t.IsZero() && t.UTC().Year() <= 1 }

// In is t in loc, or t as it is when it is Dateless.
func In(t time.Time, loc *time.Location) time.Time {
	if Dateless(t) {
		return t
	}
	return t.In(loc)
}
