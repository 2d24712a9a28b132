package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Config sets what Generate writes.
type Config struct {
	Size        int64     // target file size in bytes; the file ends within a few per cent of it
	Seed        uint64    // same seed and size, same bytes
	Concurrency int       // calls in progress on average once ramped up
	MaxCalls    int       // hard cap on calls in progress; 0 means 3/2 of Concurrency
	Start       time.Time // timestamp of the first packet
}

// Summary counts what Generate wrote.
type Summary struct {
	Bytes       int64 // file size
	Packets     int64
	SIPMessages int64
	SIPRetrans  int64
	RTPPackets  int64
	SIPBytes    int64 // wire bytes of SIP frames (Ethernet up)
	RTPBytes    int64
	Calls       int64 // INVITE dialogs
	Answered    int64
	Busy        int64
	NotFound    int64
	Cancelled   int64
	Registers   int64
	Options     int64
	RTPStreams  int64
	PeakCalls   int
	Duration    time.Duration // capture time span
}

// SIPShare is the share of frame bytes that are SIP.
func (s Summary) SIPShare() float64 {
	if s.SIPBytes+s.RTPBytes == 0 {
		return 0
	}
	return float64(s.SIPBytes) / float64(s.SIPBytes+s.RTPBytes)
}

func (s Summary) String() string {
	return fmt.Sprintf("bytes=%d packets=%d sip_messages=%d sip_retransmissions=%d rtp_packets=%d rtp_streams=%d\n"+
		"calls=%d answered=%d busy_486=%d not_found_404=%d cancelled_487=%d registers=%d options=%d peak_concurrent_calls=%d\n"+
		"sip_bytes=%d rtp_bytes=%d sip_byte_share=%.2f%% capture_span=%s",
		s.Bytes, s.Packets, s.SIPMessages, s.SIPRetrans, s.RTPPackets, s.RTPStreams,
		s.Calls, s.Answered, s.Busy, s.NotFound, s.Cancelled, s.Registers, s.Options, s.PeakCalls,
		s.SIPBytes, s.RTPBytes, 100*s.SIPShare(), s.Duration.Round(time.Millisecond))
}

type dialogKind uint8

const (
	kAnswered dialogKind = iota
	kBusy
	kNotFound
	kCancelled
	kRegister
	kOptions
)

// side is one party of a dialog, with every string its messages need.
type side struct {
	ip         [4]byte
	ipStr      string
	hostport   string
	user       string
	name       string
	domain     string
	contact    string // sip:user@ip:5060
	ua         string
	sdpUser    string
	sdpSession string
	rtpPort    uint16
}

type step struct {
	at   int64 // µs since capture start
	msg  msgKind
	retx bool
}

type stream struct {
	src, dst endpoint
	ssrc     uint32
	seq      uint16
	ts       uint32
	start    int64
	end      int64
	n        int64
	pt       uint8
}

// dialog is a call, a registration or an OPTIONS ping: a script of SIP
// messages and, for an answered call, two RTP streams.
type dialog struct {
	kind             dialogKind
	a, b             side
	ruri             string
	callID           string
	fromTag, toTag   string
	branch, branch2  string
	branch3          string
	cseqA, cseqB     uint32
	sessA, sessB     uint64
	codec            uint8
	cause            string
	nonce, cnonce    string
	digest           string
	script           []step
	cur              int
	streams          [2]stream
	liveStreams      int
	scriptDone, call bool
}

type evKind uint8

const (
	evCall evKind = iota
	evBackground
	evSIP
	evRTP
)

type event struct {
	at   int64
	seq  uint64 // tie-breaker: equal times pop in push order
	kind evKind
	sub  uint8 // stream index for evRTP
	d    int32 // dialog index
}

// eventHeap is a binary min-heap on (at, seq), kept by hand to avoid
// container/heap's interface boxing.
type eventHeap []event

func (h eventHeap) less(i, j int) bool {
	return h[i].at < h[j].at || h[i].at == h[j].at && h[i].seq < h[j].seq
}

