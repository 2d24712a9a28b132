package call

import (
	"slices"
	"strings"
	"time"

	"github.com/sipflow/sipflow/parse/capture"
	"github.com/sipflow/sipflow/parse/sip"
)

// Default timings, in capture time.
const (
	// DefaultLinger is how long a finished call stays open for late
	// retransmissions (64*T1, RFC 3261 Timer B/F/H/J).
	DefaultLinger = 32 * time.Second
	// DefaultNoAnswer is how long an INVITE may go without a final response
	// before the call is closed as timed out (Timer B plus slack).
	DefaultNoAnswer = 64 * time.Second
	// DefaultMaxIdle closes an answered call that has seen no SIP for this long
	// (a BYE lost from the capture). Media is not SIP: a long call with no
	// re-INVITE is idle for SIP, so this is generous.
	DefaultMaxIdle = 4 * time.Hour
)

// DefaultCorrelationHeaders are the headers that tie B2BUA legs together.
var DefaultCorrelationHeaders = []string{"X-CID", "X-Call-ID", "Session-ID", "P-Charging-Vector"}

// Options tune the Builder.
type Options struct {
	// CorrelationHeaders name headers that tie legs with different Call-IDs
	// into one call. Session-ID (RFC 7989) matches on its UUIDs and
	// P-Charging-Vector on icid-value; any other header matches when its value
	// equals another leg's Call-ID or the same header's value in another leg.
	// Every message is looked at, so a value that shows up late (in a
	// response, or in a leg that began first) still merges the open calls it
	// ties; the older call keeps its identity. A value naming a Call-ID not
	// yet seen waits for it. Messages without a Call-ID are never
	// correlated. Names match case-insensitively, without compact forms.
	// Nil means DefaultCorrelationHeaders; an empty non-nil slice disables it.
	CorrelationHeaders []string
	// KeepFull says whether to keep the full message (Msg.Full) for a call
	// that has this Call-ID. It is asked once per Call-ID and call; messages
	// added to the call before a kept Call-ID joined it have no Full. Nil
	// keeps none.
	KeepFull func(callID string) bool
	// KeepMsgs keeps Call.Msgs on emitted calls (needed to render a ladder).
	// When false, emitted calls carry only their summary.
	KeepMsgs bool
	// Linger, NoAnswer, MaxIdle override the defaults when non-zero.
	Linger, NoAnswer, MaxIdle time.Duration
}

type corrKind uint8

const (
	corrCallID corrKind = iota // a Call-ID (what X-CID-style headers point at)
	corrSession
	corrICID
	corrHeader
	corrRef // a Call-ID named by a leg (X-CID) before that Call-ID was seen
)

type corrKey struct {
	kind  corrKind
	name  string // header name, lower case, for corrHeader
	value string
}

// active is a call still open in the Builder.
type active struct {
	call      Call
	seq       int64 // order of its first message
	keys      []corrKey
	last      time.Time
	invite    bool   // an initial INVITE was seen
	final     bool   // the initial INVITE got a final response
	finalCSeq uint32 // the highest CSeq of an INVITE final response
	answered  bool
	bye       bool
	nonInv    bool // first request is not an INVITE
	finalNI   bool // a final response to a non-INVITE request
	keepFull  bool
	gone      bool // merged into another call, or emitted: skip
}

// Builder groups messages into calls. It is not safe for concurrent use.
type Builder struct {
	opts    Options
	emit    func(*Call)
	byKey   map[corrKey]*active
	open    []*active
	seq     int64
	now     time.Time
	swept   time.Time
	corrHs  []string // lower-case header names
	corrLen uint64   // bit n set: a name in corrHs is n bytes long (n < 64)
	keyBuf  []corrKey
	scratch scratch
}

// NewBuilder returns a Builder that calls emit for each call when it is over
// (and for every call still open at Flush).
func NewBuilder(opts Options, emit func(*Call)) *Builder {
	if opts.Linger == 0 {
		opts.Linger = DefaultLinger
	}
	if opts.NoAnswer == 0 {
		opts.NoAnswer = DefaultNoAnswer
	}
	if opts.MaxIdle == 0 {
		opts.MaxIdle = DefaultMaxIdle
	}
	hs := opts.CorrelationHeaders
	if hs == nil {
		hs = DefaultCorrelationHeaders
	}
	b := &Builder{opts: opts, emit: emit, byKey: make(map[corrKey]*active)}
	for _, h := range hs {
		l := strings.ToLower(h)
		b.corrHs = append(b.corrHs, l)
		b.corrLen |= 1 << min(len(l), 63)
	}
	return b
}

