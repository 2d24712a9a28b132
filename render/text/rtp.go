package text

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sipflow/sipflow/convert/call"
	"github.com/sipflow/sipflow/convert/media"
)

// Fixed3 is a number written with three decimals, as tshark prints its
// RTP figures.
type Fixed3 float64

// MarshalJSON writes the value with three decimals.
func (f Fixed3) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(f), 'f', 3, 64), nil
}

// StreamJSON is one stream in `sipflow rtp --json` and `calls --json`.
type StreamJSON struct {
	Call         int      `json:"call,omitempty"` // index in `sipflow calls`, 0 if none
	CallID       string   `json:"call_id"`
	Kind         string   `json:"kind"`
	Src          string   `json:"src"`
	Dst          string   `json:"dst"`
	SSRC         string   `json:"ssrc"`
	Payload      int      `json:"payload"`
	Payloads     []int    `json:"payloads"`
	Codec        string   `json:"codec"`
	ClockRate    int      `json:"clock_rate"`
	Signalled    bool     `json:"signalled"`
	SRTP         bool     `json:"srtp"`
	Start        *string  `json:"start"`
	End          *string  `json:"end"`
	Packets      int      `json:"packets"`
	Expected     int      `json:"expected"`
	Lost         int      `json:"lost"`
	LostPct      Fixed3   `json:"lost_pct"`
	Duplicates   int      `json:"duplicates"`
	SeqErrors    int      `json:"sequence_errors"`
	Markers      int      `json:"markers"`
	PTChanges    int      `json:"payload_changes"`
	MinDelta     Fixed3   `json:"min_delta_ms"`
	MeanDelta    Fixed3   `json:"mean_delta_ms"`
	MaxDelta     Fixed3   `json:"max_delta_ms"`
	MinJitter    Fixed3   `json:"min_jitter_ms"`
	MeanJitter   Fixed3   `json:"mean_jitter_ms"`
	MaxJitter    Fixed3   `json:"max_jitter_ms"`
	MaxSkew      Fixed3   `json:"max_skew_ms"`
	ComfortNoise int      `json:"comfort_noise"`
	DTMF         []DTMF   `json:"dtmf"`
	JBLate       int      `json:"jitter_buffer_late"`
	EffLossPct   Fixed3   `json:"effective_loss_pct"`
	R            *Fixed3  `json:"r"`
	MOS          *Fixed3  `json:"mos"`
	RTCP         *RTCP    `json:"rtcp"`
	Problems     []string `json:"problems"`
}

// DTMF is one RFC 4733 event in JSON.
type DTMF struct {
	Digit      string  `json:"digit"`
	Time       *string `json:"time"`
	DurationMs int64   `json:"duration_ms"`
	Ended      bool    `json:"ended"`
}

// RTCP is what RTCP said about a stream, in JSON.
type RTCP struct {
	SenderReports  int     `json:"sender_reports"`
	CNAME          string  `json:"cname,omitempty"`
	Bye            bool    `json:"bye"`
	Reports        int     `json:"reports"`
	FractionLost   Fixed3  `json:"fraction_lost_pct"`
	CumulativeLost int64   `json:"cumulative_lost"`
	JitterMs       Fixed3  `json:"jitter_ms"`
	RTTMs          *Fixed3 `json:"rtt_ms"`
	XR             *XR     `json:"xr,omitempty"`
}

// XR is an RTCP XR VoIP metrics block in JSON.
type XR struct {
	LossPct     Fixed3 `json:"loss_pct"`
	DiscardPct  Fixed3 `json:"discard_pct"`
	RoundTripMs int    `json:"round_trip_ms"`
	RFactor     int    `json:"r_factor"`
	MOSLQ       Fixed3 `json:"mos_lq"`
	MOSCQ       Fixed3 `json:"mos_cq"`
}

