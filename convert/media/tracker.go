package media

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/sipflow/sipflow/parse/capture"
	"github.com/sipflow/sipflow/parse/rtp"
	"github.com/sipflow/sipflow/parse/sdp"
	"github.com/sipflow/sipflow/parse/sip"
)

// side is which party of a call announced something.
type side uint8

const (
	caller side = iota
	callee
)

func (s side) other() side { return 1 - s }

// endpoint is one address:port an SDP announced for media (or RTCP).
type endpoint struct {
	call  *callState
	side  side
	index int // m= line index in the SDP
	rtcp  bool
	fax   bool
	srtp  bool
	media string
	maps  []pmap
	sdp   *sdpInfo // the SDP that announced it
	// flows are the flows resolved to this endpoint since it last
	// changed: when it changes, each is marked stale, so that a packet need
	// not look at its endpoint to know it is still current
	flows []*flow
}

// sdpInfo is what the call keeps of one SDP: per m= line the address,
// port and formats, and the hop it was sent on.
type sdpInfo struct {
	side  side
	hop   hop
	media []sdpMedia
}

// hop is the pair of SIP hosts a message went between, in either direction.
type hop struct{ a, b netip.AddrPort }

func hopOf(m *capture.Message) hop {
	if m.Src.Compare(m.Dst) > 0 {
		return hop{m.Dst, m.Src}
	}
	return hop{m.Src, m.Dst}
}

type sdpMedia struct {
	typ     string
	addr    netip.AddrPort
	formats []int
	// hold says the line asks for media one way or none: a direction
	// other than sendrecv, or the address 0.0.0.0 (RFC 2543 hold); none
	// says it asks for none (inactive, 0.0.0.0)
	hold, none bool
}

// callState is what the Tracker knows of one Call-ID.
type callState struct {
	id          string
	start       time.Time // its first message
	callerTag   string
	answered    time.Time // first 2xx to an INVITE, zero if none
	bye         time.Time // first BYE, zero if none
	byeFrame    int
	byeFile     string
	byeCSeq     uint32 // the CSeq of that BYE
	pending     bool   // an offer waits for its answer
	pendingSide side
	offerSDP    []uint32    // INVITE/UPDATE CSeqs whose request carried SDP
	last        [2]*sdpInfo // the latest SDP of each side
	// hops holds, per side, the latest SDP on each hop: through a proxy
	// that relays media (rtpengine), each leg's SDP has other addresses
	hops    [2][]*sdpInfo
	answer  *sdpInfo   // the latest answer
	answers []*sdpInfo // the latest answer on each hop
	// callers is, per hop, the address that sent the hop's first INVITE
	// without To tag: the caller's side of that hop
	callers []hopCaller
	// holds are the SDPs that put a stream on hold (sendonly, recvonly,
	// inactive, or c=0.0.0.0): a silence then is what the SDP asked for
	holds    []holdAt
	fax      bool
	captured bool // a message came from a capture, not a text log
	problems []Problem
	streams  []*Stream
	states   []*state
}

type flowKey struct{ src, dst netip.AddrPort }

// key4 is the flow map key of an IPv4 flow: both addresses in ips, both
// ports in ports. Two words hash and compare far faster than two
// netip.AddrPort (each 24 bytes with a zone pointer).
type key4 struct{ ips, ports uint64 }

// recentSlots is the size of the Tracker's table of recent IPv4 flows.
const (
	recentBits  = 14
	recentSlots = 1 << recentBits
)

// key6 is the flow map key of any other flow (IPv6, or IPv4-mapped IPv6,
// which netip keeps apart from IPv4).
type key6 struct {
	src, dst [16]byte
	ports    uint32
	v4       uint8 // bit 0: src is IPv4, bit 1: dst is IPv4
}

type flowKind uint8

const (
	flowUnknown flowKind = iota
	flowIgnore
	flowRTP
	flowRTCP
	flowFax
	flowCandidate
)

// flow is the Tracker's cache for one src->dst pair.
type flow struct {
	// what every packet reads comes first: one cache line
	k4   key4 // for an IPv4 flow
	kind flowKind
	toEP bool // ep is the destination's (else the source's)
	// stale says ep changed since the flow was resolved: a re-announced
	// endpoint may change kind (audio -> T.38), or be another call's
	stale bool
	gen   uint32 // Tracker.gen when an ignore decision was made
	ep    *endpoint
	cur   *state // the RTP stream of the last packet
	used  bool   // first holds a stream
	// first is the flow's first stream, made in the same allocation: the
	// packets of a flow that keeps its stream read one object, and its
	// cache lines can all be fetched at once, with no pointer to follow
	first state

	key  flowKey
	fax  *state // the T.38 stream of the flow
	prev []*state
	cand candidate
}

// candidate is an unsignalled flow waiting for a second packet that
// confirms it is RTP (same SSRC, sequence number 1-100 ahead).
type candidate struct {
	n      int
	ssrc   uint32
	seq    uint16
	pkt    pending
	failed int
}

// pending is a packet held back while a flow is being confirmed.
type pending struct {
	t       time.Time
	hdr     rtp.Fixed
	payload [4]byte
	plen    int
	frame   int
	file    string
}

