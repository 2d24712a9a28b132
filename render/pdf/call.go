package pdf

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/sipflow/sipflow/convert/call"
	"github.com/sipflow/sipflow/convert/media"
	"github.com/sipflow/sipflow/templates"
)

// Page sizes in mm, portrait form (width < height); larger ones are used in
// landscape when the hosts do not fit.
var pageSizes = []struct {
	name string
	w, h float64
}{{"A4", 210, 297}, {"A3", 297, 420}, {"A2", 420, 594}, {"A1", 594, 841}, {"A0", 841, 1189}}

// Ladder geometry, mm and points.
const (
	leftW     = 24.0 // time and delta column
	minCol    = 34.0 // narrowest host column
	maxCol    = 62.0 // widest host column
	edgeW     = 10.0 // room for the unknown-party marker
	labelPt   = 7.0
	sdpPt     = 5.8
	sdpLineH  = 2.5
	rowH      = 7.0
	headPt    = 7.5
	addrPt    = 6.3
	monoPt    = 6.5
	monoLineH = 2.8
	textPt    = 8.0
	textLineH = 3.7
)

// host is one column of the ladder.
type host struct {
	ap   netip.AddrPort
	name string
	x    float64
}

// callLayout lays out one call.
type callLayout struct {
	*layout
	c        *call.Call
	cm       *media.CallMedia // nil: media was not analysed
	o        *Options
	t        *templates.Texts
	id       string // anchor prefix, unique in the document
	hosts    []host
	idx      map[netip.AddrPort]int
	unknown  bool
	unknownX float64
	cw       float64
	pw, ph   float64 // the page size chosen for the call
}

func (cl *callLayout) anchorMsg(i int) string   { return cl.id + ".m" + strconv.Itoa(i+1) }
func (cl *callLayout) anchorArrow(i int) string { return cl.id + ".a" + strconv.Itoa(i+1) }

// Start is the anchor of a call's first page.
func (cl *callLayout) anchorStart() string { return cl.id + ".start" }

// columns finds the hosts and picks the page: portrait A4 when the hosts
// fit at minCol, else landscape A4, A3, ... A0, else a landscape page as
// wide as needed.
func (cl *callLayout) columns() {
	cl.idx = map[netip.AddrPort]int{}
	add := func(ap netip.AddrPort) {
		if !ap.IsValid() {
			cl.unknown = true
			return
		}
		if _, ok := cl.idx[ap]; !ok {
			cl.idx[ap] = len(cl.hosts)
			cl.hosts = append(cl.hosts, host{ap: ap, name: cl.cov.label(cl.o.Hosts.Name(ap))})
		}
	}
	for i := range cl.c.Msgs {
		add(cl.c.Msgs[i].Src)
		add(cl.c.Msgs[i].Dst)
	}
	n := max(len(cl.hosts), 1)
	extra := leftW + 2*margin
	if cl.unknown {
		extra += edgeW
	}
	need := extra + float64(n)*minCol
	cl.pw, cl.ph = 0, 0
	for _, s := range pageSizes {
		if s.w >= need {
			cl.pw, cl.ph = s.w, s.h
			break
		}
		if s.h >= need {
			cl.pw, cl.ph = s.h, s.w
			break
		}
	}
	if cl.pw == 0 {
		cl.pw, cl.ph = need, pageSizes[len(pageSizes)-1].w
	}
	cl.cw = min(maxCol, (cl.pw-extra)/float64(n))
	for i := range cl.hosts {
		cl.hosts[i].x = margin + leftW + cl.cw*(float64(i)+0.5)
	}
	cl.unknownX = margin + leftW + cl.cw*float64(n) + edgeW/2
}

// x is the ladder position of an address (the edge marker if unknown).
func (cl *callLayout) x(ap netip.AddrPort) (float64, bool) {
	if !ap.IsValid() {
		return cl.unknownX, false
	}
	return cl.hosts[cl.idx[ap]].x, true
}

func (cl *callLayout) tz() *time.Location {
	if cl.o.Location != nil {
		return cl.o.Location
	}
	return time.UTC
}

// who is a party in words: "Display" <number-or-URI>.
func who(p call.Party) string {
	id := p.User
	if id == "" {
		id = p.URI
	}
	switch {
	case p.Display != "" && id != "":
		return strconv.Quote(p.Display) + " <" + id + ">"
	case p.Display != "":
		return strconv.Quote(p.Display)
	case id != "":
		return id
	}
	return "?"
}

func secs(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) + " s"
}