// Open returns the number of calls in progress.
func (b *Builder) Open() int {
	n := 0
	for _, a := range b.open {
		if !a.gone {
			n++
		}
	}
	return n
}

// Add takes one message. The Builder keeps m only when KeepFull asks for it.
func (b *Builder) Add(m *capture.Message) {
	if m.Time.After(b.now) {
		b.now = m.Time
	}
	if b.now.Sub(b.swept) >= time.Second {
		b.sweep(false)
		b.swept = b.now
	}
	s := &m.SIP
	var a *active
	if s.CallID != "" {
		a = b.byKey[corrKey{kind: corrCallID, value: s.CallID}]
		if a != nil && b.done(a, m.Time) {
			// over since the last sweep: a late message starts a new call
			b.close(a)
			a = nil
		}
	}
	var keys []corrKey
	if s.CallID != "" { // a message without Call-ID is a call of its own
		keys = b.keysOf(s)
	}
	if a == nil {
		// First message of a Call-ID: join the call that its correlation
		// values name, or that named this Call-ID before it was seen.
		if s.CallID != "" {
			a = b.byKey[corrKey{kind: corrRef, value: s.CallID}]
		}
		if a == nil {
			a = b.lookup(keys)
		}
		if a == nil {
			a = b.start(m)
		}
	}
	a = b.correlate(a, s.CallID, keys)
	msg := compact(m)
	if a.keepFull {
		msg.Full = m
	}
	if n := len(a.call.Msgs); n > 0 && m.Time.Before(a.call.Msgs[n-1].Time) {
		// out of capture order (a second file, a late leg): keep time order
		i, _ := slices.BinarySearchFunc(a.call.Msgs, m.Time, func(x Msg, t time.Time) int {
			if x.Time.After(t) {
				return 1
			}
			return -1
		})
		a.call.Msgs = slices.Insert(a.call.Msgs, i, msg)
	} else {
		a.call.Msgs = append(a.call.Msgs, msg)
	}
	if m.Time.After(a.last) {
		a.last = m.Time
	}
	a.track(s)
}

// lookup finds the open call that a correlation value names.
func (b *Builder) lookup(keys []corrKey) *active {
	for _, k := range keys {
		if a := b.byKey[k]; a != nil {
			return a
		}
	}
	return nil
}

func (b *Builder) start(m *capture.Message) *active {
	b.seq++
	a := &active{seq: b.seq, last: m.Time}
	n := 2 // REGISTER, OPTIONS...: a request and its final response
	if m.SIP.Request && m.SIP.Method == sip.INVITE {
		n = 8 // an INVITE call is rarely shorter
	}
	a.call.Msgs = make([]Msg, 0, n)
	b.open = append(b.open, a)
	return a
}

// correlate registers a Call-ID and the correlation values of one of its
// messages with a, merging any other open call that shares one, and returns
// the call they all belong to now.
func (b *Builder) correlate(a *active, callID string, keys []corrKey) *active {
	if callID != "" {
		ck := corrKey{kind: corrCallID, value: callID}
		switch other := b.byKey[ck]; {
		case other == nil:
			b.register(a, ck)
			if !a.keepFull && b.opts.KeepFull != nil {
				a.keepFull = b.opts.KeepFull(callID)
			}
		case other != a:
			a = b.merge(a, other)
		}
		// a call that named this Call-ID (X-CID) before it was seen
		if other := b.byKey[corrKey{kind: corrRef, value: callID}]; other != nil && other != a {
			a = b.merge(a, other)
		}
	}
	for _, k := range keys {
		if k.kind == corrCallID {
			// a reference to another leg's Call-ID: join it if it is open,
			// else remember it for when that Call-ID shows up
			if other := b.byKey[k]; other != nil {
				if other != a {
					a = b.merge(a, other)
				}
				continue
			}
			k.kind = corrRef
		}
		switch other := b.byKey[k]; {
		case other == nil:
			b.register(a, k)
		case other != a:
			a = b.merge(a, other)
		}
	}
	return a
}

func (b *Builder) register(a *active, k corrKey) {
	k.value = strings.Clone(k.value) // not the message's memory: it outlives it
	b.byKey[k] = a
	a.keys = append(a.keys, k)
}