// state is one stream being measured.
type state struct {
	// What every packet reads and writes comes first, and then the
	// analysis: with the flow's own fields before them (flow.first), a
	// packet touches five cache lines, where a stream sees a packet every
	// few hundred packets of a trunk, long enough for its lines to leave
	// the cache. What each packet updates is kept here, next to the rest,
	// and goes to the Stream in Finish (finishStream).
	ssrc    uint32
	lastSeq uint16
	jbInit  bool
	ptCheck bool // check the next packet's payload type (see badPTs)
	// what the payload type of the last packet means (clockFor, isCN,
	// isEvent), for infoPT; -1 when the endpoint changed (endpoint.changed)
	infoPT    int32
	lastPT    int32
	info      ptInfo
	clockRate int32
	packets   int
	bytes     int64
	extTS     int64
	lastNs    int64 // capture time of the last packet, Unix ns
	maxGapNs  int64
	// jitter buffer simulation
	jbBase  float64 // minimum transit seen, ms
	firstTS int64
	// loss bursts for BurstR
	lossEvents int
	seen       [4]uint64 // bitmap of the last 256 sequence numbers, for duplicates
	// copies holds, by sequence number mod copySlots, what copied compares
	// (copyEntry); nil when the reader checks for copies
	copies *copies
	call   *callState
	ep     *endpoint
	a      analysis

	s        *Stream
	toEP     bool
	firstNs  int64 // capture time of the first packet, Unix ns
	lastEvTS uint32
	wantSrc  netip.AddrPort // what SDP announced as the source, if known
	// payload types checked against the answer in force when they are
	// sent: ptCheck asks for the next packet's to be checked (the answer
	// changed), unchecked were sent before any answer (checked in Finish
	// against the last), badPTs are flagged already
	unchecked []int
	badPTs    []int
}

// Tracker finds and measures streams. It is not safe for concurrent use.
type Tracker struct {
	opts     Options
	calls    map[string]*callState
	order    []*callState
	eps      map[netip.AddrPort]*endpoint
	flows4   map[key4]*flow
	recent4  *[recentSlots]*flow // IPv4 flows by a hash of their key4, checked against flow.k4
	flows6   map[key6]*flow
	streams  []*state
	gen      uint32
	baseNs   int64 // Unix ns of the first packet or message: ms() counts from it
	haveBase bool
	rtcp     map[rtcpKey]*RTCPStats // by the call and SSRC the figures are about
	rtcpCall map[uint32]rtcpCalls   // by SSRC: which calls' flows carried RTCP about it
	srSeen   map[uint32]time.Time   // SR NTP middle 32 bits -> capture time
	report   rtp.Report
	hdr      rtp.Fixed
	logSeen  bool    // SIP has had a message from a text log
	jbMs     float64 // Options.JitterBuffer in ms
	// the streams that have copies (capture.OwnDuplicates), and copies
	// given back by streams gone silent, for new streams
	withCopies []*state
	freeCopies []*copies
	sweptNs    int64 // capture time of the last freeIdleCopies
	// mediaAddrs is every address a media datagram came from or went to,
	// made from the flows when Finish first needs it
	mediaAddrs map[netip.Addr]bool
}

// NewTracker returns a Tracker.
func NewTracker(o Options) *Tracker {
	if o.JitterBuffer == 0 {
		o.JitterBuffer = DefaultJitterBuffer
	}
	if o.AfterBye == 0 {
		o.AfterBye = 500 * time.Millisecond
	}
	if o.Gap == 0 {
		o.Gap = time.Second
	}
	return &Tracker{
		opts:     o,
		jbMs:     float64(o.JitterBuffer) / 1e6,
		calls:    make(map[string]*callState),
		eps:      make(map[netip.AddrPort]*endpoint),
		flows4:   make(map[key4]*flow),
		recent4:  new([recentSlots]*flow),
		flows6:   make(map[key6]*flow),
		rtcp:     make(map[rtcpKey]*RTCPStats),
		rtcpCall: make(map[uint32]rtcpCalls),
		srSeen:   make(map[uint32]time.Time),
	}
}

// ms is Wireshark's time of a packet: ms since the first packet of the
// input, from its Unix nanoseconds.
func (t *Tracker) ms(ns int64) float64 {
	if !t.haveBase {
		t.baseNs, t.haveBase = ns, true
	}
	d := ns - t.baseNs
	return float64(d/1e9)*1000 + float64(d%1e9)/1e6
}

// flow returns the flow src -> dst, made if new.
func (t *Tracker) flow(src, dst netip.AddrPort) *flow {
	sa, da := src.Addr(), dst.Addr()
	if sa.Is4() && da.Is4() {
		k := keyOf4(sa, da, src.Port(), dst.Port())
		slot := t.recentSlot(k)
		if f := *slot; f != nil && f.k4 == k {
			return f
		}
		f := t.flows4[k]
		if f == nil {
			f = &flow{key: flowKey{src, dst}, k4: k}
			t.flows4[k] = f
		}
		*slot = f
		return f
	}
	k := key6{src: sa.As16(), dst: da.As16(), ports: uint32(src.Port())<<16 | uint32(dst.Port())}
	if sa.Is4() {
		k.v4 |= 1
	}
	if da.Is4() {
		k.v4 |= 2
	}
	f := t.flows6[k]
	if f == nil {
		f = &flow{key: flowKey{src, dst}}
		t.flows6[k] = f
	}
	return f
}