func (cl *callLayout) hostName(ap netip.AddrPort) string {
	if !ap.IsValid() {
		return "?"
	}
	s := ap.String()
	if n := cl.o.Hosts.Name(ap); n != "" {
		s += " (" + n + ")"
	}
	return s
}

// Title is the one-line title of a call (bookmark, index).
func title(c *call.Call) string {
	status := "no final response"
	if c.FinalStatus != 0 {
		status = strconv.Itoa(c.FinalStatus)
	}
	return fmt.Sprintf("Call %d: %s -> %s (%s)", c.Index, who(c.From), who(c.To), status)
}

// summary lays out the facts of the call as a two-column table.
func (cl *callLayout) summary() {
	c, t := cl.c, cl.t
	l := cl.layout
	l.anchor(cl.anchorStart(), l.y)
	l.bookmark(cl.cov.label(title(c)), cl.o.bookmarkLevel, l.y)
	l.text(margin, l.y+5, fBold, 13, black, l.fit(fBold, 13, cl.cov.label(fmt.Sprintf("%s %d — %s", t.Text("title"), c.Index, c.Method)), l.w-2*margin))
	l.y += 9
	var rows [][2]string
	row := func(k, v string) { rows = append(rows, [2]string{t.Text(k), v}) }
	row("summary.from", who(c.From))
	row("summary.to", who(c.To))
	if c.RequestURI != "" {
		row("summary.requesturi", c.RequestURI)
	}
	if c.PAI.URI != "" || c.PAI.User != "" {
		row("summary.pai", who(c.PAI))
	}
	if c.Diversion.URI != "" || c.Diversion.User != "" {
		row("summary.diversion", who(c.Diversion))
	}
	start := t.Text("summary.na")
	if !c.Start.IsZero() {
		start = c.Start.In(cl.tz()).Format("Monday 2 January 2006, 15:04:05.000 MST (-07:00)")
		if call.Dateless(c.Start) {
			start = c.Start.Format("15:04:05.000") + ", " + t.Text("summary.nodate")
		}
	}
	row("summary.start", start)
	row("summary.callids", strings.Join(c.CallIDs, "  "))
	dur := t.Text("summary.na")
	if !c.Start.IsZero() && !c.End.IsZero() {
		dur = secs(c.End.Sub(c.Start))
	}
	row("summary.duration", dur)
	opt := func(d time.Duration) string {
		if d < 0 {
			return t.Text("summary.na")
		}
		return secs(d)
	}
	row("summary.setup", opt(c.SetupTime))
	row("summary.pdd", opt(c.PostDialDelay))
	row("summary.talk", opt(c.TalkTime))
	status := t.Text("summary.nostatus")
	if c.FinalStatus != 0 {
		status = strconv.Itoa(c.FinalStatus)
		if c.FinalReason != "" {
			status += " " + c.FinalReason
		}
		if m := t.Status(c.FinalStatus); m != "" {
			status += " — " + m
		}
	}
	row("summary.status", status)
	row("summary.state", t.Text("state."+c.State.String()))
	if c.EndCause != call.EndNone {
		s := t.Text("end." + c.EndCause.String())
		if c.EndedBy.IsValid() {
			side := ""
			if c.EndCause == call.EndBye || c.EndCause == call.EndCancel {
				side = t.Text("end.callee")
				if c.EndedByFrom {
					side = t.Text("end.caller")
				}
				side += ", "
			}
			s += " (" + side + cl.hostName(c.EndedBy) + ")"
		}
		row("summary.ended", s)
	}
	if c.ReasonHdr != "" {
		row("summary.reason", c.ReasonHdr)
	}
	if c.Q850 != 0 {
		s := strconv.Itoa(c.Q850)
		if m := t.Q850(c.Q850); m != "" {
			s += " — " + m
		}
		row("summary.cause", s)
	}
	for _, m := range cl.media() {
		row("summary.media", m)
	}
	row("summary.messages", fmt.Sprintf("%d on the wire, %d retransmissions, %d with parse problems, %d legs",
		c.Messages, c.Retransmissions, c.Broken, len(c.Legs)))

	keyW := 30.0
	for _, r := range rows {
		lines := l.wrap(fRegular, textPt, cl.cov.label(r[1]), l.w-2*margin-keyW)
		if l.y+float64(len(lines))*textLineH > l.bottom() {
			l.newPage(cl.pw, cl.ph)
		}
		l.text(margin, l.y+3, fBold, textPt, black, l.fit(fBold, textPt, cl.cov.label(r[0]), keyW-2))
		for _, s := range lines {
			l.text(margin+keyW, l.y+3, fRegular, textPt, black, s)
			l.y += textLineH
		}
		l.y += 0.6
	}
	l.y += 3
}