// NewStreamJSON converts a stream; index is its call's index (0 if none).
func NewStreamJSON(s *media.Stream, index int) StreamJSON {
	j := StreamJSON{
		Call: index, CallID: s.CallID, Kind: s.Kind.String(), Src: s.Src.String(), Dst: s.Dst.String(),
		SSRC: fmt.Sprintf("0x%08X", s.SSRC), Payload: s.PayloadType, Payloads: s.Payloads, Codec: s.Codec,
		ClockRate: s.ClockRate, Signalled: s.Signalled, SRTP: s.SRTP, Start: rfc3339(s.First), End: rfc3339(s.Last),
		Packets: s.Packets, Expected: s.Expected, Lost: s.Lost, LostPct: Fixed3(s.LostPct), Duplicates: s.Duplicates,
		SeqErrors: s.SequenceErrors, Markers: s.Markers, PTChanges: s.PTChanges,
		MinDelta: Fixed3(s.MinDelta), MeanDelta: Fixed3(s.MeanDelta), MaxDelta: Fixed3(s.MaxDelta),
		MinJitter: Fixed3(s.MinJitter), MeanJitter: Fixed3(s.MeanJitter), MaxJitter: Fixed3(s.MaxJitter),
		MaxSkew: Fixed3(s.MaxSkew), ComfortNoise: s.ComfortNoise, JBLate: s.JitterBufferLate,
		EffLossPct: Fixed3(s.EffLossPct), DTMF: []DTMF{}, Problems: []string{},
	}
	if j.Payloads == nil {
		j.Payloads = []int{}
	}
	if s.MOS >= 0 {
		r, m := Fixed3(s.R), Fixed3(s.MOS)
		j.R, j.MOS = &r, &m
	}
	for _, e := range s.Events {
		j.DTMF = append(j.DTMF, DTMF{Digit: e.Digit, Time: rfc3339(e.Time), DurationMs: e.Duration.Milliseconds(), Ended: e.Ended})
	}
	if r := s.RTCP; r.SenderReports > 0 || r.Reports > 0 || r.CNAME != "" || r.Bye || r.XR != nil {
		rj := &RTCP{SenderReports: r.SenderReports, CNAME: r.CNAME, Bye: r.Bye, Reports: r.Reports,
			FractionLost: Fixed3(r.FractionLost), CumulativeLost: r.CumulativeLost, JitterMs: Fixed3(r.JitterMs)}
		if r.RTTMs >= 0 {
			v := Fixed3(r.RTTMs)
			rj.RTTMs = &v
		}
		if x := r.XR; x != nil {
			rj.XR = &XR{LossPct: Fixed3(x.LossPct), DiscardPct: Fixed3(x.DiscardPct), RoundTripMs: x.RoundTripMs,
				RFactor: x.RFactor, MOSLQ: Fixed3(x.MOSLQ), MOSCQ: Fixed3(x.MOSCQ)}
		}
		j.RTCP = rj
	}
	for _, p := range s.Problems {
		j.Problems = append(j.Problems, p.String())
	}
	return j
}

// callIndexer finds the index of a call from a Call-ID and the start of
// the call's media (media.CallMedia.Start): the call of that Call-ID, or,
// when the Call-ID was used by several calls, the one whose time holds
// that start. 0 when no call has the Call-ID.
type callIndexer struct {
	one  map[string]*call.Call   // the first call of each Call-ID
	more map[string][]*call.Call // every call of a Call-ID used by several
}

func newCallIndexer(calls []*call.Call) callIndexer {
	x := callIndexer{one: make(map[string]*call.Call, len(calls))}
	for _, c := range calls {
		for _, id := range c.CallIDs {
			first, ok := x.one[id]
			switch {
			case !ok:
				x.one[id] = c
			case x.more == nil:
				x.more = map[string][]*call.Call{id: {first, c}}
			case x.more[id] == nil:
				x.more[id] = []*call.Call{first, c}
			default:
				x.more[id] = append(x.more[id], c)
			}
		}
	}
	return x
}

func (x callIndexer) of(id string, start time.Time) int {
	c, ok := x.one[id]
	if !ok {
		return 0
	}
	cs := x.more[id]
	if cs == nil {
		return c.Index
	}
	for _, c := range cs[:len(cs)-1] {
		if !start.After(c.End) {
			return c.Index
		}
	}
	return cs[len(cs)-1].Index
}

// stream is the index of s's call.
func (x callIndexer) stream(res *media.Result, s *media.Stream) int {
	var start time.Time
	if cm := res.CallOf(s); cm != nil {
		start = cm.Start
	}
	return x.of(s.CallID, start)
}

