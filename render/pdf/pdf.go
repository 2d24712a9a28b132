// Package pdf renders calls as PDF reports for tickets: a summary of the
// call in plain words, the ladder with one column per host (pages continue
// with the host header repeated; wide calls go landscape, then to larger
// pages), and an appendix with every message verbatim, each arrow linked to
// its message and back.
//
// Output is deterministic: the same calls and options give the same bytes
// (fixed dates, fonts passed as fresh copies, sorted catalog). The wording
// comes from the templates package.
package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/sipflow/sipflow/convert/call"
	"github.com/sipflow/sipflow/convert/media"
	"github.com/sipflow/sipflow/parse/hosts"
	"github.com/sipflow/sipflow/templates"
)

// ErrRender is wrapped by errors from the PDF library.
var ErrRender = errors.New("pdf: render")

// Options tune a report.
type Options struct {
	Location *time.Location   // time zone of the times shown; nil means UTC
	Hosts    *hosts.Map       // names for addresses; nil for none
	Texts    *templates.Texts // wording; nil means templates.Default()
	// Date is written as the PDF's creation and modification date. Zero
	// means the start of the first call (so output depends on input only).
	Date time.Time

	bookmarkLevel int
}

// Document is a PDF being built: Add calls one after the other (with an
// Index first for a multi-call report), then Write. A Document holds the
// pages drawn so far, not the calls: a call may be dropped after Add.
type Document struct {
	o     Options
	pdf   *fpdf.Fpdf
	cov   *coverage
	links map[string]int // anchor name -> fpdf link
	set   map[string]bool
	calls int
	date  time.Time
	first bool
}

// NewDocument starts an empty document.
func NewDocument(o Options) (*Document, error) {
	if o.Texts == nil {
		o.Texts = templates.Default()
	}
	cov, err := newCoverage()
	if err != nil {
		return nil, err
	}
	p := fpdf.NewCustom(&fpdf.InitType{OrientationStr: "P", UnitStr: "mm", Size: fpdf.SizeType{Wd: 210, Ht: 297}})
	for f := fRegular; f <= fMono; f++ {
		// fpdf modifies the slice it is given: always a fresh copy.
		p.AddUTF8FontFromBytes(fontFamily[f][0], fontFamily[f][1], bytes.Clone(fontBytes(f)))
	}
	p.SetAutoPageBreak(false, 0)
	p.SetMargins(0, 0, 0)
	p.SetCatalogSort(true)
	p.SetProducer("sipflow", true)
	p.SetCreator("sipflow", true)
	p.SetTitle(o.Texts.Text("title"), true)
	p.SetFont("go", "", 8)
	if p.Err() {
		return nil, fmt.Errorf("%w: %v", ErrRender, p.Error())
	}
	return &Document{o: o, pdf: p, cov: cov, links: map[string]int{}, set: map[string]bool{}, first: true}, nil
}

// width measures with the document's fonts.
func (d *Document) width(f fontID, size float64, s string) float64 {
	d.pdf.SetFont(fontFamily[f][0], fontFamily[f][1], size)
	return d.pdf.GetStringWidth(s)
}

// layoutCall computes the ops of one call; cm is its media, nil if not
// analysed.
func (d *Document) layoutCall(c *call.Call, cm *media.CallMedia) []op {
	o := d.o
	cl := &callLayout{layout: &layout{m: d, cov: d.cov}, c: c, cm: cm, o: &o, t: o.Texts, id: "c" + strconv.Itoa(d.calls)}
	cl.columns()
	cl.newPage(cl.pw, cl.ph)
	cl.summary()
	cl.legend()
	cl.ladder()
	cl.mediaSection()
	cl.appendix()
	return cl.ops
}

// Add lays out and draws one call. Calls are numbered in the document in
// the order added; Index refers to them by that order (1-based). Its media
// section says media was not analysed: AddMedia gives the streams.
func (d *Document) Add(c *call.Call) error { return d.AddMedia(c, nil) }

// AddMedia is Add with the call's measured media (media.Result.ForCall of
// its Call-IDs): the "Media quality" section shows one row per stream
// (direction, codec, packets, loss, max delta, max/mean jitter, MOS) with
// its problems in words, or says no media was seen. A nil cm means media
// was not analysed.
func (d *Document) AddMedia(c *call.Call, cm *media.CallMedia) error {
	if c == nil {
		return fmt.Errorf("%w: nil call", ErrRender)
	}
	if d.first {
		d.setDate(c.Start)
	}
	d.calls++
	ops := d.layoutCall(c, cm)
	d.draw(ops)
	if d.pdf.Err() {
		return fmt.Errorf("%w: call %d: %v", ErrRender, c.Index, d.pdf.Error())
	}
	return nil
}

