package text

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/sipflow/sipflow/convert/call"
	"github.com/sipflow/sipflow/convert/media"
)

// glyphs are the characters a ladder is drawn with.
type glyphs struct {
	life, shaft, dashed, headR, headL, top, bottom string
	selfOut, selfIn, selfOutL, selfInL             string // corners of a loop to the right / to the left
}

var (
	unicodeGlyphs = glyphs{life: "│", shaft: "─", dashed: "┄", headR: "►", headL: "◄", top: "┬", bottom: "┴", selfOut: "┐", selfIn: "┘", selfOutL: "┌", selfInL: "└"}
	asciiGlyphs   = glyphs{life: "|", shaft: "-", dashed: ".", headR: ">", headL: "<", top: "+", bottom: "+", selfOut: "+", selfIn: "+", selfOutL: "+", selfInL: "+"}
)

// Ladder geometry.
const (
	timeW     = 12 // 15:04:05.000
	deltaW    = 8  // +12.345s
	minColumn = 14 // narrowest column of the ladder; below it Flow goes compact
	maxColumn = 40 // widest column; wide terminals do not stretch the ladder
)

// column is one host of the ladder.
type column struct {
	ap      netip.AddrPort // invalid for the unknown-party column
	addr    string         // "ip:port", or "?"
	name    string         // from Options.Hosts, cleaned; "" if none
	letter  string         // compact mode: A, B, ... or ?
	unknown bool
}

// flow holds what Flow computes before drawing.
type flow struct {
	c       *call.Call
	cm      *media.CallMedia // nil: media was not read
	o       Options
	g       glyphs
	ell     string
	W       int
	cols    []column
	idx     map[netip.AddrPort]int
	unknown int // index of the "?" column, -1 if none
	multi   bool
	legW    int  // cells of the leg number in the margin ("L12 "), 0 for one leg
	delta   bool // the margin shows the delta to the previous message
	margin  int
	out     *bufio.Writer
	err     error
}

// Flow writes the ladder diagram of one call: a header with the call's
// facts, one lifeline per host (ip:port, named from o.Hosts), and one arrow
// per message. When the hosts do not fit o.Width at a readable spacing, it
// writes a compact list instead ("A ──► B  INVITE (1)") under a legend of
// host letters. No line is wider than o.Width.
func Flow(w io.Writer, c *call.Call, o Options) error {
	return FlowMedia(w, c, nil, o)
}

// FlowMedia is Flow with the call's measured media (media.Result.ForCall of
// its Call-IDs): the header gains one line per stream, that is per
// direction and SSRC (codec, packets, loss, max and mean jitter, MOS,
// problems, DTMF digits), then the call's media problems in words. A nil cm
// means media was not read and prints no media lines; a cm without streams
// prints "Media: none seen".
func FlowMedia(w io.Writer, c *call.Call, cm *media.CallMedia, o Options) error {
	if c == nil {
		return fmt.Errorf("text: nil call")
	}
	f := &flow{c: c, cm: cm, o: o, W: o.width(), ell: o.ellipsis(), idx: map[netip.AddrPort]int{}, unknown: -1, out: bufio.NewWriter(w)}
	f.g = unicodeGlyphs
	if o.ASCII {
		f.g = asciiGlyphs
	}
	f.multi = len(c.Legs) > 1
	f.columns()
	f.header()
	if len(c.Msgs) == 0 {
		f.println("(no messages kept for this call)")
		return f.flush()
	}
	if f.multi {
		maxLeg := 0
		for i := range c.Msgs {
			maxLeg = max(maxLeg, c.Msgs[i].Leg+1)
		}
		f.legW = len("L"+strconv.Itoa(maxLeg)) + 1
	}
	// The ladder with the full margin; else without the delta; else the
	// compact list.
	n := len(f.cols)
	for _, delta := range []bool{true, false} {
		f.delta = delta
		f.margin = timeW + 1 + f.legW
		if delta {
			f.margin += deltaW + 1
		}
		if cw := min((f.W-f.margin)/n, maxColumn); cw >= minColumn {
			f.ladder(cw)
			return f.flush()
		}
	}
	f.delta = true
	f.margin = timeW + 1 + deltaW + 1 + f.legW
	f.compact()
	return f.flush()
}