// media lists the SDP each direction sent: the first offer and the first
// answer, with the negotiated codec when both are known.
func (cl *callLayout) media() []string {
	c := cl.c
	type dir struct{ src, dst netip.AddrPort }
	seen := map[dir]bool{}
	var out []string
	for i := range c.Msgs {
		m := &c.Msgs[i]
		if m.SDP == "" || m.Retransmission {
			continue
		}
		d := dir{m.Src, m.Dst}
		if seen[d] {
			continue
		}
		seen[d] = true
		kind := "offer"
		if !m.Request {
			kind = "answer"
		}
		out = append(out, fmt.Sprintf("%s -> %s, %s in %s: %s", m.Src, m.Dst, kind, m.Label(), m.SDP))
		if len(out) == 6 {
			break
		}
	}
	if len(out) == 0 {
		return []string{cl.t.Text("media.none")}
	}
	return out
}

// legend explains the colours of the legs and the markers.
func (cl *callLayout) legend() {
	l := cl.layout
	c := cl.c
	var lines []struct {
		col rgb
		s   string
	}
	if len(c.Legs) > 1 {
		for i, g := range c.Legs {
			s := fmt.Sprintf("L%d  %s -> %s  Call-ID %s", i+1, cl.hostName(g.A), cl.hostName(g.B), g.CallID)
			lines = append(lines, struct {
				col rgb
				s   string
			}{legColors[i%len(legColors)], s})
		}
	}
	notes := []string{cl.t.Text("ladder.link")}
	if c.Retransmissions > 0 {
		notes = append(notes, cl.t.Text("ladder.retrans"))
	}
	if cl.unknown {
		notes = append(notes, cl.t.Text("ladder.unknown"))
	}
	need := float64(len(lines)+len(notes)+1) * textLineH
	if l.y+need > l.bottom() {
		l.newPage(cl.pw, cl.ph)
	}
	if len(lines) > 0 {
		l.text(margin, l.y+3, fBold, textPt, black, cl.t.Text("ladder.legend"))
		l.y += textLineH
		for _, g := range lines {
			l.line(margin, l.y+2, margin+8, l.y+2, g.col, 0.6, false)
			l.text(margin+10, l.y+3, fRegular, textPt-0.5, g.col, l.fit(fRegular, textPt-0.5, cl.cov.label(g.s), l.w-2*margin-10))
			l.y += textLineH
		}
	}
	for _, n := range notes {
		l.text(margin, l.y+3, fRegular, textPt-1, gray, l.fit(fRegular, textPt-1, n, l.w-2*margin))
		l.y += textLineH - 0.5
	}
	l.y += 2
}

// header draws the host names and addresses at the top of a ladder page and
// returns where lifelines start.
func (cl *callLayout) header() float64 {
	l := cl.layout
	named := false
	for _, h := range cl.hosts {
		named = named || h.name != ""
	}
	y := l.y
	for _, h := range cl.hosts {
		if named && h.name != "" {
			s := l.fit(fBold, headPt, h.name, cl.cw-3)
			l.text(h.x-l.width(fBold, headPt, s)/2, y+3, fBold, headPt, black, s)
		}
		ay := y + 3
		if named {
			ay += 3.2
		}
		s := l.fitLeft(fRegular, addrPt, h.ap.String(), cl.cw-3)
		f := fRegular
		if !named {
			f = fBold
		}
		l.text(h.x-l.width(f, addrPt, s)/2, ay, f, addrPt, black, s)
	}
	if cl.unknown {
		l.text(cl.unknownX-l.width(fBold, headPt, "?")/2, y+3, fBold, headPt, gray, "?")
	}
	y += 4.5
	if named {
		y += 3.2
	}
	for _, h := range cl.hosts {
		l.line(h.x-3, y, h.x+3, y, black, 0.4, false)
	}
	return y
}

// labelText is the arrow label: method or status with the CSeq.
func labelText(m *call.Msg) (full, short string) {
	cseq := strconv.FormatUint(uint64(m.CSeq), 10)
	if m.Request {
		full = m.Method + " (" + cseq + ")"
		short = m.Method
	} else {
		full = m.Label() + " (" + cseq + " " + m.Method + ")"
		short = strconv.Itoa(m.StatusCode) + " (" + cseq + ")"
	}
	if m.Problems > 0 {
		full, short = "! "+full, "! "+short
	}
	if m.Retransmission {
		full += " [retrans]"
		short += " [R]"
	}
	return full, short
}