// keyOf4 is the key4 of an IPv4 flow.
func keyOf4(sa, da netip.Addr, sp, dp uint16) key4 {
	s4, d4 := sa.As4(), da.As4()
	return key4{
		ips:   uint64(binary.BigEndian.Uint32(s4[:]))<<32 | uint64(binary.BigEndian.Uint32(d4[:])),
		ports: uint64(sp)<<16 | uint64(dp),
	}
}

// recentSlot is the slot of k in the direct-mapped table in front of the
// map of IPv4 flows: one multiply, one load and one compare when the flow
// is there, and it is, but for two busy flows that share a slot.
func (t *Tracker) recentSlot(k key4) **flow {
	return &t.recent4[((k.ips^k.ports<<20)*0x9E3779B97F4A7C15)>>(64-recentBits)]
}

// SIP takes one SIP message: its SDP announces endpoints, its method and
// status move the call's state. m is not kept.
func (t *Tracker) SIP(m *capture.Message) {
	t.ms(m.Time.UnixNano())
	s := &m.SIP
	if m.FromLog {
		t.logSeen = true
	}
	if s.CallID == "" {
		return
	}
	c := t.calls[s.CallID]
	if c != nil && !c.bye.IsZero() && s.Request && s.Method == sip.INVITE && s.To.Tag == "" {
		// A new dialog in a Call-ID whose call has ended: the Call-ID used
		// again, or the same call captured twice. It is a call of its own,
		// whose media must not run on in the streams of the first.
		c = nil
	}
	if c == nil {
		if !(s.Request && s.Method == sip.INVITE) && s.SDP == nil {
			return // no media in this Call-ID (yet)
		}
		c = &callState{id: strings.Clone(s.CallID), start: m.Time, callerTag: strings.Clone(s.From.Tag)}
		t.calls[c.id] = c
		t.order = append(t.order, c)
	}
	// who sent it: a request from the caller's From tag, or a response to a
	// request from the callee
	if !m.FromLog {
		c.captured = true
	}
	sender := c.sideOf(m)
	switch {
	case s.Request && s.Method == sip.BYE && c.bye.IsZero():
		c.bye, c.byeFrame, c.byeFile, c.byeCSeq = m.Time, m.Frame, m.File, s.CSeq
	case !s.Request && s.CSeqMethod == sip.BYE && s.StatusCode >= 300 && s.StatusCode != 481 && s.StatusCode != 408 &&
		!c.bye.IsZero() && s.CSeq == c.byeCSeq:
		// the BYE was refused (500 Request out of order): the call goes
		// on, and its media with it, until a BYE that ends it. A 481 or
		// 408 ends the dialog all the same (RFC 3261 15.1.1).
		c.bye = time.Time{}
	case !s.Request && s.CSeqMethod == sip.INVITE && s.StatusCode >= 200 && s.StatusCode < 300 && c.answered.IsZero():
		c.answered = m.Time
	}
	if s.SDP == nil {
		return
	}
	if s.Request && (s.Method == sip.INVITE || s.Method == sip.UPDATE) {
		if !slices.Contains(c.offerSDP, s.CSeq) {
			c.offerSDP = append(c.offerSDP, s.CSeq)
		}
	}
	info := t.register(c, sender, s.SDP, m)
	switch {
	case c.pending && c.pendingSide != sender:
		c.pending = false
		c.setAnswer(info)
	case !s.Request && !c.pending && slices.Contains(c.offerSDP, s.CSeq):
		c.setAnswer(info) // the answer again (183, then 200)
	case s.Request && s.Method == sip.ACK:
		c.setAnswer(info)
	default:
		c.pending, c.pendingSide = true, sender
	}
	c.last[sender] = info
	c.setHop(info)
	// a private address sent to a public peer
	if dst := m.Dst.Addr(); dst.IsValid() && public(dst) {
		for _, md := range info.media {
			if a := md.addr.Addr(); a.IsValid() && private(a) && md.addr.Port() != 0 {
				p := Problem{Kind: PrivateSDP, Time: m.Time, File: m.File, Frame: m.Frame,
					Detail: "SDP in " + label(s) + " offers " + a.String() + " to public " + dst.String()}
				// once: a retransmission, or the INVITE sent again with
				// credentials after a 401/407, says the same
				if !slices.ContainsFunc(c.problems, func(q Problem) bool { return q.Kind == p.Kind && q.Detail == p.Detail }) {
					c.problems = append(c.problems, p)
				}
				break
			}
		}
	}
}