func (h *eventHeap) push(e event) {
	*h = append(*h, e)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *eventHeap) pop() event {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && s.less(r, l) {
			m = r
		}
		if !s.less(m, i) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

const (
	ms  = int64(1000)
	sec = int64(1000000)

	sipPort   = 5060
	ptime     = 20 * ms
	estSIPLen = 560 // average SIP frame incl. pcap record header, to plan the budget

	// Mix of dialogs. Background dialogs (REGISTER, OPTIONS) arrive at a
	// rate proportional to calls.
	registersPerCall = 0.5
	optionsPerCall   = 0.8
)

type generator struct {
	cfg  Config
	rng  *rand.Rand
	pw   *pcapgo.Writer
	sum  Summary
	heap eventHeap
	seq  uint64

	dialogs []dialog
	free    []int32

	frame   []byte
	scratch []byte
	g711    []byte
	ipID    uint16

	phones    []side
	sbcs      []side
	sbcPort   uint16
	phonePort uint16

	budget      int64 // planned bytes of every dialog started so far
	stopped     bool
	activeCalls int
	callRate    float64 // calls per µs
	last        int64
	start       int64 // capture start in µs since the Unix epoch
}

// Generate writes a pcap of trunk traffic to w.
func Generate(w io.Writer, cfg Config) (Summary, error) {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 200
	}
	if cfg.MaxCalls <= 0 {
		cfg.MaxCalls = cfg.Concurrency * 3 / 2
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2024, 3, 11, 9, 0, 0, 0, time.UTC)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	g := &generator{
		cfg:     cfg,
		rng:     rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5eed5eed5eed5eed)),
		pw:      pcapgo.NewWriter(bw),
		frame:   make([]byte, 0, 2048),
		scratch: make([]byte, 0, 1024),
		start:   cfg.Start.UnixMicro(),
	}
	if err := g.pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return g.sum, fmt.Errorf("gencap: file header: %w", err)
	}
	g.sum.Bytes = pcapFileHdr
	g.budget = pcapFileHdr
	g.makeHosts()
	g.makeG711()
	// Mean holding time of a call, from the mix in newCall: used to get
	// the arrival rate that gives the wanted concurrency.
	g.callRate = float64(cfg.Concurrency) / float64(meanHolding())
	g.push(event{at: 0, kind: evCall})
	g.push(event{at: 3 * ms, kind: evBackground})

	if err := g.run(); err != nil {
		return g.sum, err
	}
	if err := bw.Flush(); err != nil {
		return g.sum, fmt.Errorf("gencap: flush: %w", err)
	}
	g.sum.Duration = time.Duration(g.last) * time.Microsecond
	return g.sum, nil
}

func (g *generator) push(e event) {
	e.seq = g.seq
	g.seq++
	g.heap.push(e)
}

func (g *generator) run() error {
	for len(g.heap) > 0 {
		e := g.heap.pop()
		switch e.kind {
		case evCall:
			if g.stopped {
				continue
			}
			if g.activeCalls >= g.cfg.MaxCalls {
				g.push(event{at: e.at + 50*ms, kind: evCall})
				continue
			}
			g.newCall(e.at)
			g.push(event{at: e.at + g.expo(1/g.callRate), kind: evCall})
		case evBackground:
			if g.stopped {
				continue
			}
			if g.rng.Float64() < registersPerCall/(registersPerCall+optionsPerCall) {
				g.newRegister(e.at)
			} else {
				g.newOptions(e.at)
			}
			g.push(event{at: e.at + g.expo(1/(g.callRate*(registersPerCall+optionsPerCall))), kind: evBackground})
		case evSIP:
			if err := g.sendSIP(e.d, e.at); err != nil {
				return err
			}
		case evRTP:
			if err := g.sendRTP(e.d, int(e.sub), e.at); err != nil {
				return err
			}
		}
	}
	return nil
}

// expo draws an exponential delay of the given mean, in µs, at least 1.
func (g *generator) expo(mean float64) int64 {
	v := int64(g.rng.ExpFloat64() * mean)
	if v < 1 {
		v = 1
	}
	return v
}

// between draws a uniform value in [lo, hi).
func (g *generator) between(lo, hi int64) int64 { return lo + g.rng.Int64N(hi-lo) }

func (g *generator) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.rng.IntN(16)]
	}
	return string(b)
}

func (g *generator) e164() string {
	return "+33" + strconv.Itoa(1+g.rng.IntN(9)) + fmt.Sprintf("%08d", g.rng.IntN(100000000))
}