func (f *flow) flush() error {
	if f.err != nil {
		return f.err
	}
	return f.out.Flush()
}

// println writes s cut to the width.
func (f *flow) println(s string) {
	if f.err != nil {
		return
	}
	_, f.err = f.out.WriteString(truncate(s, f.W, f.ell) + "\n")
}

func (f *flow) emit(l line) { f.println(l.String()) }

// wrap prints fields two spaces apart, starting a new line when the next
// field would not fit; a field wider than the line is cut.
func (f *flow) wrap(fields []string) {
	cur := ""
	for _, fl := range fields {
		fl = clean(fl)
		switch {
		case cur == "":
			cur = fl
		case strWidth(cur)+2+strWidth(fl) <= f.W:
			cur += "  " + fl
		default:
			f.println(cur)
			cur = fl
		}
	}
	if cur != "" {
		f.println(cur)
	}
}

// columns orders the hosts by first appearance; unknown parties go to a
// "?" column at the right edge.
func (f *flow) columns() {
	add := func(ap netip.AddrPort) {
		if !ap.IsValid() {
			if f.unknown < 0 {
				f.unknown = -2 // placed last
			}
			return
		}
		if _, ok := f.idx[ap]; ok {
			return
		}
		f.idx[ap] = len(f.cols)
		f.cols = append(f.cols, column{ap: ap, addr: ap.String(), name: clean(f.o.Hosts.Name(ap))})
	}
	for i := range f.c.Msgs {
		add(f.c.Msgs[i].Src)
		add(f.c.Msgs[i].Dst)
	}
	if f.unknown == -2 {
		f.unknown = len(f.cols)
		f.cols = append(f.cols, column{addr: "?", unknown: true})
	}
	for i := range f.cols {
		if f.cols[i].unknown {
			f.cols[i].letter = "?"
		} else {
			f.cols[i].letter = letters(i)
		}
	}
}

// letters names column i: A..Z, then AA, AB, ...
func letters(i int) string {
	s := ""
	for {
		s = string(rune('A'+i%26)) + s
		i = i/26 - 1
		if i < 0 {
			return s
		}
	}
}

func (f *flow) col(ap netip.AddrPort) int {
	if !ap.IsValid() {
		return f.unknown
	}
	return f.idx[ap]
}

// who is a party as shown in the header: display name and user (or URI).
func who(p call.Party) string {
	s := party(p)
	if p.Display != "" {
		if s == "" {
			return strconv.Quote(p.Display)
		}
		return strconv.Quote(p.Display) + " " + s
	}
	if s == "" {
		return "?"
	}
	return s
}