// PeekWants says which messages SIP has no use for (capture.PeekFilter).
// Without a body, only an INVITE, a BYE, a 2xx to an INVITE and a final
// refusal of a BYE change anything; and every message counts for the first
// (the Tracker's time base), or after a message from a text log (a message
// captured on the wire then marks the log's call as seen there). That
// leaves out OPTIONS, REGISTER, ACK and CANCEL, with their answers,
// provisional responses without SDP, a 200 to a BYE and the failures of
// an INVITE.
func (t *Tracker) PeekWants(pi capture.PeekInfo) bool {
	switch {
	case pi.Body || !t.haveBase || t.logSeen:
		return true
	case pi.Request:
		return pi.Method == sip.INVITE || pi.Method == sip.BYE
	case pi.Status < 200:
		return false
	}
	switch pi.CSeqMethod {
	case sip.INVITE:
		return pi.Status < 300
	case sip.BYE:
		return pi.Status >= 300
	case sip.MethodOther:
		return true // the reader could not tell
	}
	return false
}

// hopCaller is the caller's address on a hop.
type hopCaller struct {
	hop  hop
	addr netip.AddrPort
}

// sideOf says which side of the call sent m. On a hop where the INVITE
// that began the call was seen, the side is the one that sent it or not:
// a B2BUA that keeps the Call-ID but makes its own tags on its second leg
// is the caller there. Otherwise (a text log, or the capture began
// mid-call) the From tag says it: a request from the caller's tag, or a
// response to a request from the callee.
func (c *callState) sideOf(m *capture.Message) side {
	s := &m.SIP
	if m.Src.IsValid() && m.Dst.IsValid() {
		h := hopOf(m)
		for _, x := range c.callers {
			if x.hop == h {
				if m.Src == x.addr {
					return caller
				}
				return callee
			}
		}
		if s.Request && s.Method == sip.INVITE && s.To.Tag == "" {
			c.callers = append(c.callers, hopCaller{h, m.Src})
			return caller
		}
	}
	if s.Request == (s.From.Tag == c.callerTag) {
		return caller
	}
	return callee
}

// setHop records info as its side's latest SDP on its hop.
func (c *callState) setHop(info *sdpInfo) { c.hops[info.side] = putOnHop(c.hops[info.side], info) }

// putOnHop puts info in list in place of the SDP of the same hop, if any.
func putOnHop(list []*sdpInfo, info *sdpInfo) []*sdpInfo {
	for i, o := range list {
		if o.hop == info.hop {
			list[i] = info
			return list
		}
	}
	return append(list, info)
}

// onHop is the SDP of list sent on the hop where ep was announced, else
// def.
func onHop(list []*sdpInfo, ep *endpoint, def *sdpInfo) *sdpInfo {
	if ep.sdp != nil {
		for _, o := range list {
			if o.hop == ep.sdp.hop {
				return o
			}
		}
	}
	return def
}

// maxHolds bounds the hold times a call keeps.
const maxHolds = 1000

// holdAt is an SDP that put the m= line index on hold, at ns (Unix).
type holdAt struct {
	ns    int64
	index int
}

// heldDuring reports a hold of the m= line index within a silence from
// lastNs to ns, or just before it began (the sender stops once the hold is
// answered).
func (c *callState) heldDuring(index int, lastNs, ns int64) bool {
	const before = int64(2 * time.Second)
	for _, h := range c.holds {
		if h.index == index && h.ns >= lastNs-before && h.ns <= ns {
			return true
		}
	}
	return false
}

// oneWayAsked reports an audio line that both sides' SDPs in force keep
// (no port 0) and either puts on hold or makes one way: media one way is
// then what the call asked for.
func (c *callState) oneWayAsked() bool {
	return c.anyAudio(func(a, b *sdpMedia) bool { return a.hold || b.hold })
}

// noneAsked reports an audio line that both sides keep and either makes
// inactive (or 0.0.0.0): no media is then what the call asked for.
func (c *callState) noneAsked() bool {
	return c.anyAudio(func(a, b *sdpMedia) bool { return a.none || b.none })
}

// anyAudio reports whether f holds for an audio line of both sides' SDPs
// in force that neither rejects (port 0).
func (c *callState) anyAudio(f func(a, b *sdpMedia) bool) bool {
	a, b := c.last[caller], c.last[callee]
	if a == nil || b == nil {
		return false
	}
	for i := range min(len(a.media), len(b.media)) {
		ma, mb := &a.media[i], &b.media[i]
		if ma.typ == "audio" && ma.addr.IsValid() && mb.addr.IsValid() && f(ma, mb) {
			return true
		}
	}
	return false
}

// setAnswer records info as the call's latest answer, and its hop's; the
// streams check their payload type against it at their next packet.
func (c *callState) setAnswer(info *sdpInfo) {
	c.answer = info
	for _, st := range c.states {
		st.ptCheck = true
	}
	c.answers = putOnHop(c.answers, info)
}

// answerOn is the latest answer on the hop where ep was announced: through
// a relay that renumbers payload types, each leg negotiates its own. It is
// the call's latest answer when that hop has none.
func (c *callState) answerOn(ep *endpoint) *sdpInfo { return onHop(c.answers, ep, c.answer) }

// answerTo is the other side's latest SDP on the hop where ep was
// announced: the one that says where media toward ep comes from. Through
// a media relay each leg has its own; without one, or when the hop is not
// seen, it is the other side's latest SDP.
func (c *callState) answerTo(ep *endpoint) *sdpInfo {
	return onHop(c.hops[ep.side.other()], ep, c.last[ep.side.other()])
}

func label(s *sip.Message) string {
	if s.Request {
		return s.MethodName
	}
	return itoa(s.StatusCode) + " " + s.CSeqMethodName
}