var (
	firstNames = []string{"Alice", "Bruno", "Chloé", "David", "Emma", "Farid", "Gaëlle", "Hugo", "Inès", "Jules", "Karim", "Léa", "Marc", "Nina", "Olivier", "Paula"}
	lastNames  = []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent"}
	phoneUAs   = []string{
		"Yealink SIP-T46S 66.86.0.15",
		"PolycomVVX-VVX_450-UA/6.4.3.5018",
		"Grandstream GXP2170 1.0.11.23",
		"Cisco-CP8845/14.2.1",
		"snom D785/10.1.159.12",
	}
	sbcUAs = []string{"Acme Packet SBC ECZ8.4.0 Patch 3", "Ribbon SBC SWe 12.1.1", "Oracle SBC SCZ9.1.0", "Acme Packet SBC ECZ8.4.0 Patch 3"}
)

const (
	numPhones    = 2000
	phoneDom     = "pbx.example.com"
	trunkDom     = "trunk.carrier.example"
	phoneRTPPort = 10000
	sbcRTPPort   = 20000
)

func ipString(ip [4]byte) string {
	return strconv.Itoa(int(ip[0])) + "." + strconv.Itoa(int(ip[1])) + "." + strconv.Itoa(int(ip[2])) + "." + strconv.Itoa(int(ip[3]))
}

func newSide(ip [4]byte, user, name, domain, ua, sdpUser, sdpSession string) side {
	s := side{ip: ip, ipStr: ipString(ip), user: user, name: name, domain: domain, ua: ua, sdpUser: sdpUser, sdpSession: sdpSession}
	s.hostport = s.ipStr + ":5060"
	s.contact = "sip:" + user + "@" + s.hostport
	return s
}

func (g *generator) makeHosts() {
	for i := range 4 {
		ip := [4]byte{10, 0, 0, byte(10 + i)}
		g.sbcs = append(g.sbcs, newSide(ip, "sbc", "", trunkDom, sbcUAs[i], "-", "SBC Session"))
	}
	for i := range numPhones {
		ip := [4]byte{10, 1, byte(i / 200), byte(10 + i%200)}
		name := firstNames[g.rng.IntN(len(firstNames))] + " " + lastNames[g.rng.IntN(len(lastNames))]
		user := "+3315550" + fmt.Sprintf("%04d", i)
		ua := phoneUAs[g.rng.IntN(len(phoneUAs))]
		g.phones = append(g.phones, newSide(ip, user, name, phoneDom, ua, strconv.Itoa(1000+i), "SIP Call"))
	}
}

// makeG711 fills a 1 s loop of µ-law samples: a few harmonics with a
// syllable-like envelope and some noise, so the payload is not constant.
func (g *generator) makeG711() {
	const n = 8000
	g.g711 = make([]byte, n+g711Len)
	for i := range n {
		t := float64(i) / 8000
		env := 0.5 + 0.5*math.Sin(2*math.Pi*3*t)
		v := env*(3000*math.Sin(2*math.Pi*220*t)+1500*math.Sin(2*math.Pi*440*t)+700*math.Sin(2*math.Pi*660*t)) +
			200*(g.rng.Float64()-0.5)
		g.g711[i] = ulaw(int16(v))
	}
	copy(g.g711[n:], g.g711[:g711Len])
}

func ulaw(sample int16) byte {
	const bias, clip = 0x84, 32635
	s := int(sample)
	sign := 0
	if s < 0 {
		s, sign = -s, 0x80
	}
	if s > clip {
		s = clip
	}
	s += bias
	exp := 7
	for mask := 0x4000; s&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (s >> (exp + 3)) & 0x0f
	return ^byte(sign | exp<<4 | mant)
}

func (g *generator) alloc() int32 {
	if n := len(g.free); n > 0 {
		i := g.free[n-1]
		g.free = g.free[:n-1]
		return i
	}
	g.dialogs = append(g.dialogs, dialog{})
	return int32(len(g.dialogs) - 1)
}

// nextPort hands out even RTP ports round-robin in [lo, lo+10000): with at
// most a few hundred calls in progress, two calls in progress never share
// a port.
func nextPort(p *uint16, lo uint16) uint16 {
	if *p < lo || *p >= lo+10000 {
		*p = lo
	}
	v := *p
	*p += 2
	return v
}

// meanHolding is the mean time in µs a call stays in progress, from the
// distributions in newCall.
func meanHolding() int64 {
	answered := (200*ms+3500*ms)/2 + 30*ms + meanTalk()
	busy := 1500 * ms
	notFound := 150 * ms
	cancelled := 9 * sec
	return int64(0.70*float64(answered) + 0.10*float64(busy) + 0.06*float64(notFound) + 0.14*float64(cancelled))
}