func (d *Document) setDate(t time.Time) {
	d.first = false
	date := d.o.Date
	if date.IsZero() {
		date = t
	}
	if date.IsZero() {
		date = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	d.date = date.UTC().Truncate(time.Second)
	d.pdf.SetCreationDate(d.date)
	d.pdf.SetModificationDate(d.date)
}

// IndexEntry is one line of the index page of a multi-call report.
type IndexEntry struct {
	Call *call.Call // a summary is enough: Msgs are not used
}

// Index draws the index pages: one line per call, each a link to the
// call's report. The calls must then be added in the same order.
func (d *Document) Index(calls []*call.Call) error {
	if d.first && len(calls) > 0 {
		d.setDate(calls[0].Start)
	}
	l := &layout{m: d, cov: d.cov}
	t := d.o.Texts
	l.newPage(210, 297)
	l.bookmark(t.Text("index.title"), 0, l.y)
	l.text(margin, l.y+5, fBold, 13, black, t.Text("index.title"))
	l.y += 9
	l.text(margin, l.y+3, fRegular, textPt, gray, t.Text("index.intro", "n", strconv.Itoa(len(calls))))
	l.y += textLineH + 2
	loc := d.o.Location
	if loc == nil {
		loc = time.UTC
	}
	for i, c := range calls {
		if l.y+textLineH > l.bottom() {
			l.newPage(210, 297)
		}
		when := "-"
		if !c.Start.IsZero() {
			when = c.Start.In(loc).Format("2006-01-02 15:04:05 MST")
			if call.Dateless(c.Start) {
				when = c.Start.Format("15:04:05")
			}
		}
		status := "-"
		if c.FinalStatus != 0 {
			status = strconv.Itoa(c.FinalStatus)
		}
		x := margin
		cell := func(w float64, f fontID, s string) {
			l.text(x, l.y+3, f, 7, linkBlue, l.fit(f, 7, d.cov.label(s), w-2))
			x += w
		}
		cell(12, fBold, strconv.Itoa(c.Index))
		cell(36, fRegular, when)
		cell(52, fRegular, who(c.From))
		cell(52, fRegular, who(c.To))
		cell(12, fRegular, status)
		cell(22, fRegular, c.State.String())
		l.link(margin, l.y, 210-2*margin, textLineH, "c"+strconv.Itoa(i+1)+".start")
		l.y += textLineH
	}
	d.draw(l.ops)
	if d.pdf.Err() {
		return fmt.Errorf("%w: index: %v", ErrRender, d.pdf.Error())
	}
	return nil
}

func (d *Document) link(name string) int {
	id, ok := d.links[name]
	if !ok {
		id = d.pdf.AddLink()
		d.links[name] = id
	}
	return id
}

// draw replays ops on the PDF.
func (d *Document) draw(ops []op) {
	p := d.pdf
	var cur rgb
	for _, o := range ops {
		switch o.kind {
		case opPage:
			p.AddPageFormat(o.orient, fpdf.SizeType{Wd: min(o.w, o.h), Ht: max(o.w, o.h)})
		case opFooter:
			p.SetFont("go", "", o.size)
			p.SetTextColor(int(o.color.r), int(o.color.g), int(o.color.b))
			s := d.o.Texts.Text("footer", "page", strconv.Itoa(p.PageNo()))
			p.Text(o.x-p.GetStringWidth(s)/2, o.y, s)
		case opText:
			p.SetFont(fontFamily[o.font][0], fontFamily[o.font][1], o.size)
			p.SetTextColor(int(o.color.r), int(o.color.g), int(o.color.b))
			p.Text(o.x, o.y, o.text)
		case opLine:
			p.SetDrawColor(int(o.color.r), int(o.color.g), int(o.color.b))
			p.SetLineWidth(o.lineW)
			if o.dash {
				p.SetDashPattern([]float64{1, 0.8}, 0)
			}
			p.Line(o.x, o.y, o.x2, o.y2)
			if o.dash {
				p.SetDashPattern(nil, 0)
			}
		case opPoly:
			if o.color != cur {
				cur = o.color
			}
			p.SetFillColor(int(o.color.r), int(o.color.g), int(o.color.b))
			pts := make([]fpdf.PointType, 0, len(o.pts)/2)
			for i := 0; i+1 < len(o.pts); i += 2 {
				pts = append(pts, fpdf.PointType{X: o.pts[i], Y: o.pts[i+1]})
			}
			p.Polygon(pts, "F")
		case opCircle:
			p.SetFillColor(int(o.color.r), int(o.color.g), int(o.color.b))
			p.Circle(o.x, o.y, o.w, "F")
		case opLink:
			p.Link(o.x, o.y, o.w, o.h, d.link(o.name))
		case opAnchor:
			p.SetLink(d.link(o.name), o.y, -1)
			d.set[o.name] = true
		case opBookmark:
			p.SetFont("go", "", 8) // UTF-16 titles need a UTF-8 font set
			p.Bookmark(o.text, o.level, o.y)
		}
	}
}

// Write finishes the document and writes it to w. Links whose target was
// never added point at the first page.
func (d *Document) Write(w io.Writer) error {
	if d.pdf.PageCount() == 0 {
		d.draw([]op{{kind: opPage, w: 210, h: 297, orient: "P"}})
	}
	if d.first {
		d.setDate(time.Time{})
	}
	names := make([]string, 0, len(d.links))
	for n := range d.links {
		if !d.set[n] {
			names = append(names, n)
		}
	}
	for _, n := range names {
		d.pdf.SetLink(d.links[n], 0, 1)
	}
	if err := d.pdf.Output(w); err != nil {
		return fmt.Errorf("%w: %v", ErrRender, err)
	}
	return nil
}

// Write renders one call as a PDF on w.
func Write(w io.Writer, c *call.Call, o Options) error { return WriteMedia(w, c, nil, o) }

// WriteMedia renders one call and its media (see AddMedia) as a PDF on w.
func WriteMedia(w io.Writer, c *call.Call, cm *media.CallMedia, o Options) error {
	d, err := NewDocument(o)
	if err != nil {
		return err
	}
	if err := d.AddMedia(c, cm); err != nil {
		return err
	}
	return d.Write(w)
}

// Layout returns the text dump of a call's layout: every page, text, line,
// arrowhead, link and anchor with its position. Tests compare it with a
// golden file; it needs no PDF tool.
func Layout(w io.Writer, c *call.Call, o Options) error { return LayoutMedia(w, c, nil, o) }

// LayoutMedia is Layout with the call's media (see AddMedia).
func LayoutMedia(w io.Writer, c *call.Call, cm *media.CallMedia, o Options) error {
	d, err := NewDocument(o)
	if err != nil {
		return err
	}
	d.calls++
	return dump(w, d.layoutCall(c, cm))
}

// FileName is a safe file name for a call's report: date, time, from, to
// and the Call-ID, reduced to [A-Za-z0-9._-], at most 150 bytes, never
// starting with a dot, with the .pdf extension.
func FileName(c *call.Call, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	when := "nodate"
	if !c.Start.IsZero() {
		when = c.Start.In(loc).Format("20060102-150405")
		if call.Dateless(c.Start) {
			when = "nodate-" + c.Start.Format("150405")
		}
	}
	party := func(p call.Party, n int) string {
		s := p.User
		if s == "" {
			s = p.Display
		}
		return safe(s, n)
	}
	cid := ""
	if len(c.CallIDs) > 0 {
		cid = safe(c.CallIDs[0], 40)
	}
	parts := []string{when, party(c.From, 32), "to", party(c.To, 32), cid}
	var keep []string
	for _, p := range parts {
		if p != "" {
			keep = append(keep, p)
		}
	}
	name := strings.Join(keep, "_")
	name = strings.TrimLeft(name, ".-")
	if name == "" {
		name = "call"
	}
	return name + ".pdf"
}

// safe keeps [A-Za-z0-9.-] of s (other bytes become '-', runs folded), at
// most n bytes, with no leading or trailing dots or dashes.
func safe(s string, n int) string {
	var b strings.Builder
	dash := false
	for i := 0; i < len(s) && b.Len() < n; i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '+' {
			if c == '+' {
				c = '-'
			}
			if c == '.' && b.Len() > 0 && strings.HasSuffix(b.String(), ".") {
				continue // no ".."
			}
			b.WriteByte(c)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.Trim(b.String(), ".-")
}