// register records the endpoints of an SDP.
func (t *Tracker) register(c *callState, sender side, ss *sdp.Session, m *capture.Message) *sdpInfo {
	info := &sdpInfo{side: sender, hop: hopOf(m), media: make([]sdpMedia, 0, len(ss.Media))}
	for i := range ss.Media {
		md := &ss.Media[i]
		sm := sdpMedia{typ: intern(md.Type), formats: make([]int, 0, len(md.Formats))}
		for _, f := range md.Formats {
			if n, err := atoi(f); err == nil {
				sm.formats = append(sm.formats, n)
			}
		}
		if md.Addr.IsValid() && md.Port > 0 && md.Port < 65536 {
			sm.addr = netip.AddrPortFrom(md.Addr.Unmap(), uint16(md.Port))
			sm.hold = md.Direction != sdp.SendRecv || md.Addr.IsUnspecified()
			sm.none = md.Direction == sdp.Inactive || md.Addr.IsUnspecified()
			if sm.hold && len(c.holds) < maxHolds {
				c.holds = append(c.holds, holdAt{m.Time.UnixNano(), i})
			}
		}
		info.media = append(info.media, sm)
		if !sm.addr.IsValid() || md.Addr.IsUnspecified() {
			continue // port 0 (rejected) or c=0.0.0.0 (hold)
		}
		fax := containsFold(md.Proto, "udptl") || (md.Type == "image" && slices.ContainsFunc(md.Formats, func(f string) bool { return containsFold(f, "t38") }))
		if fax {
			c.fax = true
		}
		ep := endpoint{call: c, side: sender, index: i, fax: fax, srtp: containsFold(md.Proto, "savp"), media: sm.typ, sdp: info}
		if len(md.RTPMaps) > 0 {
			ep.maps = make([]pmap, 0, len(md.RTPMaps))
		}
		for _, r := range md.RTPMaps {
			ep.maps = append(ep.maps, pmap{pt: r.PT, name: intern(r.Encoding), clock: r.ClockRate})
		}
		t.setEndpoint(sm.addr, ep)
		if !fax && md.RTCPPort > 0 && md.RTCPPort < 65536 {
			ra := md.RTCPAddr
			if !ra.IsValid() {
				ra = md.Addr
			}
			re := ep
			re.rtcp = true
			t.setEndpoint(netip.AddrPortFrom(ra.Unmap(), uint16(md.RTCPPort)), re)
		}
	}
	return info
}

// setEndpoint records ep at a. Within one call the endpoint is updated in
// place so cached flows see it; another call (a later call reusing the
// port) gets a new endpoint, so the streams measured so far keep what their
// own call said. Either way the flows resolved to the old one look again
// (endpoint.changed).
func (t *Tracker) setEndpoint(a netip.AddrPort, ep endpoint) {
	if old := t.eps[a]; old != nil {
		old.changed()
		if old.call == ep.call {
			*old = ep
			return
		}
	}
	e := ep
	t.eps[a] = &e
	t.gen++ // flows ignored before may be media now
}

// changed says a new SDP re-announces e, or another call takes its address
// over: the flows resolved to it look it up again at their next packet, and
// their streams under it read their payload types again.
func (e *endpoint) changed() {
	for _, f := range e.flows {
		f.stale = true
		if f.cur != nil && f.cur.ep == e {
			f.cur.infoPT = -1
		}
		for _, st := range f.prev {
			if st.ep == e {
				st.infoPT = -1
			}
		}
	}
	e.flows = e.flows[:0]
}

// Media takes one non-SIP UDP datagram. p is not kept.
func (t *Tracker) Media(p *capture.Media) {
	ns := p.Time.UnixNano()
	now := t.ms(ns)
	// the hot path, inlined: an IPv4 flow in the table of recent ones, an
	// RTP packet of its current stream that is no copy
	var f *flow
	if sa, da := p.Src.Addr(), p.Dst.Addr(); sa.Is4() && da.Is4() {
		k := keyOf4(sa, da, p.Src.Port(), p.Dst.Port())
		if g := *t.recentSlot(k); g != nil && g.k4 == k {
			f = g
		}
	}
	if f != nil && f.kind == flowRTP && !f.stale && !rtp.IsRTCP(p.Payload) && rtp.DecodeFixed(p.Payload, &t.hdr) == nil {
		h := &t.hdr
		if st := f.cur; st != nil && st.ssrc == h.SSRC && (p.Dups == nil || !st.seenSeq(h.Seq)) {
			if p.Dups != nil {
				t.remember(st, h.Seq, copyEntry(h, len(p.Payload), p.IPID, ns), ns)
			}
			t.measure(st, p.Payload, h, p, ns, now)
			return
		}
		t.onRTP(f, p.Payload, h, p, ns, now)
		return
	}
	if f == nil {
		f = t.flow(p.Src, p.Dst)
	}
	if f.kind == flowUnknown || (f.kind == flowIgnore && f.gen != t.gen) || f.stale {
		t.resolve(f, f.key, p.Time)
	}
	// Copies (capture.OwnDuplicates): an RTP stream finds its own, among
	// its recent sequence numbers (onRTP); the reader checks the rest.
	switch f.kind {
	case flowIgnore:
		p.Dups.Seen(p) // counted, if a copy
		return
	case flowRTCP:
		if !p.Dups.Seen(p) {
			t.onRTCP(p, f.ep.call)
		}
		return
	case flowFax:
		if !p.Dups.Seen(p) {
			t.onFax(f, p)
		}
		return
	}
	if rtp.IsRTCP(p.Payload) { // rtcp-mux, or RTCP found by the heuristic
		if p.Dups.Seen(p) {
			return
		}
		var c *callState
		if f.ep != nil {
			c = f.ep.call
		}
		t.onRTCP(p, c)
		return
	}
	if rtp.DecodeFixed(p.Payload, &t.hdr) != nil {
		p.Dups.Seen(p)
		return
	}
	if f.kind == flowCandidate {
		if !p.Dups.Seen(p) {
			t.onCandidate(f, p, ns, now)
		}
		return
	}
	t.onRTP(f, p.Payload, &t.hdr, p, ns, now)
}