// talk draws the conversation time of an answered call: mostly short
// calls, a few long ones.
func (g *generator) talk() int64 {
	if g.rng.IntN(50) == 0 {
		return g.between(30*sec, 60*sec)
	}
	return g.between(2*sec, 12*sec)
}

func meanTalk() int64 { return (49*7*sec + 45*sec) / 50 }

// newCall starts an INVITE dialog at t between a phone and an SBC.
func (g *generator) newCall(t int64) {
	di := g.alloc()
	d := &g.dialogs[di]
	script := d.script[:0]
	*d = dialog{script: script, call: true}

	phone := g.phones[g.rng.IntN(len(g.phones))]
	sbc := g.sbcs[g.rng.IntN(len(g.sbcs))]
	ext := g.e164()
	// The SBC side speaks for an outside number.
	sbc.user, sbc.sdpUser = ext, "-"
	sbc.contact = "sip:" + ext + "@" + sbc.hostport
	sbc.name = ""
	if g.rng.IntN(2) == 0 { // inbound: the carrier calls a phone
		if g.rng.IntN(2) == 0 { // caller name delivered
			sbc.name = lastNames[g.rng.IntN(len(lastNames))]
		}
		d.a, d.b = sbc, phone
	} else {
		d.a, d.b = phone, sbc
	}
	d.ruri = "sip:" + d.b.user + "@" + d.b.hostport
	d.a.rtpPort = g.mediaPort(&d.a)
	d.b.rtpPort = g.mediaPort(&d.b)
	d.callID = g.hex(32) + "@" + d.a.ipStr
	d.fromTag = g.hex(8)
	d.toTag = g.hex(10)
	d.branch = g.hex(16)
	d.branch2 = g.hex(16)
	d.branch3 = g.hex(16)
	d.cseqA = uint32(1 + g.rng.IntN(200))
	d.cseqB = uint32(1 + g.rng.IntN(9000))
	d.sessA = 1_000_000_000 + g.rng.Uint64N(3_000_000_000)
	d.sessB = 1_000_000_000 + g.rng.Uint64N(3_000_000_000)
	d.codec = 0
	if g.rng.IntN(3) == 0 {
		d.codec = 8
	}

	add := func(at int64, m msgKind, retx bool) {
		d.script = append(d.script, step{at: at, msg: m, retx: retx})
	}
	// Retransmission of the INVITE: the 100 arrives after Timer A (500 ms).
	inviteRetx := g.rng.IntN(40) == 0
	add(t, mInvite, false)
	tr := t + g.between(5*ms, 40*ms)
	if inviteRetx {
		add(t+500*ms, mInvite, true)
		tr = t + g.between(510*ms, 600*ms)
	}
	add(tr, mTrying, false)

	r := g.rng.IntN(100)
	var planned int64
	switch {
	case r < 70:
		d.kind = kAnswered
		ring := tr + g.between(200*ms, 3500*ms)
		add(tr+g.between(50*ms, 150*ms), mRinging, false)
		add(ring, mOKInvite, false)
		ack := ring + g.between(15*ms, 60*ms)
		if g.rng.IntN(40) == 0 { // lost ACK: the 200 is retransmitted
			add(ring+500*ms, mOKInvite, true)
			ack = ring + g.between(510*ms, 560*ms)
		}
		add(ack, mAck, false)
		bye := ring + g.talk()
		if g.rng.IntN(2) == 0 {
			add(bye, mByeA, false)
			if g.rng.IntN(50) == 0 {
				add(bye+500*ms, mByeA, true)
				bye += 500 * ms
			}
			add(bye+g.between(10*ms, 50*ms), mOKByeA, false)
		} else {
			add(bye, mByeB, false)
			if g.rng.IntN(50) == 0 {
				add(bye+500*ms, mByeB, true)
				bye += 500 * ms
			}
			add(bye+g.between(10*ms, 50*ms), mOKByeB, false)
		}
		// The callee sends media once it answers, the caller once the
		// answer arrives; both stop at the BYE.
		g.startStream(d, di, 1, ring+g.between(1*ms, 10*ms), bye)
		g.startStream(d, di, 0, ring+g.between(20*ms, 60*ms), bye)
		planned = (d.streams[0].end-d.streams[0].start+d.streams[1].end-d.streams[1].start)/ptime*(rtpFrameLen+pcapRecHdr) + 2
		g.sum.Answered++
	case r < 80:
		d.kind = kBusy
		d.cause = "17"
		at := tr
		if g.rng.IntN(2) == 0 {
			at += g.between(50*ms, 150*ms)
			add(at, mRinging, false)
		}
		at += g.between(300*ms, 2500*ms)
		add(at, mBusy, false)
		add(at+g.between(10*ms, 40*ms), mAckErr, false)
		g.sum.Busy++
	case r < 86:
		d.kind = kNotFound
		d.cause = "1"
		at := tr + g.between(20*ms, 200*ms)
		add(at, mNotFound, false)
		add(at+g.between(10*ms, 40*ms), mAckErr, false)
		g.sum.NotFound++
	default:
		d.kind = kCancelled
		at := tr + g.between(50*ms, 150*ms)
		add(at, mRinging, false)
		at += g.between(3*sec, 15*sec)
		add(at, mCancel, false)
		at += g.between(5*ms, 30*ms)
		add(at, mOKCancel, false)
		at += g.between(1*ms, 10*ms)
		add(at, mTerminated, false)
		add(at+g.between(10*ms, 40*ms), mAckErr, false)
		g.sum.Cancelled++
	}
	g.sum.Calls++
	g.activeCalls++
	if g.activeCalls > g.sum.PeakCalls {
		g.sum.PeakCalls = g.activeCalls
	}
	g.plan(planned + int64(len(d.script))*estSIPLen)
	g.push(event{at: d.script[0].at, kind: evSIP, d: di})
}