func (f *flow) header() {
	c := f.c
	method := c.Method
	if method == "" {
		method = "?"
	}
	status := "-"
	if c.FinalStatus != 0 {
		status = strconv.Itoa(c.FinalStatus)
		if c.FinalReason != "" {
			status += " " + c.FinalReason
		}
	}
	f.println(clean(fmt.Sprintf("Call %d: %s %s -> %s", c.Index, method, who(c.From), who(c.To))))
	for i, id := range c.CallIDs {
		lbl := "Call-ID:"
		if len(c.CallIDs) > 1 {
			lbl = fmt.Sprintf("Call-ID %d:", i+1)
		}
		f.println(clean(lbl + " " + id))
	}
	start := "-"
	if !c.Start.IsZero() {
		start = c.Start.In(f.o.loc()).Format("2006-01-02 15:04:05.000 MST")
		if call.Dateless(c.Start) {
			start = c.Start.Format("15:04:05.000") + " (as logged: no date, no time zone)"
		}
	}
	var ids []string
	if c.RequestURI != "" {
		ids = append(ids, "Request-URI: "+c.RequestURI)
	}
	if p := party(c.PAI); p != "" {
		ids = append(ids, "PAI: "+who(c.PAI))
	}
	if p := party(c.Diversion); p != "" {
		ids = append(ids, "Diversion: "+who(c.Diversion))
	}
	f.wrap(ids)
	facts := []string{"Start: " + start, "Duration: " + duration(c), "State: " + c.State.String(), "Final: " + status}
	if c.SetupTime >= 0 {
		facts = append(facts, "Setup: "+secs(c.SetupTime))
	}
	if c.PostDialDelay >= 0 {
		facts = append(facts, "PDD: "+secs(c.PostDialDelay))
	}
	if c.TalkTime >= 0 {
		facts = append(facts, "Talk: "+secs(c.TalkTime))
	}
	facts = append(facts, fmt.Sprintf("Legs: %d", len(c.Legs)), fmt.Sprintf("Messages: %d", c.Messages),
		fmt.Sprintf("Retrans: %d", c.Retransmissions), fmt.Sprintf("Broken: %d", c.Broken))
	f.wrap(facts)
	if c.EndCause != call.EndNone || c.EndedBy.IsValid() || c.ReasonHdr != "" {
		var ended []string
		s := "Ended"
		if c.EndCause != call.EndNone {
			s += " by " + c.EndCause.String()
		}
		if c.EndedBy.IsValid() {
			s += " from " + c.EndedBy.String()
			if n := f.o.Hosts.Name(c.EndedBy); n != "" {
				s += " (" + n + ")"
			}
		}
		ended = append(ended, s)
		if c.ReasonHdr != "" {
			ended = append(ended, "Reason: "+c.ReasonHdr)
		}
		f.wrap(ended)
	}
	f.media()
	f.println("")
}

// fmtDelta formats the time since the previous message in at most deltaW
// cells.
func fmtDelta(d time.Duration) string {
	sign := "+"
	if d < 0 {
		sign = "-"
		if d == math.MinInt64 {
			d = math.MaxInt64
		} else {
			d = -d
		}
	}
	s := d.Seconds()
	switch {
	case s < 99.9995:
		return sign + strconv.FormatFloat(s, 'f', 3, 64) + "s"
	case s < 999.995:
		return sign + strconv.FormatFloat(s, 'f', 2, 64) + "s"
	case s < 9999.95:
		return sign + strconv.FormatFloat(s, 'f', 1, 64) + "s"
	case s < 999999.5:
		return sign + strconv.FormatFloat(s, 'f', 0, 64) + "s"
	case s < 99999.5*3600:
		return sign + strconv.FormatFloat(s/3600, 'f', 0, 64) + "h"
	default:
		return sign + strconv.FormatFloat(s/86400, 'f', 0, 64) + "d"
	}
}

// marginText is the left margin of a message line: time, delta, leg.
func (f *flow) marginText(i int) string {
	m := &f.c.Msgs[i]
	t := strings.Repeat(" ", timeW)
	if !m.Time.IsZero() {
		t = call.In(m.Time, f.o.loc()).Format("15:04:05.000")
	}
	d := ""
	if i > 0 && !m.Time.IsZero() && !f.c.Msgs[i-1].Time.IsZero() {
		// The difference of the times as shown (to the millisecond), so
		// that the column adds up for a reader checking it by eye.
		d = fmtDelta(m.Time.Truncate(time.Millisecond).Sub(f.c.Msgs[i-1].Time.Truncate(time.Millisecond)))
	} else if i == 0 {
		d = fmtDelta(0)
	}
	s := t + " "
	if f.delta {
		s += padLeft(d, deltaW) + " "
	}
	if f.multi {
		s += pad("L"+strconv.Itoa(m.Leg+1), f.legW-1) + " "
	}
	return s
}

// label is the arrow text of a message: the marker for problems, the
// method or status with its CSeq, the marker for retransmissions. tight
// picks the short retransmission marker.
func labelParts(m *call.Msg) (prefix, body, suffix, short string) {
	if m.Problems > 0 {
		prefix = "!"
	}
	body = m.Label()
	if m.Request {
		body += " (" + strconv.FormatUint(uint64(m.CSeq), 10) + ")"
	}
	body = clean(body)
	if m.Retransmission {
		suffix, short = " [retrans]", " [R]"
	}
	return
}

