package pdf

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sipflow/sipflow/convert/media"
)

// problemRed colours the problems of the media section.
var problemRed = rgb{175, 25, 40}

// Media table geometry, mm and points.
const (
	mediaPt     = 7.0
	mediaNotePt = 6.5
	mediaRowH   = 3.6
	mediaIndent = 4.0
)

// mediaCol is one column of the media table.
type mediaCol struct {
	key   string // template key of the heading
	w     float64
	right bool
}

// mediaCols are the columns after the direction, which takes the rest.
var mediaCols = []mediaCol{
	{"media.col.codec", 24, false},
	{"media.col.packets", 14, true},
	{"media.col.lost", 22, true},
	{"media.col.maxdelta", 18, true},
	{"media.col.jitter", 27, true},
	{"media.col.mos", 12, true},
}

// mediaSection says what is known about the media: that it was not
// analysed, that none was seen, or one row per stream with its problems in
// words under it, then the problems of the whole call.
func (cl *callLayout) mediaSection() {
	l := cl.layout
	t := cl.t
	if l.y+16 > l.bottom() {
		l.newPage(cl.pw, cl.ph)
	}
	l.bookmark(t.Text("media.title"), cl.o.bookmarkLevel+1, l.y)
	l.text(margin, l.y+4, fBold, 10, black, t.Text("media.title"))
	l.y += 6
	para := func(s string, f fontID, size float64, c rgb, indent float64) {
		for _, line := range l.wrap(f, size, cl.cov.label(s), l.w-2*margin-indent) {
			if l.y+mediaRowH > l.bottom() {
				l.newPage(cl.pw, cl.ph)
			}
			l.text(margin+indent, l.y+3, f, size, c, line)
			l.y += mediaRowH
		}
	}
	cm := cl.cm
	switch {
	case cm == nil:
		para(t.Text("media.none.analysed"), fRegular, textPt, black, 0)
	case len(cm.Streams) == 0 && cm.LogOnly:
		para(t.Text("media.none.log"), fRegular, textPt, black, 0)
	case len(cm.Streams) == 0:
		para(t.Text("media.none.seen"), fRegular, textPt, black, 0)
		if cm.Fax {
			para(t.Text("media.fax"), fRegular, textPt, black, 0)
		}
	default:
		para(t.Text("media.intro"), fRegular, mediaNotePt, gray, 0)
		l.y += 1
		cl.mediaTable()
	}
	if cm != nil {
		var calls []media.Problem
		for _, p := range cm.Problems {
			if p.Kind == media.OneWay || p.Kind == media.NoMedia || p.Kind == media.PrivateSDP {
				calls = append(calls, p)
			}
		}
		if len(calls) > 0 {
			l.y += 1
			para(t.Text("media.call"), fBold, mediaPt, black, 0)
			for _, p := range calls {
				para(cl.problemWords(p), fRegular, mediaNotePt, problemRed, mediaIndent)
			}
		}
	}
	l.y += 3
}

// problemWords is a problem in plain words: what it is, then its figures.
func (cl *callLayout) problemWords(p media.Problem) string {
	what := cl.t.Text("problem." + p.Kind.String())
	if p.Detail == "" {
		return what
	}
	return what + ": " + p.Detail
}

// mediaTable lays out one row per stream, each followed by its problems
// and DTMF digits; the heading is repeated on a new page.
func (cl *callLayout) mediaTable() {
	l := cl.layout
	t := cl.t
	rest := 0.0
	for _, c := range mediaCols {
		rest += c.w
	}
	dirW := max(l.w-2*margin-rest, 40)
	cell := func(x, w float64, f fontID, c rgb, s string, right bool) {
		s = l.fit(f, mediaPt, cl.cov.label(s), w-1.5)
		if right {
			x += w - 1.5 - l.width(f, mediaPt, s)
		}
		l.text(x, l.y+3, f, mediaPt, c, s)
	}
	heading := func() {
		x := margin
		cell(x, dirW, fBold, gray, t.Text("media.col.direction"), false)
		x += dirW
		for _, c := range mediaCols {
			cell(x, c.w, fBold, gray, t.Text(c.key), c.right)
			x += c.w
		}
		l.y += mediaRowH
		l.line(margin, l.y+0.3, margin+dirW+rest, l.y+0.3, lightGray, 0.25, false)
		l.y += 0.8
	}
	heading()
	for _, s := range cl.cm.Streams {
		var notes []string
		for _, p := range s.Problems {
			notes = append(notes, cl.problemWords(p))
		}
		var digits []string
		for _, e := range s.Events {
			digits = append(digits, e.Digit)
		}
		if len(digits) > 0 {
			notes = append(notes, t.Text("media.dtmf", "digits", strings.Join(digits, " ")))
		}
		var noteLines [][]string
		n := 0
		for _, s := range notes {
			ls := l.wrap(fRegular, mediaNotePt, cl.cov.label(s), l.w-2*margin-mediaIndent)
			noteLines = append(noteLines, ls)
			n += len(ls)
		}
		if l.y+mediaRowH*float64(1+min(n, 2)) > l.bottom() {
			l.newPage(cl.pw, cl.ph)
			heading()
		}
		x := margin
		cell(x, dirW, fRegular, black, s.Src.String()+" -> "+s.Dst.String(), false)
		x += dirW
		for i, v := range streamCells(s) {
			cell(x, mediaCols[i].w, fRegular, black, v, mediaCols[i].right)
			x += mediaCols[i].w
		}
		l.y += mediaRowH
		for k, ls := range noteLines {
			c := problemRed
			if k >= len(s.Problems) {
				c = gray // DTMF
			}
			for _, line := range ls {
				if l.y+mediaRowH > l.bottom() {
					l.newPage(cl.pw, cl.ph)
					heading()
				}
				l.text(margin+mediaIndent, l.y+3, fRegular, mediaNotePt, c, line)
				l.y += mediaRowH
			}
		}
		l.y += 0.6
	}
}

// streamCells are the figures of a stream in the order of mediaCols.
func streamCells(s *media.Stream) []string {
	codec := s.Codec
	if codec == "" {
		codec = strconv.Itoa(s.PayloadType)
	}
	if s.SRTP {
		codec += "/SRTP"
	}
	if s.Kind == media.KindFax {
		return []string{"T.38 fax", strconv.Itoa(s.Packets), "–", "–", "–", "–"}
	}
	mos := "–"
	if s.MOS >= 0 {
		mos = strconv.FormatFloat(s.MOS, 'f', 2, 64)
	}
	return []string{
		codec,
		strconv.Itoa(s.Packets),
		fmt.Sprintf("%d (%.1f%%)", s.Lost, s.LostPct),
		fmt.Sprintf("%.1f ms", s.MaxDelta),
		fmt.Sprintf("%.2f / %.2f ms", s.MaxJitter, s.MeanJitter),
		mos,
	}
}