// ladder lays out the arrows, over as many pages as needed, with the host
// header on each.
func (cl *callLayout) ladder() {
	l := cl.layout
	c := cl.c
	if len(c.Msgs) == 0 {
		l.text(margin, l.y+3, fRegular, textPt, gray, "(no messages kept for this call)")
		l.y += textLineH
		return
	}
	l.bookmark(cl.t.Text("ladder.title"), cl.o.bookmarkLevel+1, l.y)
	if l.y+30 > l.bottom() {
		l.newPage(cl.pw, cl.ph)
	}
	top := cl.header()
	l.y = top + 1
	closePage := func() {
		for _, h := range cl.hosts {
			l.line(h.x, top, h.x, l.y, lightGray, 0.25, false)
		}
	}
	for i := range c.Msgs {
		m := &c.Msgs[i]
		full, short := labelText(m)
		full, short = cl.cov.label(full), cl.cov.label(short)
		xa, _ := cl.x(m.Src)
		xb, _ := cl.x(m.Dst)
		self := m.Src == m.Dst && m.Src.IsValid()
		lo, hi := min(xa, xb), max(xa, xb)
		span := hi - lo - 4
		if self {
			span = cl.cw - 10
		}
		var sdp []string
		if m.SDP != "" {
			sdp = l.wrap(fRegular, sdpPt, cl.cov.label("SDP: "+m.SDP), max(span, 10))
			if len(sdp) > 4 {
				sdp = append(sdp[:3], l.fit(fRegular, sdpPt, strings.Join(sdp[3:], " "), max(span, 10)))
			}
		}
		h := rowH + float64(len(sdp))*sdpLineH
		if self {
			h += 2
		}
		if l.y+h > l.bottom() {
			closePage()
			l.newPage(cl.pw, cl.ph)
			l.text(margin, l.y+2, fRegular, 6, gray, cl.cov.label(fmt.Sprintf("%s — Call %d %s", cl.t.Text("ladder.continued"), c.Index, c.CallIDs[0])))
			l.y += 4
			top = cl.header()
			l.y = top + 1
		}
		col := legColors[m.Leg%len(legColors)]
		y := l.y
		// Margin: time, delta.
		if !m.Time.IsZero() {
			l.text(margin, y+3, fRegular, 6.5, black, call.In(m.Time, cl.tz()).Format("15:04:05.000"))
			d := time.Duration(0)
			if i > 0 && !c.Msgs[i-1].Time.IsZero() {
				// the difference of the times as shown, to the millisecond
				d = m.Time.Truncate(time.Millisecond).Sub(c.Msgs[i-1].Time.Truncate(time.Millisecond))
			}
			ds := "+" + strconv.FormatFloat(d.Seconds(), 'f', 3, 64) + "s"
			if len(c.Legs) > 1 {
				ds += "  L" + strconv.Itoa(m.Leg+1)
			}
			l.text(margin, y+5.6, fRegular, 5.5, gray, ds)
		}
		l.anchor(cl.anchorArrow(i), y)
		ay := y + 4.4
		if self {
			x := xa
			l.line(x, ay, x+6, ay, col, 0.35, m.Retransmission)
			l.line(x+6, ay, x+6, ay+2.5, col, 0.35, m.Retransmission)
			l.line(x+6, ay+2.5, x+1.5, ay+2.5, col, 0.35, m.Retransmission)
			l.poly(col, x, ay+2.5, x+1.6, ay+1.9, x+1.6, ay+3.1)
			s := l.fit(fRegular, labelPt, full, span)
			if s != full {
				s = l.fit(fRegular, labelPt, short, span)
			}
			l.text(x+7.5, ay+1.2, fRegular, labelPt, col, s)
			l.link(x, y, cl.cw/2, h-1, cl.anchorMsg(i))
			for k, s := range sdp {
				l.text(x+7.5, ay+3.8+float64(k+1)*sdpLineH, fRegular, sdpPt, gray, s)
			}
		} else {
			l.line(xa, ay, xb, ay, col, 0.35, m.Retransmission)
			dir := 1.0
			if xb < xa {
				dir = -1
			}
			l.poly(col, xb, ay, xb-dir*1.8, ay-0.65, xb-dir*1.8, ay+0.65)
			if !m.Dst.IsValid() || !m.Src.IsValid() {
				ux := cl.unknownX
				l.add(op{kind: opCircle, x: ux, y: ay, w: 1.6, color: gray})
				l.text(ux-0.9, ay+0.9, fBold, 6, rgb{255, 255, 255}, "?")
			}
			s := full
			if l.width(fRegular, labelPt, s) > span {
				s = l.fit(fRegular, labelPt, short, span)
			}
			l.text((lo+hi)/2-l.width(fRegular, labelPt, s)/2, ay-1, fRegular, labelPt, col, s)
			l.link(lo, y+0.5, hi-lo, 5, cl.anchorMsg(i))
			for k, s := range sdp {
				l.text(lo+2, ay+float64(k+1)*sdpLineH+0.3, fRegular, sdpPt, gray, s)
			}
		}
		l.y += h
	}
	closePage()
	for _, h := range cl.hosts {
		l.line(h.x-3, l.y, h.x+3, l.y, black, 0.4, false)
	}
	l.y += 4
}