func (t *Tracker) resolve(f *flow, k flowKey, at time.Time) {
	f.ep, f.toEP, f.stale = nil, false, false
	if ep := t.eps[k.dst]; ep != nil {
		f.ep, f.toEP = ep, true
	} else if ep := t.eps[k.src]; ep != nil {
		f.ep = ep
	}
	if f.ep != nil {
		f.ep.flows = append(f.ep.flows, f)
		t.newSession(f, at)
	}
	switch {
	case f.ep == nil && f.kind == flowRTP:
		// stays RTP (a confirmed heuristic flow)
	case f.ep == nil && t.opts.Heuristic:
		f.kind = flowCandidate
	case f.ep == nil:
		f.kind, f.gen = flowIgnore, t.gen
	case f.ep.rtcp:
		f.kind = flowRTCP
	case f.ep.fax:
		f.kind = flowFax
	default:
		f.kind = flowRTP
	}
}

// newSession starts new streams on f when its endpoint now belongs to
// another Call-ID than its streams and that call is over: its BYE was seen,
// or the flow has been silent for longer than Options.Gap (either way: a later file of
// the input may be earlier in time). Media that goes on flowing across the
// new SDP (a B2BUA announcing one address in both legs) stays one stream,
// as it is one stream on the wire.
func (t *Tracker) newSession(f *flow, at time.Time) {
	st := f.cur
	if st == nil {
		st = f.fax
	}
	if st == nil || st.call == nil || st.call == f.ep.call {
		return
	}
	if idle := time.Duration(at.UnixNano() - st.lastNs); !st.call.bye.IsZero() || idle > t.opts.Gap || idle < -t.opts.Gap {
		f.cur, f.prev, f.fax = nil, nil, nil
	}
}

// onCandidate confirms an unsignalled flow as RTP after two packets with
// the same SSRC and a sequence number 1-100 ahead.
func (t *Tracker) onCandidate(f *flow, p *capture.Media, ns int64, now float64) {
	h := &t.hdr
	if h.PayloadType >= 72 && h.PayloadType <= 76 {
		return
	}
	c := &f.cand
	if c.n == 1 && c.ssrc == h.SSRC && uint16(h.Seq-c.seq) >= 1 && uint16(h.Seq-c.seq) <= 100 {
		f.kind = flowRTP
		held := c.pkt
		*c = candidate{}
		var pl []byte
		if held.plen > 0 {
			pl = held.payload[:held.plen]
		}
		t.onRTPHeld(f, &held.hdr, pl, held.t, held.frame, held.file)
		t.onRTP(f, p.Payload, h, p, ns, now)
		return
	}
	c.n, c.ssrc, c.seq = 1, h.SSRC, h.Seq
	c.pkt = pending{t: p.Time, hdr: *h, frame: p.Frame, file: p.File}
	c.pkt.plen = copy(c.pkt.payload[:], p.Payload[h.PayloadOff:])
	c.failed++
	if c.failed > 50 { // not RTP: stop looking at it
		f.kind, f.gen = flowIgnore, t.gen
	}
}

// onRTPHeld replays a held packet; its payload is only the first 4 bytes
// (enough for a DTMF event), its length is the header's.
func (t *Tracker) onRTPHeld(f *flow, h *rtp.Fixed, pl []byte, at time.Time, frame int, file string) {
	buf := make([]byte, h.PayloadOff+len(pl))
	copy(buf[h.PayloadOff:], pl)
	hh := *h
	ns := at.UnixNano()
	t.onRTP(f, buf, &hh, &capture.Media{Time: at, Frame: frame, File: file}, ns, t.ms(ns))
}

func (t *Tracker) onFax(f *flow, p *capture.Media) {
	st := f.fax
	if st == nil {
		st = t.newState(f, flowKey{p.Src, p.Dst}, 0, p)
		st.s.Kind = KindFax
		st.s.Codec = "t38"
		st.s.PayloadType = -1
		f.fax = st
	}
	s := st.s
	s.Packets++
	s.Bytes += int64(len(p.Payload))
	s.Last = p.Time
	st.lastNs = p.Time.UnixNano()
}