// merge joins two open calls that are one call and returns it: the older
// one (first message first) keeps its identity and takes the other's
// messages, in time order.
func (b *Builder) merge(x, y *active) *active {
	a, other := x, y
	if other.seq < a.seq {
		a, other = other, a
	}
	a.call.Msgs = append(a.call.Msgs, other.call.Msgs...)
	slices.SortStableFunc(a.call.Msgs, func(x, y Msg) int { return x.Time.Compare(y.Time) })
	a.invite = a.invite || other.invite
	a.final = a.final || other.final
	a.finalCSeq = max(a.finalCSeq, other.finalCSeq)
	a.answered = a.answered || other.answered
	a.bye = a.bye || other.bye
	a.finalNI = a.finalNI || other.finalNI
	a.keepFull = a.keepFull || other.keepFull
	if other.last.After(a.last) {
		a.last = other.last
	}
	for _, k := range other.keys {
		b.byKey[k] = a
		a.keys = append(a.keys, k)
	}
	other.keys = nil
	other.gone = true
	other.call.Msgs = nil
	return a
}

// keysOf returns the correlation values a message carries, in b.keyBuf.
// Header names match case-insensitively (no compact forms: none of the
// correlation headers has one).
func (b *Builder) keysOf(s *sip.Message) []corrKey {
	ks := b.keyBuf[:0]
	if len(b.corrHs) == 0 {
		return ks
	}
	for i := range s.Headers {
		h := &s.Headers[i]
		if b.corrLen&(1<<min(len(h.Name), 63)) == 0 {
			continue // no correlation header is that long
		}
		for _, name := range b.corrHs {
			if len(name) != len(h.Name) || !strings.EqualFold(name, h.Name) {
				continue
			}
			v := strings.TrimSpace(h.Value)
			if v == "" {
				continue
			}
			switch name {
			case "session-id":
				ks = appendSessionKeys(ks, v)
			case "p-charging-vector":
				if id := paramValue(v, "icid-value"); id != "" {
					ks = append(ks, corrKey{kind: corrICID, value: id})
				}
			default:
				ks = append(ks,
					corrKey{kind: corrCallID, value: v},
					corrKey{kind: corrHeader, name: name, value: v})
			}
		}
	}
	b.keyBuf = ks
	return ks
}

func appendSessionKeys(ks []corrKey, v string) []corrKey {
	for _, u := range sessionUUIDs(v) {
		ks = append(ks, corrKey{kind: corrSession, value: u})
	}
	return ks
}

// sessionUUIDs returns the non-null UUIDs of a Session-ID value
// ("local-uuid;remote=remote-uuid").
func sessionUUIDs(v string) []string {
	var out []string
	local, params, _ := strings.Cut(v, ";")
	add := func(u string) {
		u = strings.ToLower(strings.TrimSpace(u))
		if len(u) == 32 && strings.Trim(u, "0") != "" {
			out = append(out, u)
		}
	}
	add(local)
	if r := paramValue(";"+params, "remote"); r != "" {
		add(r)
	}
	return out
}

// paramValue returns the value of ;name=value in a header value.
func paramValue(v, name string) string {
	for _, p := range strings.Split(v, ";") {
		k, val, ok := strings.Cut(p, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.Trim(strings.TrimSpace(val), `"`)
		}
	}
	return ""
}

// track updates the cheap state that decides when a call is over.
func (a *active) track(s *sip.Message) {
	if s.Request {
		switch {
		case s.Method == sip.INVITE && s.To.Tag == "":
			if len(a.call.Msgs) == 1 || !a.invite && !a.nonInv {
				a.invite = true
			}
			if a.final && !a.answered && s.CSeq > a.finalCSeq {
				// a new attempt after a challenge (401/407) or a
				// failure: it waits for its own final response
				a.final = false
			}
		case s.Method == sip.BYE:
			a.bye = true
		case s.Method != sip.ACK && s.Method != sip.CANCEL && len(a.call.Msgs) == 1:
			a.nonInv = true
		}
		return
	}
	if s.StatusCode < 200 {
		return
	}
	if s.CSeqMethod == sip.INVITE {
		a.final = true
		a.finalCSeq = max(a.finalCSeq, s.CSeq)
		if s.StatusCode < 300 {
			a.answered = true
		}
	} else if s.CSeqMethod != sip.BYE && s.CSeqMethod != sip.CANCEL {
		a.finalNI = true
	}
}

// done says whether the call can be emitted at capture time now.
func (b *Builder) done(a *active, now time.Time) bool {
	idle := now.Sub(a.last)
	switch {
	case a.invite && a.answered && !a.bye:
		return idle >= b.opts.MaxIdle
	case a.invite && !a.final:
		return idle >= b.opts.NoAnswer
	case a.invite:
		return idle >= b.opts.Linger
	case a.nonInv && a.finalNI:
		return idle >= b.opts.Linger
	default:
		return idle >= b.opts.NoAnswer
	}
}