func (g *generator) mediaPort(s *side) uint16 {
	if s.sdpSession == "SBC Session" {
		return nextPort(&g.sbcPort, sbcRTPPort)
	}
	return nextPort(&g.phonePort, phoneRTPPort)
}

// plan adds a dialog's expected bytes to the budget and stops new dialogs
// once the budget reaches the wanted size: the dialogs in progress then
// finish, so every call in the file is complete.
func (g *generator) plan(n int64) {
	g.budget += n
	if g.budget >= g.cfg.Size {
		g.stopped = true
	}
}

// startStream sets up RTP from side A (i=0) or side B (i=1) of d.
func (g *generator) startStream(d *dialog, di int32, i int, start, end int64) {
	src, dst := &d.a, &d.b
	if i == 1 {
		src, dst = dst, src
	}
	d.streams[i] = stream{
		src:   endpoint{ip: src.ip, port: src.rtpPort},
		dst:   endpoint{ip: dst.ip, port: dst.rtpPort},
		ssrc:  g.rng.Uint32(),
		seq:   uint16(g.rng.Uint32()),
		ts:    g.rng.Uint32(),
		start: start,
		end:   end,
		pt:    d.codec,
	}
	d.liveStreams++
	g.sum.RTPStreams++
	g.push(event{at: start, kind: evRTP, d: di, sub: uint8(i)})
}

func (g *generator) newRegister(t int64) {
	di := g.alloc()
	d := &g.dialogs[di]
	script := d.script[:0]
	*d = dialog{script: script, kind: kRegister}
	d.a = g.phones[g.rng.IntN(len(g.phones))]
	d.b = g.sbcs[g.rng.IntN(len(g.sbcs))]
	d.b.domain = phoneDom
	d.callID = g.hex(24) + "@" + d.a.ipStr
	d.fromTag = g.hex(8)
	d.toTag = g.hex(10)
	d.branch = g.hex(16)
	d.branch2 = g.hex(16)
	d.cseqA = uint32(1 + g.rng.IntN(5000))
	d.nonce = g.hex(32)
	d.cnonce = g.hex(16)
	d.digest = g.hex(32)
	at := t
	d.script = append(d.script, step{at: at, msg: mRegister})
	at += g.between(2*ms, 20*ms)
	d.script = append(d.script, step{at: at, msg: mUnauthorized})
	at += g.between(10*ms, 60*ms)
	d.script = append(d.script, step{at: at, msg: mRegisterAuth})
	at += g.between(2*ms, 20*ms)
	d.script = append(d.script, step{at: at, msg: mOKRegister})
	g.sum.Registers++
	g.plan(int64(len(d.script)) * estSIPLen)
	g.push(event{at: d.script[0].at, kind: evSIP, d: di})
}