// RTPJSON writes one JSON object per stream per line, streams in order of
// their first packet; call-level problems (one-way, no media, private
// SDP) are added to every stream of the call.
func RTPJSON(w io.Writer, calls []*call.Call, res *media.Result) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	idx := newCallIndexer(calls)
	for _, s := range res.Streams {
		j := NewStreamJSON(s, idx.stream(res, s))
		j.Problems = append(j.Problems, callProblems(res.CallOf(s))...)
		if err := enc.Encode(j); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// callProblems are the problems of a call that belong to no stream.
func callProblems(cm *media.CallMedia) []string {
	if cm == nil {
		return nil
	}
	var out []string
	for _, p := range cm.Problems {
		if callLevel(p.Kind) {
			out = append(out, p.String())
		}
	}
	return out
}

// RTP writes the stream table: tshark's rtp,streams columns plus the
// quality figures, then the problems and DTMF events of each stream.
//
// With o.Width above 0 every line fits it: the columns a narrow terminal
// can best do without go first (start time, SSRC, max delta, mean jitter),
// then the payload name is cut, then the problems column gives way to a
// "!" after the call number, then the addresses are cut from the left (the
// port stays). The notes below the table, which name every problem in
// full, are wrapped. With o.Width 0 or less nothing is cut.
func RTP(w io.Writer, calls []*call.Call, res *media.Result, o Options) error {
	bw := bufio.NewWriter(w)
	idx := newCallIndexer(calls)
	loc := o.loc()
	ell := o.ellipsis()
	head := [rtpCols]string{"Call", "Start", "Src", "Dst", "SSRC", "Payload", "Pkts", "Lost", "MaxDelta", "MaxJitter", "MeanJit", "MOS", "Problems"}
	right := [rtpCols]bool{cPkts: true, cLost: true, cMaxDelta: true, cMaxJitter: true, cMeanJit: true, cMOS: true}
	// at least these widths, as before the table fitted a width
	widths := [rtpCols]int{cCall: 4, cStart: 12, cSrc: 21, cDst: 21, cSSRC: 10, cPayload: 15, cPkts: 6, cLost: 12, cMaxDelta: 9, cMaxJitter: 9, cMeanJit: 9, cMOS: 5}
	// A stream's row is made twice, once to size the columns and once to
	// print, so that a trunk's tens of thousands of rows are never held;
	// each time into a reused buffer, without a string per cell, and the
	// rows of a trunk on every CPU (inParts).
	cms := make([]*media.CallMedia, len(res.Streams)) // each stream's call, looked up once
	nums := make([]int, len(res.Streams))
	row := func(r *rtpRow, k int) *rtpRow {
		s := res.Streams[k]
		r.reset()
		if n := nums[k]; n > 0 {
			r.buf = strconv.AppendInt(r.buf, int64(n), 10)
		} else {
			r.buf = append(r.buf, '-')
		}
		r.next()
		r.buf = s.First.In(loc).AppendFormat(r.buf, "15:04:05.000")
		r.next()
		r.buf = s.Src.AppendTo(r.buf)
		r.nextClean()
		r.buf = s.Dst.AppendTo(r.buf)
		r.nextClean()
		r.buf = appendHex32(r.buf, s.SSRC)
		r.next()
		r.buf = appendStreamCodec(r.buf, s)
		r.nextClean()
		if r.width(cPayload) > 15 {
			r.set(cPayload, truncate(r.cell(cPayload), 15, ell))
		}
		r.buf = strconv.AppendInt(r.buf, int64(s.Packets), 10)
		r.next()
		r.buf = strconv.AppendInt(r.buf, int64(s.Lost), 10)
		r.buf = append(r.buf, " ("...)
		r.buf = strconv.AppendFloat(r.buf, s.LostPct, 'f', 1, 64)
		r.buf = append(r.buf, "%)"...)
		r.next()
		for _, v := range [...]float64{s.MaxDelta, s.MaxJitter, s.MeanJitter} {
			r.buf = strconv.AppendFloat(r.buf, v, 'f', 3, 64)
			r.next()
		}
		if s.MOS >= 0 {
			r.buf = strconv.AppendFloat(r.buf, s.MOS, 'f', 2, 64)
		} else {
			r.buf = append(r.buf, '-')
		}
		r.next()
		if cm := cms[k]; len(s.Problems) > 0 || (cm != nil && len(cm.Problems) > 0) {
			probs := make([]string, 0, len(s.Problems))
			for _, p := range s.Problems {
				probs = append(probs, p.Kind.String())
			}
			probs = append(probs, kinds(cm)...)
			r.buf = append(r.buf, strings.Join(uniq(probs), ",")...)
		}
		r.next()
		return r
	}
	var notes []string
	for _, s := range res.Streams {
		for _, p := range s.Problems {
			notes = append(notes, fmt.Sprintf("%s -> %s 0x%08X: %s", s.Src, s.Dst, s.SSRC, clean(p.String())))
		}
		if len(s.Events) > 0 {
			var ds []string
			for _, e := range s.Events {
				ds = append(ds, fmt.Sprintf("%s(%dms)", e.Digit, e.Duration.Milliseconds()))
			}
			notes = append(notes, fmt.Sprintf("%s -> %s 0x%08X: DTMF %s", s.Src, s.Dst, s.SSRC, strings.Join(ds, " ")))
		}
	}
	if o.Width > 0 {
		// fitting a terminal: each column as wide as its widest cell
		for i := range widths {
			widths[i] = strWidth(head[i])
		}
	}
	callW := 0 // the widest call cell
	var parts [maxParts]struct {
		r      rtpRow
		widths [rtpCols]int
		callW  int
		out    []byte // lines printed
		probs  int    // rows with problems
		worst  *media.Stream
	}
	inParts(len(res.Streams), func(slot, lo, hi int) {
		pt := &parts[slot]
		pt.widths = widths
		for k := lo; k < hi; k++ {
			s := res.Streams[k]
			cms[k] = res.CallOf(s)
			var start time.Time
			if cms[k] != nil {
				start = cms[k].Start
			}
			nums[k] = idx.of(s.CallID, start)
			r := row(&pt.r, k)
			for i := range cProblems {
				pt.widths[i] = max(pt.widths[i], r.width(i))
			}
			pt.callW = max(pt.callW, r.width(cCall))
		}
	}, func(slot int) {
		for i := range widths {
			widths[i] = max(widths[i], parts[slot].widths[i])
		}
		callW = max(callW, parts[slot].callW)
	})
	shown := [rtpCols]bool{}
	for i := range shown {
		shown[i] = true
	}
	marked := false // problems shown as a "!" after the call, not in a column
	if W := o.Width; W > 0 {
		used := func() int { // every shown column but Problems, and the spaces
			n := 0
			for i := range rtpCols - 1 {
				if shown[i] {
					n += widths[i] + 1
				}
			}
			return n
		}
		const minProblems = 12
		for _, c := range []int{cStart, cSSRC, cMaxDelta, cMeanJit} {
			if used()+minProblems <= W {
				break
			}
			shown[c] = false
		}
		for used()+minProblems > W && widths[cPayload] > 10 {
			widths[cPayload]--
		}
		if used()+minProblems > W {
			shown[cProblems], marked = false, true
			widths[cCall] = max(widths[cCall], callW+1)
		}
		fits := func() bool {
			if marked {
				return used()-1 <= W
			}
			return used()+minProblems <= W
		}
		for !fits() && (widths[cSrc] > 10 || widths[cDst] > 10) {
			if widths[cSrc] >= widths[cDst] {
				widths[cSrc]--
			} else {
				widths[cDst]--
			}
		}
		widths[cProblems] = max(W-used(), 1)
	}
	// line appends a row's shown cells to out, padded and cut to their
	// columns; bang marks the call of a row with problems when they have
	// no column.
	line := func(out []byte, r *rtpRow, bang bool) []byte {
		ln := out
		for i := range rtpCols {
			if !shown[i] {
				continue
			}
			if len(ln) > len(out) {
				ln = append(ln, ' ')
			}
			cw := r.width(i)
			if i == cCall && bang {
				r.set(i, r.cell(i)+"!")
				cw++
			}
			cut := cw > widths[i] && (i != cProblems || o.Width > 0)
			if cut {
				c := r.cell(i)
				if i == cSrc || i == cDst {
					c = truncateLeft(c, widths[i], ell)
				} else {
					c = truncate(c, widths[i], ell)
				}
				r.set(i, c)
				cw = r.width(i)
			}
			switch {
			case i == cProblems:
				ln = r.appendCell(ln, i)
			case right[i]:
				ln = appendSpaces(ln, widths[i]-cw)
				ln = r.appendCell(ln, i)
			default:
				ln = r.appendCell(ln, i)
				ln = appendSpaces(ln, widths[i]-cw)
			}
		}
		for len(ln) > len(out) && ln[len(ln)-1] == ' ' {
			ln = ln[:len(ln)-1]
		}
		return append(ln, '\n')
	}
	var hr rtpRow
	hr.reset()
	for _, h := range head {
		hr.buf = append(hr.buf, h...)
		hr.next()
	}
	bw.Write(line(nil, &hr, false))
	var withProblems int
	var worst *media.Stream // the lowest MOS
	inParts(len(res.Streams), func(slot, lo, hi int) {
		pt := &parts[slot]
		pt.out, pt.probs, pt.worst = pt.out[:0], 0, nil
		for k := lo; k < hi; k++ {
			r := row(&pt.r, k)
			probs := len(r.bytes(cProblems)) > 0 || r.isSet[cProblems]
			if probs {
				pt.probs++
			}
			pt.out = line(pt.out, r, marked && probs)
			if st := res.Streams[k]; st.MOS >= 0 && (pt.worst == nil || st.MOS < pt.worst.MOS) {
				pt.worst = st
			}
		}
	}, func(slot int) {
		pt := &parts[slot]
		bw.Write(pt.out)
		withProblems += pt.probs
		if pt.worst != nil && (worst == nil || pt.worst.MOS < worst.MOS) {
			worst = pt.worst
		}
	})
	if n := len(res.Streams); n > 0 {
		// the figures to look at first on a trunk's thousands of rows
		sum := fmt.Sprintf("%s, %d with problems", plural(n, "stream"), withProblems)
		if worst != nil {
			call := "no call"
			if i := idx.stream(res, worst); i > 0 {
				call = "call " + strconv.Itoa(i)
			}
			sum += fmt.Sprintf("; lowest MOS %.2f (%s, %s -> %s)", worst.MOS, call, clean(worst.Src.String()), clean(worst.Dst.String()))
		}
		fmt.Fprintln(bw)
		for _, l := range wrapWords(sum, o.Width, "", "  ") {
			fmt.Fprintln(bw, l)
		}
	}
	if len(res.Streams) == 0 {
		logOnly := len(res.Calls) > 0
		for _, first := range res.Calls {
			for cm := first; cm != nil; cm = cm.Next {
				logOnly = logOnly && cm.LogOnly
			}
		}
		if logOnly {
			fmt.Fprintln(bw, "(no stream: the input is a text log, which holds the signalling only)")
		} else {
			fmt.Fprintln(bw, "(no RTP stream)")
		}
	}
	for _, c := range calls {
		for _, id := range c.CallIDs {
			for cm := res.Calls[id]; cm != nil; cm = cm.Next {
				if idx.of(id, cm.Start) != c.Index {
					continue // another call in the same Call-ID
				}
				for _, p := range cm.Problems {
					if callLevel(p.Kind) {
						notes = append(notes, fmt.Sprintf("call %d: %s", c.Index, clean(p.String())))
					}
				}
			}
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(bw)
		if marked {
			fmt.Fprintln(bw, "Problems (streams marked !) and events:")
		} else {
			fmt.Fprintln(bw, "Problems and events:")
		}
		for _, n := range notes {
			for _, l := range wrapWords(n, o.Width, "  ", "    ") {
				fmt.Fprintln(bw, l)
			}
		}
	}
	return bw.Flush()
}

// wrapWords breaks s at spaces into lines of at most w cells, the first
// led by lead and the others by indent; w 0 or less leaves it whole. A word
// too long for a line of its own is cut across lines.
func wrapWords(s string, w int, lead, indent string) []string {
	if w <= 0 || strWidth(lead+s) <= w {
		return []string{lead + s}
	}
	var out []string
	cur, empty := lead, true
	for _, word := range strings.Fields(s) {
		switch {
		case empty && strWidth(cur)+strWidth(word) <= w:
			cur += word
			empty = false
		case !empty && strWidth(cur)+1+strWidth(word) <= w:
			cur += " " + word
		default:
			if !empty {
				out = append(out, cur)
				cur = indent
			}
			// a word wider than what a line has room for is cut
			for room := w - strWidth(cur); strWidth(word) > room && room > 0; room = w - strWidth(cur) {
				part := fit(word, room)
				out = append(out, cur+part)
				word, cur = word[len(part):], indent
			}
			cur += word
			empty = false
		}
	}
	return append(out, cur)
}

func kinds(cm *media.CallMedia) []string {
	if cm == nil {
		return nil
	}
	var out []string
	for _, p := range cm.Problems {
		if callLevel(p.Kind) {
			out = append(out, p.Kind.String())
		}
	}
	return out
}

func uniq(xs []string) []string {
	var out []string
	for _, x := range xs {
		dup := false
		for _, y := range out {
			if y == x {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, x)
		}
	}
	return out
}

// The columns of the `sipflow rtp` table.
const (
	cCall = iota
	cStart
	cSrc
	cDst
	cSSRC
	cPayload
	cPkts
	cLost
	cMaxDelta
	cMaxJitter
	cMeanJit
	cMOS
	cProblems
	rtpCols
)

// rtpRow is one row of the `sipflow rtp` table: its cells one after the
// other in buf, cell i ending at end[i], unless it was replaced (cleaned,
// cut) by over[i].
type rtpRow struct {
	buf   []byte
	end   [rtpCols]int
	n     int // cells done
	over  [rtpCols]string
	isSet [rtpCols]bool // over[i] is cell i
	wide  [rtpCols]bool // cell i is not all printable ASCII: its width is not its length
}

func (r *rtpRow) reset() {
	r.buf, r.n = r.buf[:0], 0
	r.isSet, r.wide = [rtpCols]bool{}, [rtpCols]bool{}
}

// next ends the current cell.
func (r *rtpRow) next() {
	r.end[r.n] = len(r.buf)
	r.wide[r.n] = !printableASCII(r.bytes(r.n))
	r.n++
}

// nextClean ends the current cell, made safe to print (clean) unless it
// is all printable ASCII.
func (r *rtpRow) nextClean() {
	r.next()
	if i := r.n - 1; r.wide[i] {
		r.set(i, clean(string(r.bytes(i))))
	}
}

// bytes is cell i as written in buf.
func (r *rtpRow) bytes(i int) []byte {
	start := 0
	if i > 0 {
		start = r.end[i-1]
	}
	return r.buf[start:r.end[i]]
}

// set replaces cell i.
func (r *rtpRow) set(i int, c string) {
	r.over[i], r.isSet[i], r.wide[i] = c, true, !printableASCII([]byte(c))
}

// cell is cell i.
func (r *rtpRow) cell(i int) string {
	if r.isSet[i] {
		return r.over[i]
	}
	return string(r.bytes(i))
}

func (r *rtpRow) appendCell(b []byte, i int) []byte {
	if r.isSet[i] {
		return append(b, r.over[i]...)
	}
	return append(b, r.bytes(i)...)
}

// width is cell i's width in terminal cells.
func (r *rtpRow) width(i int) int {
	switch {
	case r.wide[i]:
		return strWidth(r.cell(i))
	case r.isSet[i]:
		return len(r.over[i])
	}
	return len(r.bytes(i))
}

func printableASCII(b []byte) bool {
	for _, c := range b {
		if c < ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// appendHex32 appends v as 0x and eight upper-case hex digits.
func appendHex32(b []byte, v uint32) []byte {
	const digits = "0123456789ABCDEF"
	b = append(b, '0', 'x')
	for sh := 28; sh >= 0; sh -= 4 {
		b = append(b, digits[v>>uint(sh)&0xf])
	}
	return b
}

func appendSpaces(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, ' ')
	}
	return b
}

// maxParts is how many parts of a table inParts works on at once, at most.
const maxParts = 8

// partRows is how many rows make one part.
const partRows = 2048

// inParts splits [0, n) into parts of partRows and calls work on each, as
// many at once as there are CPUs (up to maxParts), each in a slot of its
// own; then, in order, done on each part's slot before the next ones are
// worked. A part's slot is reused once done returns.
func inParts(n int, work func(slot, lo, hi int), done func(slot int)) {
	w := min(runtime.GOMAXPROCS(0), maxParts)
	for lo := 0; lo < n; {
		slots := min(w, (n-lo+partRows-1)/partRows)
		if slots == 1 {
			hi := min(n, lo+partRows)
			work(0, lo, hi)
			done(0)
			lo = hi
			continue
		}
		var wg sync.WaitGroup
		for i := range slots {
			wg.Go(func() { work(i, lo+i*partRows, min(n, lo+(i+1)*partRows)) })
		}
		wg.Wait()
		for i := range slots {
			done(i)
		}
		lo = min(n, lo+slots*partRows)
	}
}