func (t *Tracker) newState(f *flow, k flowKey, ssrc uint32, p *capture.Media) *state {
	s := &Stream{Src: k.src, Dst: k.dst, SSRC: ssrc, File: p.File, FirstFrame: p.Frame, First: p.Time, Last: p.Time, R: -1, MOS: -1}
	st := new(state)
	if !f.used {
		st, f.used = &f.first, true
	}
	*st = state{s: s, ep: f.ep, toEP: f.toEP, infoPT: -1, ssrc: ssrc}
	if f.ep != nil {
		st.call = f.ep.call
		s.CallID = f.ep.call.id
		s.Signalled = true
		s.SRTP = f.ep.srtp
		s.Media = f.ep.media
		f.ep.call.streams = append(f.ep.call.streams, s)
		f.ep.call.states = append(f.ep.call.states, st)
	}
	t.streams = append(t.streams, st)
	return st
}

// onRTP measures one RTP packet of the datagram p (b its payload, h its
// header, ns its time in Unix ns, now in Wireshark's ms). If the reader
// left copies to the handler (p.Dups), a copy of a recent packet of its
// stream is dropped here.
func (t *Tracker) onRTP(f *flow, b []byte, h *rtp.Fixed, p *capture.Media, ns int64, now float64) {
	st := f.cur
	if st == nil || st.ssrc != h.SSRC {
		st = nil
		for _, o := range f.prev {
			if o.ssrc == h.SSRC {
				st = o
				break
			}
		}
		if st != nil && p.Dups != nil && st.copied(h, b, p, ns) {
			return
		}
		if st == nil {
			st = t.newState(f, flowKey{}, h.SSRC, p)
			st.s.Src, st.s.Dst = f.srcdst()
			var maps []pmap
			if f.ep != nil {
				maps = f.ep.maps
			}
			// a new SSRC for events (RFC 4733 from another source, as sipp
			// plays them) is not a change of the audio source, nor is the
			// answer taking over from early media (a PBX's ringback, then
			// the callee): the old source must have sent while the call
			// was up
			if f.cur != nil && st.call != nil && f.cur.packets > 0 && !isEvent(int(h.PayloadType), maps) && !isEvent(f.cur.s.PayloadType, maps) &&
				!st.call.answered.IsZero() && f.cur.lastNs >= st.call.answered.UnixNano() {
				old := f.cur.s
				st.s.Problems = append(st.s.Problems, Problem{Kind: SSRCChange, Time: p.Time, File: p.File, Frame: p.Frame,
					Detail: "SSRC " + hex32(old.SSRC) + " -> " + hex32(h.SSRC) + " on " + old.Src.String() + " -> " + old.Dst.String()})
			}
			if ep := f.ep; ep != nil && f.toEP {
				// the source the other side's SDP announced when the stream
				// began, on the hop where the destination was announced
				if o := ep.call.answerTo(ep); o != nil && ep.index < len(o.media) {
					st.wantSrc = o.media[ep.index].addr
				}
			}
			f.prev = append(f.prev, st)
		}
		f.cur = st
	} else if p.Dups != nil && st.seenSeq(h.Seq) && st.copied(h, b, p, ns) {
		return
	}
	if p.Dups != nil {
		t.remember(st, h.Seq, copyEntry(h, len(b), p.IPID, ns), ns)
	}
	t.measure(st, b, h, p, ns, now)
}

// dupTick is the unit of time of the copy check: the reader's.
const dupTick = int64(100 * time.Microsecond)

// copied reports whether the packet is a copy of one of the stream's last
// copySlots sequence numbers, as the reader would have taken it for one (see
// capture.OwnDuplicates): the same sequence number, IP identification,
// length and RTP timestamp, within the duplicate window. The stream is the
// same addresses, ports and SSRC. It drops the copy (p.Dups.Drop).
func (st *state) copied(h *rtp.Fixed, b []byte, p *capture.Media, ns int64) bool {
	if !st.seenSeq(h.Seq) {
		return false
	}
	if p.IPID == 0 && len(b) == 16 && b[0] == 0x80 && b[13]&0x80 != 0 {
		return false // an end-of-event packet, which the sender repeats (capture.isEventEnd)
	}
	key, w := copyEntry(h, len(b), p.IPID, ns)>>32, int64(p.Dups.Window())/dupTick
	e := &st.copies.last[uint8(h.Seq)]
	if *e>>32 == key {
		if copyWithin(*e, ns, w) {
			p.Dups.Drop()
			return true
		}
		return false
	}
	// The sequence number again, but not a copy of its last packet: the
	// sender repeats it (RFC 4733 sends the end of an event three times),
	// or it is a copy of an earlier repeat. The earlier ones are kept
	// aside, as the slot is about to take this one.
	ag := &st.copies.again
	for i := range ag.n {
		if x := &ag.e[i]; x.seq == h.Seq && x.e>>32 == key && copyWithin(x.e, ns, w) {
			p.Dups.Drop()
			return true
		}
	}
	ag.e[ag.next] = seqEntry{h.Seq, *e}
	ag.next = (ag.next + 1) % len(ag.e)
	ag.n = min(ag.n+1, len(ag.e))
	return false
}