func (g *generator) newOptions(t int64) {
	di := g.alloc()
	d := &g.dialogs[di]
	script := d.script[:0]
	*d = dialog{script: script, kind: kOptions}
	d.a = g.sbcs[g.rng.IntN(len(g.sbcs))]
	d.a.user = "ping"
	if g.rng.IntN(4) == 0 { // SBC to SBC
		d.b = g.sbcs[g.rng.IntN(len(g.sbcs))]
		if d.b.ip == d.a.ip {
			d.b = g.sbcs[(int(d.a.ip[3])-9)%len(g.sbcs)]
		}
	} else { // qualify a registered phone
		d.b = g.phones[g.rng.IntN(len(g.phones))]
	}
	d.callID = g.hex(20) + "@" + d.a.ipStr
	d.fromTag = g.hex(8)
	d.toTag = g.hex(10)
	d.branch = g.hex(16)
	d.cseqA = uint32(1 + g.rng.IntN(50000))
	d.script = append(d.script, step{at: t, msg: mOptions}, step{at: t + g.between(1*ms, 25*ms), msg: mOKOptions})
	g.sum.Options++
	g.plan(int64(len(d.script)) * estSIPLen)
	g.push(event{at: d.script[0].at, kind: evSIP, d: di})
}

func (g *generator) write(at int64, frame []byte) error {
	if at < g.last {
		return fmt.Errorf("gencap: internal error: timestamp %d before %d", at, g.last)
	}
	g.last = at
	ci := gopacket.CaptureInfo{
		Timestamp:     time.UnixMicro(g.start + at),
		CaptureLength: len(frame),
		Length:        len(frame),
	}
	if err := g.pw.WritePacket(ci, frame); err != nil {
		return fmt.Errorf("gencap: write packet %d: %w", g.sum.Packets+1, err)
	}
	g.sum.Packets++
	g.sum.Bytes += int64(pcapRecHdr + len(frame))
	return nil
}

func (g *generator) sendSIP(di int32, at int64) error {
	d := &g.dialogs[di]
	st := d.script[d.cur]
	frame, scratch := buildSIP(g.frame[:hdrLen], g.scratch, d, st.msg)
	g.scratch = scratch
	src, dst := endpoint{ip: d.a.ip, port: sipPort}, endpoint{ip: d.b.ip, port: sipPort}
	if !st.msg.fromA() {
		src, dst = dst, src
	}
	g.ipID++
	fillHeaders(frame, src, dst, tosSIP, g.ipID)
	g.frame = frame
	if err := g.write(at, frame); err != nil {
		return err
	}
	g.sum.SIPMessages++
	g.sum.SIPBytes += int64(len(frame))
	if st.retx {
		g.sum.SIPRetrans++
	}
	d.cur++
	if d.cur < len(d.script) {
		g.push(event{at: d.script[d.cur].at, kind: evSIP, d: di})
	} else {
		d.scriptDone = true
		if d.call {
			g.activeCalls--
		}
		g.release(di)
	}
	return nil
}

func (g *generator) release(di int32) {
	d := &g.dialogs[di]
	if d.scriptDone && d.liveStreams == 0 {
		g.free = append(g.free, di)
	}
}

func (g *generator) sendRTP(di int32, i int, at int64) error {
	d := &g.dialogs[di]
	s := &d.streams[i]
	if at >= s.end {
		d.liveStreams--
		g.release(di)
		return nil
	}
	// One packet in a thousand is lost on the way: the sequence number
	// advances, the packet is not in the capture.
	if s.n == 0 || g.rng.IntN(1000) != 0 {
		frame := g.frame[:rtpFrameLen]
		putRTP(frame[hdrLen:], s.n == 0, s.pt, s.seq, s.ts, s.ssrc)
		off := int(s.n*g711Len) % 8000
		copy(frame[hdrLen+rtpHdrLen:], g.g711[off:off+g711Len])
		g.ipID++
		fillHeaders(frame, s.src, s.dst, tosRTP, g.ipID)
		if err := g.write(at, frame); err != nil {
			return err
		}
		g.sum.RTPPackets++
		g.sum.RTPBytes += rtpFrameLen
	}
	s.n++
	s.seq++
	s.ts += g711Len
	// Up to 1 ms of send jitter around the 20 ms clock.
	g.push(event{at: s.start + s.n*ptime + g.rng.Int64N(1*ms), kind: evRTP, d: di, sub: uint8(i)})
	return nil
}