// fitLabel fits a label into w cells, keeping the markers visible.
func (f *flow) fitLabel(m *call.Msg, w int) string {
	prefix, body, suffix, short := labelParts(m)
	full := prefix + body + suffix
	if strWidth(full) <= w {
		return full
	}
	if strWidth(prefix+body+short) <= w {
		return prefix + body + short
	}
	room := w - strWidth(prefix) - strWidth(short)
	if room >= 3 {
		return prefix + truncate(body, room, f.ell) + short
	}
	return truncate(full, w, f.ell)
}

// ladder draws the sequence diagram with columns cw cells wide.
func (f *flow) ladder(cw int) {
	g := f.g
	n := len(f.cols)
	x := make([]int, n)
	for i := range x {
		x[i] = f.margin + i*cw + cw/2
	}
	lifelines := func(l line, glyph string) {
		for _, xi := range x {
			l.put(xi, glyph)
		}
	}
	// Names are cut at the end, addresses at the start: the end of an
	// address (last digits, port) is what tells hosts apart.
	center := func(l line, i int, s string, addr bool) bool {
		t := truncate(s, cw-2, f.ell)
		if addr {
			t = truncateLeft(s, cw-2, f.ell)
		}
		l.put(x[i]-strWidth(t)/2, t)
		return t != s
	}
	// Header: names (if any), addresses, then the tops of the lifelines.
	cut := false
	hasName := false
	for _, c := range f.cols {
		hasName = hasName || c.name != ""
	}
	if hasName {
		l := newLine(f.W)
		for i, c := range f.cols {
			if center(l, i, c.name, false) {
				cut = true
			}
		}
		f.emit(l)
	}
	l := newLine(f.W)
	for i, c := range f.cols {
		if center(l, i, c.addr, true) {
			cut = true
		}
	}
	f.emit(l)
	l = newLine(f.W)
	lifelines(l, g.top)
	f.emit(l)

	for i := range f.c.Msgs {
		m := &f.c.Msgs[i]
		a, b := f.col(m.Src), f.col(m.Dst)
		l := newLine(f.W)
		l.put(0, f.marginText(i))
		lifelines(l, g.life)
		shaft := g.shaft
		if m.Retransmission {
			shaft = g.dashed
		}
		if a == b {
			// A message to itself: a loop beside its lifeline, on the
			// right unless it is the last column and short of room.
			room := cw - 5
			left := a == n-1 && f.W-x[a]-5 < room
			if a == n-1 && !left {
				room = f.W - x[a] - 5
			}
			lbl := f.fitLabel(m, room)
			if left {
				out, in := g.selfOutL, g.selfInL
				l.put(x[a]-3-strWidth(lbl)-1, lbl+" "+out+shaft+shaft)
				f.emit(l)
				l = newLine(f.W)
				lifelines(l, g.life)
				l.put(x[a]-3, in+shaft+g.headR)
			} else {
				l.put(x[a]+1, shaft+shaft+g.selfOut+" "+lbl)
				f.emit(l)
				l = newLine(f.W)
				lifelines(l, g.life)
				l.put(x[a]+1, g.headL+shaft+g.selfIn)
			}
			f.emit(l)
		} else {
			lo, hi := min(x[a], x[b]), max(x[a], x[b])
			span := hi - lo - 1 // cells between the two lifelines
			for p := lo + 1; p < hi; p++ {
				l.put(p, shaft)
			}
			if a < b {
				l.put(hi-1, g.headR)
			} else {
				l.put(lo+1, g.headL)
			}
			lbl := f.fitLabel(m, span-2)
			lw := strWidth(lbl)
			if lw+2 <= span-2 {
				lbl = " " + lbl + " "
				lw += 2
			}
			l.put(lo+1+(span-lw)/2, lbl)
			f.emit(l)
		}
		if m.SDP != "" {
			// Under the arrow, from its left end; wrapped at blanks when
			// it does not fit (at most three lines), never over the
			// lifelines on the left.
			lo := min(x[a], x[b]) + 2
			for _, part := range wrapText("SDP: "+clean(m.SDP), f.W-lo, 3, f.ell) {
				l := newLine(f.W)
				lifelines(l, g.life)
				l.put(lo, part)
				f.emit(l)
			}
		}
	}
	l = newLine(f.W)
	lifelines(l, g.bottom)
	f.emit(l)
	if cut {
		f.println("")
		f.println("Hosts:")
		f.legend(false)
	}
}

