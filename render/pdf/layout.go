package pdf

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The renderer works in two steps: layout computes every item of every page
// (positions in millimetres, texts already fitted) into a list of ops, and
// draw replays the ops on fpdf. Tests compare a text dump of the ops (a
// golden that needs no PDF tool) and look at the drawn PDF.

type opKind uint8

const (
	opPage     opKind = iota // new page: w, h, orient
	opText                   // text at x, y (baseline)
	opLine                   // line from x, y to x2, y2
	opPoly                   // filled polygon pts
	opCircle                 // circle at x, y radius w
	opLink                   // link area x, y, w, h to anchor name
	opAnchor                 // anchor name at y of the current page
	opBookmark               // bookmark text, level, at y
	opFooter                 // footer text with {page} at y
)

type rgb struct{ r, g, b uint8 }

var (
	black     = rgb{0, 0, 0}
	gray      = rgb{110, 110, 110}
	lightGray = rgb{170, 170, 170}
	linkBlue  = rgb{20, 70, 170}
)

// legColors colour the legs of a multi-leg call, in leg order.
var legColors = []rgb{
	{25, 75, 165}, {200, 80, 0}, {0, 125, 60}, {140, 40, 150},
	{175, 25, 40}, {0, 120, 130}, {120, 90, 20}, {80, 80, 80},
}

// op is one item of a page.
type op struct {
	kind       opKind
	x, y       float64
	x2, y2     float64 // line end
	w, h       float64 // page size, link size, circle radius
	orient     string  // page orientation "P" or "L"
	font       fontID
	size       float64
	text       string
	name       string // link target or anchor name
	level      int
	color      rgb
	dash       bool
	fill       bool
	lineW      float64
	pts        []float64
	pageInCall int
}

// measurer measures text in mm.
type measurer interface {
	width(f fontID, size float64, s string) float64
}

// layout collects the ops of one call (or the index).
type layout struct {
	ops  []op
	m    measurer
	cov  *coverage
	page int     // pages started, 1-based
	w, h float64 // current page size
	y    float64 // next free y on the page
}

const (
	margin    = 12.0
	footerY   = 8.0 // from the bottom
	bottomGap = 14.0
)

func (l *layout) newPage(w, h float64) {
	l.page++
	orient := "P"
	if w > h {
		orient = "L"
	}
	l.w, l.h = w, h
	l.ops = append(l.ops, op{kind: opPage, w: w, h: h, orient: orient, pageInCall: l.page})
	l.ops = append(l.ops, op{kind: opFooter, y: h - footerY, x: w / 2, font: fRegular, size: 6.5, color: gray, pageInCall: l.page})
	l.y = margin
}

// bottom is the lowest y content may reach.
func (l *layout) bottom() float64 { return l.h - bottomGap }

func (l *layout) add(o op) {
	o.pageInCall = l.page
	l.ops = append(l.ops, o)
}

func (l *layout) text(x, y float64, f fontID, size float64, c rgb, s string) {
	if s == "" {
		return
	}
	l.add(op{kind: opText, x: x, y: y, font: f, size: size, color: c, text: s})
}

func (l *layout) line(x, y, x2, y2 float64, c rgb, w float64, dash bool) {
	l.add(op{kind: opLine, x: x, y: y, x2: x2, y2: y2, color: c, lineW: w, dash: dash})
}

func (l *layout) poly(c rgb, pts ...float64) {
	l.add(op{kind: opPoly, pts: pts, color: c, fill: true})
}

func (l *layout) link(x, y, w, h float64, target string) {
	l.add(op{kind: opLink, x: x, y: y, w: w, h: h, name: target})
}

func (l *layout) anchor(name string, y float64) {
	l.add(op{kind: opAnchor, y: y, name: name})
}

func (l *layout) bookmark(title string, level int, y float64) {
	l.add(op{kind: opBookmark, text: title, level: level, y: y})
}

func (l *layout) width(f fontID, size float64, s string) float64 { return l.m.width(f, size, s) }

// fit cuts s at the end to fit w mm, with an ellipsis.
func (l *layout) fit(f fontID, size float64, s string, w float64) string {
	if l.width(f, size, s) <= w {
		return s
	}
	r := []rune(s)
	lo, hi := 0, len(r)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if l.width(f, size, string(r[:mid])+"…") <= w {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if lo == 0 {
		return ""
	}
	return string(r[:lo]) + "…"
}

// fitLeft cuts s at the start (addresses: the end tells hosts apart).
func (l *layout) fitLeft(f fontID, size float64, s string, w float64) string {
	if l.width(f, size, s) <= w {
		return s
	}
	r := []rune(s)
	lo, hi := 0, len(r)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if l.width(f, size, "…"+string(r[len(r)-mid:])) <= w {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if lo == 0 {
		return ""
	}
	return "…" + string(r[len(r)-lo:])
}

// wrap breaks s into lines of at most w mm, at blanks where it can and
// inside a word where it must; no character is lost.
func (l *layout) wrap(f fontID, size float64, s string, w float64) []string {
	var lines []string
	cur := ""
	for _, word := range strings.Fields(s) {
		cand := word
		if cur != "" {
			cand = cur + " " + word
		}
		if l.width(f, size, cand) <= w {
			cur = cand
			continue
		}
		if cur != "" {
			lines = append(lines, cur)
			cur = ""
		}
		// The word alone: break it while too long.
		r := []rune(word)
		for len(r) > 0 && l.width(f, size, string(r)) > w {
			n := 1
			for n < len(r) && l.width(f, size, string(r[:n+1])) <= w {
				n++
			}
			lines = append(lines, string(r[:n]))
			r = r[n:]
		}
		cur = string(r)
	}
	if cur != "" || len(lines) == 0 {
		lines = append(lines, cur)
	}
	return lines
}

// dump writes the ops as text, one per line, for golden tests.
func dump(w io.Writer, ops []op) error {
	var b strings.Builder
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	for _, o := range ops {
		switch o.kind {
		case opPage:
			fmt.Fprintf(&b, "page %d %s %sx%s\n", o.pageInCall, o.orient, f(o.w), f(o.h))
		case opText:
			fmt.Fprintf(&b, "  text %s,%s %s%s %q\n", f(o.x), f(o.y), o.font, f(o.size), o.text)
		case opLine:
			d := ""
			if o.dash {
				d = " dashed"
			}
			fmt.Fprintf(&b, "  line %s,%s-%s,%s%s\n", f(o.x), f(o.y), f(o.x2), f(o.y2), d)
		case opPoly:
			fmt.Fprintf(&b, "  head %s,%s\n", f(o.pts[0]), f(o.pts[1]))
		case opCircle:
			fmt.Fprintf(&b, "  marker %s,%s\n", f(o.x), f(o.y))
		case opLink:
			fmt.Fprintf(&b, "  link %s,%s %sx%s -> %s\n", f(o.x), f(o.y), f(o.w), f(o.h), o.name)
		case opAnchor:
			fmt.Fprintf(&b, "  anchor %s at %s\n", o.name, f(o.y))
		case opBookmark:
			fmt.Fprintf(&b, "  bookmark %d %q\n", o.level, o.text)
		case opFooter:
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