// appendix lays out every message verbatim, each headed by where it was
// seen and linked back to its arrow.
func (cl *callLayout) appendix() {
	c := cl.c
	if len(c.Msgs) == 0 {
		return
	}
	l := cl.layout
	l.newPage(cl.pw, cl.ph)
	l.bookmark(cl.t.Text("appendix.title"), cl.o.bookmarkLevel+1, l.y)
	l.text(margin, l.y+4, fBold, 10, black, cl.cov.label(fmt.Sprintf("%s — Call %d", cl.t.Text("appendix.title"), c.Index)))
	l.y += 7
	cellW := l.width(fMono, monoPt, "M")
	gutter := 4.0
	perLine := max(int((l.w-2*margin-gutter)/cellW), 20)
	back := cl.t.Text("appendix.back")
	for i := range c.Msgs {
		m := &c.Msgs[i]
		var lines []string
		if m.Full != nil {
			raw := strings.ReplaceAll(string(m.Full.SIP.Raw), "\r\n", "\n")
			raw = strings.TrimSuffix(raw, "\n")
			for _, ln := range strings.Split(raw, "\n") {
				r := cl.cov.verbatim(ln)
				if len(r) == 0 {
					lines = append(lines, "")
					continue
				}
				for len(r) > perLine {
					lines = append(lines, string(r[:perLine]))
					r = r[perLine:]
					lines = append(lines, "\x00") // continuation mark for the next line
				}
				lines = append(lines, string(r))
			}
		}
		if l.y+3*textLineH+2*monoLineH > l.bottom() {
			l.newPage(cl.pw, cl.ph)
		}
		ts := "-"
		if !m.Time.IsZero() {
			ts = m.Time.In(cl.tz()).Format("2006-01-02 15:04:05.000000 MST")
			if call.Dateless(m.Time) {
				ts = m.Time.Format("15:04:05.000000")
			}
		}
		src, dst := "?", "?"
		if m.Src.IsValid() {
			src = m.Src.String()
		}
		if m.Dst.IsValid() {
			dst = m.Dst.String()
		}
		head := fmt.Sprintf("#%d  %s", i+1, m.Label())
		if m.Retransmission {
			head += " (retransmission)"
		}
		l.anchor(cl.anchorMsg(i), l.y)
		bw := l.width(fRegular, textPt-1, back)
		hs := l.fit(fBold, textPt, cl.cov.label(head), l.w-2*margin-bw-4)
		l.text(margin, l.y+3, fBold, textPt, legColors[m.Leg%len(legColors)], hs)
		l.text(l.w-margin-bw, l.y+3, fRegular, textPt-1, linkBlue, back)
		l.link(margin, l.y, l.w-2*margin, textLineH, cl.anchorArrow(i))
		l.y += textLineH
		where := fmt.Sprintf("%s   frame %d   %s   %s -> %s   %s", ts, m.Frame, m.File, src, dst, m.Transport)
		for _, s := range l.wrap(fRegular, textPt-1, cl.cov.label(where), l.w-2*margin) {
			l.text(margin, l.y+3, fRegular, textPt-1, gray, s)
			l.y += textLineH - 0.4
		}
		l.y += 1
		if m.Full == nil {
			l.text(margin+gutter, l.y+2.5, fRegular, textPt-1, gray, "(full text not kept)")
			l.y += monoLineH
		}
		cont := false
		for _, s := range lines {
			if s == "\x00" {
				cont = true
				continue
			}
			if l.y+monoLineH > l.bottom() {
				l.newPage(cl.pw, cl.ph)
			}
			if cont {
				l.text(margin, l.y+2.3, fMono, monoPt, lightGray, "»")
				cont = false
			}
			l.text(margin+gutter, l.y+2.3, fMono, monoPt, black, s)
			l.y += monoLineH
		}
		l.y += 3
	}
}