// sweep emits the calls that are over (all of them when final).
func (b *Builder) sweep(final bool) {
	keep := b.open[:0]
	for _, a := range b.open {
		switch {
		case a.gone:
		case final || b.done(a, b.now):
			b.finish(a)
		default:
			keep = append(keep, a)
		}
	}
	clear(b.open[len(keep):])
	b.open = keep
}

// close emits a before its turn in the next sweep (which then drops it).
func (b *Builder) close(a *active) {
	b.finish(a)
}

func (b *Builder) finish(a *active) {
	for _, k := range a.keys {
		if b.byKey[k] == a {
			delete(b.byKey, k)
		}
	}
	a.gone = true
	c := &a.call
	derive(c, b.now, b.opts.Linger, &b.scratch)
	b.scratch.own(c, b.opts.KeepMsgs)
	c.seq = a.seq
	if !b.opts.KeepMsgs {
		c.Msgs = nil // a finished call keeps only its summary
	}
	b.emit(c)
}

// Flush emits every call still open; call it at the end of the input.
func (b *Builder) Flush() { b.sweep(true) }

// compact takes what the model needs from a message, copying strings so that
// nothing points into the message's buffer once it is released. The strings
// of one message are copied into one allocation.
func compact(m *capture.Message) Msg {
	s := &m.SIP
	var branch string
	if len(s.Via) > 0 {
		branch = s.Via[0].Branch
	}
	reason := s.Get("Reason")
	var in *initial
	var pai, div sip.Addr
	if s.Request && s.To.Tag == "" {
		in = new(initial)
		if v := s.Get("P-Asserted-Identity"); v != "" {
			if ad, err := sip.ParseAddr(sip.FirstItem(v)); err == nil { // a malformed one is left out
				pai = ad
			}
		}
		if v := s.Get("Diversion"); v != "" {
			if ad, err := sip.ParseAddr(sip.FirstItem(v)); err == nil {
				div = ad
			}
		}
	}
	method := s.CSeqMethodName
	if s.Request {
		method = s.MethodName
	}

	// one buffer for every string kept
	n := len(s.Reason) + len(s.CallID) + len(s.From.Tag) + len(s.To.Tag) + len(s.CSeqMethodName) +
		len(method) + len(branch) + len(reason)
	if in != nil {
		n += partyLen(s.From) + partyLen(s.To) + partyLen(pai) + partyLen(div) + len(s.RequestURI.Raw)
	}
	var ar arena
	ar.Grow(n)

	msg := Msg{
		File:       m.File,
		Frame:      m.Frame,
		Time:       m.Time,
		Src:        m.Src,
		Dst:        m.Dst,
		Transport:  m.Transport,
		Request:    s.Request,
		StatusCode: s.StatusCode,
		Reason:     ar.clone(s.Reason),
		CSeq:       s.CSeq,
		CallID:     ar.clone(s.CallID),
		Problems:   len(s.Problems),
		fromTag:    ar.clone(s.From.Tag),
		toTag:      ar.clone(s.To.Tag),
		cseqMethod: ar.clone(s.CSeqMethodName),
		Branch:     ar.clone(branch),
		reasonHdr:  ar.clone(reason),
	}
	if s.Request {
		msg.Method = ar.clone(method)
	} else {
		msg.Method = msg.cseqMethod
	}
	if in != nil {
		in.from, in.to = ar.party(s.From), ar.party(s.To)
		in.pai, in.diversion = ar.party(pai), ar.party(div)
		in.ruri = ar.clone(s.RequestURI.Raw)
		msg.init = in
	}
	if s.SDP != nil {
		msg.SDP = s.SDP.Summary()
	}
	return msg
}

// arena copies strings into one buffer. Grow it to the total first: the
// strings it returns share the buffer, which must never be reallocated.
type arena struct{ strings.Builder }

func (a *arena) clone(s string) string {
	if s == "" {
		return ""
	}
	off := a.Len()
	a.WriteString(s)
	return a.String()[off:]
}

func (a *arena) party(ad sip.Addr) Party {
	return Party{Display: a.clone(ad.Display), User: a.clone(ad.URI.User), URI: a.clone(ad.URI.Raw)}
}

func partyLen(ad sip.Addr) int { return len(ad.Display) + len(ad.URI.User) + len(ad.URI.Raw) }