// copyWithin reports whether entry e was recorded within w dupTicks of ns.
func copyWithin(e uint64, ns, w int64) bool {
	dt := int64(int32(uint32(ns/dupTick) - uint32(e)))
	return dt <= w && dt >= -w
}

// copySlots is how many of its last sequence numbers a stream checks a
// copy against. Copies lie within the duplicate window (5 ms by default)
// of each other in capture time, but not always in the file: dumpcap
// writes each interface's packets in batches, and the reader's check
// remembers a packet of a pcapng for 1-2 s. 256 packets are 5 s of a
// stream at 20 ms a packet.
const copySlots = 256

// The records are indexed by the low byte of the sequence number.
var _ [copySlots - 256]struct{}
var _ [256 - copySlots]struct{}

// copiesIdle is how long a stream has been silent, in capture time, when
// its copy-check record goes back to the pool: longer than the reader
// remembers a packet. The records held are those of the streams that sent
// within the last one or two copiesIdle, not of all the capture has seen.
const copiesIdle = int64(5 * time.Second)

// copies is a stream's record for copied.
type copies struct {
	// last holds, by sequence number mod copySlots, the last packet's
	// copyEntry
	last [copySlots]uint64
	// again holds the earlier packets of a sequence number sent again
	again struct {
		e       [8]seqEntry
		n, next int
	}
}

type seqEntry struct {
	seq uint16
	e   uint64
}

// seenSeq reports whether the stream had a packet with sequence number seq
// among its last copySlots, as recorded for copied: the first thing a copy
// must have, and what a packet that is not one most often lacks.
func (st *state) seenSeq(seq uint16) bool {
	return st.packets > 0 && st.copies != nil && uint16(st.lastSeq-seq) < copySlots && st.seen[seq/64%4]&(1<<(seq%64)) != 0
}

// remember records e, the copyEntry of the packet with sequence number
// seq, for copied. It is short enough to be inlined.
func (t *Tracker) remember(st *state, seq uint16, e uint64, ns int64) {
	if st.copies == nil {
		t.newCopies(st, ns)
	}
	st.copies.last[uint8(seq)] = e // copySlots is 256: no bounds check
}

// newCopies gives st a record: a new stream, or one whose record went
// back to the pool while it was silent. First, at most once per
// copiesIdle of capture time, the records of the streams gone silent go
// back to the pool (freeIdleCopies).
func (t *Tracker) newCopies(st *state, ns int64) {
	if d := ns - t.sweptNs; d > copiesIdle || d < -copiesIdle {
		t.freeIdleCopies(ns)
		t.sweptNs = ns
	}
	if n := len(t.freeCopies); n > 0 {
		st.copies, t.freeCopies = t.freeCopies[n-1], t.freeCopies[:n-1]
		*st.copies = copies{}
	} else {
		st.copies = new(copies)
	}
	t.withCopies = append(t.withCopies, st)
}

// freeIdleCopies gives the copies of the streams silent for copiesIdle
// back to the pool: a capture of many calls holds the copies of those
// that are up, not of all it has seen. A stream that sends again starts
// afresh, as if its earlier packets were too old to have copies.
func (t *Tracker) freeIdleCopies(ns int64) {
	keep := t.withCopies[:0]
	for _, st := range t.withCopies {
		if d := ns - st.lastNs; d > copiesIdle || d < -copiesIdle {
			t.freeCopies = append(t.freeCopies, st.copies)
			st.copies = nil
			continue
		}
		keep = append(keep, st)
	}
	clear(t.withCopies[len(keep):])
	t.withCopies = keep
}

// copyEntry is what copied compares, for a packet of payload length n
// at ns: what tells a copy of a packet from another packet with the same
// sequence number (the IP identification, the length and the RTP
// timestamp, folded) in the high 32 bits, and the capture time in dupTicks
// in the low.
func copyEntry(h *rtp.Fixed, n int, ipid uint32, ns int64) uint64 {
	return uint64(uint16(ipid))<<48 | uint64(uint16(n)^uint16(h.Timestamp))<<32 | uint64(uint32(ns/dupTick))
}

// srcdst is the flow's key; flows do not store it, so it is looked up.
func (f *flow) srcdst() (netip.AddrPort, netip.AddrPort) { return f.key.src, f.key.dst }

// containsFold reports whether s holds sub (lower case ASCII), in any case.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for ; j < len(sub); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

// intern returns s as a constant for the names every SDP repeats (media
// types, common codecs), else as a copy that holds nothing of the message.
func intern(s string) string {
	switch s {
	case "audio":
		return "audio"
	case "video":
		return "video"
	case "image":
		return "image"
	case "PCMU":
		return "PCMU"
	case "PCMA":
		return "PCMA"
	case "G729":
		return "G729"
	case "G722":
		return "G722"
	case "telephone-event":
		return "telephone-event"
	case "CN":
		return "CN"
	case "opus":
		return "opus"
	case "iLBC":
		return "iLBC"
	case "GSM":
		return "GSM"
	case "G723":
		return "G723"
	case "AMR":
		return "AMR"
	case "AMR-WB":
		return "AMR-WB"
	case "speex":
		return "speex"
	case "red":
		return "red"
	case "H264":
		return "H264"
	case "VP8":
		return "VP8"
	}
	return strings.Clone(s)
}