// legend lists the hosts with their full addresses and names.
func (f *flow) legend(withLetters bool) {
	aw, lw := 0, 0
	for _, c := range f.cols {
		aw = max(aw, strWidth(c.addr))
		lw = max(lw, strWidth(c.letter))
	}
	for _, c := range f.cols {
		addr, name := c.addr, c.name
		if c.unknown {
			addr, name = "unknown", "address not in the input"
			if !withLetters {
				addr = "?"
			}
		}
		s := "  "
		if withLetters {
			s += pad(c.letter, lw) + "  "
		}
		s += pad(addr, aw)
		if name != "" {
			s += "  " + name
		}
		f.println(strings.TrimRight(s, " "))
	}
}

// compact lists the messages one a line with host letters, for when the
// ladder does not fit.
func (f *flow) compact() {
	g := f.g
	f.println("Hosts:")
	f.legend(true)
	f.println("")
	lw := 0
	for _, c := range f.cols {
		lw = max(lw, strWidth(c.letter))
	}
	for i := range f.c.Msgs {
		m := &f.c.Msgs[i]
		a, b := f.cols[f.col(m.Src)], f.cols[f.col(m.Dst)]
		shaft := g.shaft
		if m.Retransmission {
			shaft = g.dashed
		}
		arrow := shaft + shaft + g.headR
		left, right := a.letter, b.letter
		if f.col(m.Dst) < f.col(m.Src) {
			// keep the lower letter on the left, as a ladder would
			arrow = g.headL + shaft + shaft
			left, right = b.letter, a.letter
		}
		s := f.marginText(i) + padLeft(left, lw) + " " + arrow + " " + pad(right, lw) + "  "
		room := f.W - strWidth(s)
		if room < 6 {
			room = 6
		}
		f.println(s + f.fitLabel(m, room))
		if m.SDP != "" {
			ind := strings.Repeat(" ", f.margin+2*lw+5+2)
			if strWidth(ind) > f.W/2 {
				ind = "  "
			}
			f.println(ind + "SDP: " + clean(m.SDP))
		}
	}
}

// wrapText splits s at blanks into at most maxLines lines of at most w
// cells; a word wider than w is broken where the line ends, and text beyond
// the last line is cut with ell.
func wrapText(s string, w, maxLines int, ell string) []string {
	if w <= 0 || maxLines <= 0 {
		return nil
	}
	var lines []string
	cur := ""
	words := strings.Fields(s)
	for i := 0; i < len(words); i++ {
		word := words[i]
		if cur != "" && strWidth(cur)+1+strWidth(word) <= w {
			cur += " " + word
			continue
		}
		if cur == "" && strWidth(word) <= w {
			cur = word
			continue
		}
		// word does not fit on this line.
		if len(lines) == maxLines-1 {
			rest := strings.Join(words[i:], " ")
			if cur != "" {
				rest = cur + " " + rest
			}
			return append(lines, truncate(rest, w, ell))
		}
		if strWidth(word) > w {
			// Break the long word: fill this line (after cur), carry the rest.
			head := cur
			if head != "" {
				head += " "
			}
			room := w - strWidth(head)
			if room < 4 && cur != "" {
				lines = append(lines, cur)
				cur = ""
				i--
				continue
			}
			part := fit(word, room)
			lines = append(lines, head+part)
			words[i] = word[len(part):]
			cur = ""
			i--
			continue
		}
		lines = append(lines, cur)
		cur = word
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}
