package text

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
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
type callIndexer map[string][]*call.Call

func newCallIndexer(calls []*call.Call) callIndexer {
	x := make(callIndexer)
	for _, c := range calls {
		for _, id := range c.CallIDs {
			x[id] = append(x[id], c)
		}
	}
	return x
}

func (x callIndexer) of(id string, start time.Time) int {
	cs := x[id]
	if len(cs) == 0 {
		return 0
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
		nCols
	)
	head := [nCols]string{"Call", "Start", "Src", "Dst", "SSRC", "Payload", "Pkts", "Lost", "MaxDelta", "MaxJitter", "MeanJit", "MOS", "Problems"}
	right := [nCols]bool{cPkts: true, cLost: true, cMaxDelta: true, cMaxJitter: true, cMeanJit: true, cMOS: true}
	// at least these widths, as before the table fitted a width
	widths := [nCols]int{cCall: 4, cStart: 12, cSrc: 21, cDst: 21, cSSRC: 10, cPayload: 15, cPkts: 6, cLost: 12, cMaxDelta: 9, cMaxJitter: 9, cMeanJit: 9, cMOS: 5}
	// the cells of a stream's row: made once to size the columns and once
	// to print, so that a trunk's tens of thousands of rows are never held
	row := func(s *media.Stream) [nCols]string {
		call := "-"
		if n := idx.stream(res, s); n > 0 {
			call = strconv.Itoa(n)
		}
		mos := "-"
		if s.MOS >= 0 {
			mos = strconv.FormatFloat(s.MOS, 'f', 2, 64)
		}
		probs := make([]string, 0, len(s.Problems))
		for _, p := range s.Problems {
			probs = append(probs, p.Kind.String())
		}
		probs = append(probs, kinds(res.CallOf(s))...)
		return [nCols]string{
			call, s.First.In(loc).Format("15:04:05.000"), clean(s.Src.String()), clean(s.Dst.String()), fmt.Sprintf("0x%08X", s.SSRC),
			truncate(clean(StreamCodec(s)), 15, ell), strconv.Itoa(s.Packets), fmt.Sprintf("%d (%.1f%%)", s.Lost, s.LostPct),
			fmt.Sprintf("%.3f", s.MaxDelta), fmt.Sprintf("%.3f", s.MaxJitter), fmt.Sprintf("%.3f", s.MeanJitter), mos, strings.Join(uniq(probs), ","),
		}
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
	for _, st := range res.Streams {
		r := row(st)
		for i, c := range r {
			if i != cProblems {
				widths[i] = max(widths[i], strWidth(c))
			}
		}
		callW = max(callW, strWidth(r[cCall]))
	}
	shown := [nCols]bool{}
	for i := range shown {
		shown[i] = true
	}
	marked := false // problems shown as a "!" after the call, not in a column
	if W := o.Width; W > 0 {
		used := func() int { // every shown column but Problems, and the spaces
			n := 0
			for i := range nCols - 1 {
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
	line := func(cells [nCols]string) {
		var b strings.Builder
		for i, c := range cells {
			if !shown[i] {
				continue
			}
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			switch {
			case i == cProblems:
				if o.Width > 0 {
					c = truncate(c, widths[i], ell)
				}
				b.WriteString(c)
			case i == cSrc || i == cDst:
				b.WriteString(pad(truncateLeft(c, widths[i], ell), widths[i]))
			case right[i]:
				b.WriteString(padLeft(truncate(c, widths[i], ell), widths[i]))
			default:
				b.WriteString(pad(truncate(c, widths[i], ell), widths[i]))
			}
		}
		fmt.Fprintln(bw, strings.TrimRight(b.String(), " "))
	}
	line(head)
	var withProblems int
	var worst *media.Stream // the lowest MOS
	for _, st := range res.Streams {
		r := row(st)
		if r[cProblems] != "" {
			withProblems++
		}
		if marked && r[cProblems] != "" {
			r[cCall] += "!"
		}
		line(r)
		if st.MOS >= 0 && (worst == nil || st.MOS < worst.MOS) {
			worst = st
		}
	}
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
