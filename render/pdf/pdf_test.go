package pdf

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/convert/call"
	"github.com/sipflow/sipflow/parse/hosts"
)

// fixtures are the calls the golden files cover.
func fixtures(t testing.TB) map[string]*call.Call {
	t.Helper()
	out := map[string]*call.Call{}
	if cs := loadCalls(t, "basic-call.pcap"); len(cs) > 0 {
		out["basic"] = cs[0]
	}
	if cs := loadCalls(t, "proxy-call.pcap"); len(cs) > 0 {
		out["proxy"] = cs[0]
	}
	for _, c := range loadCalls(t, "failures.pcap") {
		if c.State == call.StateCancelled && out["cancel"] == nil {
			out["cancel"] = c
		}
		if c.FinalStatus == 486 && out["busy"] == nil {
			out["busy"] = c
		}
	}
	out["hosts8"] = synth{hops: 7}.build(t)
	out["hosts40"] = synth{hops: 39}.build(t)
	out["long"] = synth{hops: 1, extra: 90}.build(t)
	out["unknown"] = synth{hops: 2, unknown: true, from: "Örn Ивано́в 张三 \x01\xff"}.build(t)
	for _, k := range []string{"basic", "proxy", "cancel", "busy"} {
		if out[k] == nil {
			t.Fatalf("fixture %s not found", k)
		}
	}
	return out
}

func testHosts(t testing.TB) *hosts.Map {
	m, err := hosts.Parse(strings.NewReader("10.99.0.1 alice-phone\n10.99.0.3 kamailio proxy\n10.0.0.1 caller\n"), "test")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func testOptions(t testing.TB) Options {
	return Options{Hosts: testHosts(t), Location: time.FixedZone("CET", 3600)}
}

func TestLayoutGolden(t *testing.T) {
	fx := fixtures(t)
	for _, name := range []string{"basic", "proxy", "cancel", "hosts8", "unknown"} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Layout(&b, fx[name], testOptions(t)); err != nil {
				t.Fatal(err)
			}
			golden(t, "layout_"+name, b.String())
		})
	}
}

// box is the area a text op covers, in mm.
type box struct {
	page           int
	x0, y0, x1, y1 float64
	text           string
}

func textBoxes(d *Document, ops []op) []box {
	var out []box
	for _, o := range ops {
		if o.kind != opText {
			continue
		}
		w := d.width(o.font, o.size, o.text)
		h := o.size * 0.3528 // pt to mm
		out = append(out, box{o.pageInCall, o.x, o.y - 0.75*h, o.x + w, o.y + 0.2*h, o.text})
	}
	return out
}

// TestNoOverlap checks that no two texts of a page overlap and that every
// text stays on its page, for every fixture.
func TestNoOverlap(t *testing.T) {
	for name, c := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			d, err := NewDocument(testOptions(t))
			if err != nil {
				t.Fatal(err)
			}
			d.calls++
			ops := d.layoutCall(c, nil)
			sizes := map[int][2]float64{}
			for _, o := range ops {
				if o.kind == opPage {
					sizes[o.pageInCall] = [2]float64{o.w, o.h}
				}
			}
			bs := textBoxes(d, ops)
			for i, a := range bs {
				sz := sizes[a.page]
				if a.x0 < 0 || a.x1 > sz[0]+0.01 || a.y0 < 0 || a.y1 > sz[1] {
					t.Errorf("page %d: %q at %.1f,%.1f-%.1f,%.1f leaves the %.0fx%.0f page", a.page, a.text, a.x0, a.y0, a.x1, a.y1, sz[0], sz[1])
				}
				for _, b := range bs[i+1:] {
					if a.page == b.page && a.x0 < b.x1-0.05 && b.x0 < a.x1-0.05 && a.y0 < b.y1-0.05 && b.y0 < a.y1-0.05 {
						t.Errorf("page %d: %q and %q overlap", a.page, a.text, b.text)
					}
				}
			}
		})
	}
}

// TestLinks checks that every link of the layout has its anchor, that every
// message has an arrow link and a link back, and that the links of the PDF
// point at pages of the PDF.
func TestLinks(t *testing.T) {
	fx := fixtures(t)
	for _, name := range []string{"basic", "proxy", "long", "unknown"} {
		c := fx[name]
		t.Run(name, func(t *testing.T) {
			d, err := NewDocument(testOptions(t))
			if err != nil {
				t.Fatal(err)
			}
			d.calls++
			ops := d.layoutCall(c, nil)
			anchors := map[string]bool{}
			links := 0
			for _, o := range ops {
				if o.kind == opAnchor {
					anchors[o.name] = true
				}
			}
			for _, o := range ops {
				if o.kind == opLink {
					links++
					if !anchors[o.name] {
						t.Errorf("link to %s has no anchor", o.name)
					}
				}
			}
			if want := 2 * len(c.Msgs); links != want {
				t.Errorf("%d links, want %d (arrow and back for each of %d messages)", links, want, len(c.Msgs))
			}
			var b bytes.Buffer
			if err := Write(&b, c, testOptions(t)); err != nil {
				t.Fatal(err)
			}
			checkPDFLinks(t, b.Bytes(), links)
		})
	}
}

var (
	reDest = regexp.MustCompile(`/Subtype /Link [^>]*/Dest \[(\d+) 0 R`)
	reKids = regexp.MustCompile(`/Kids \[([^\]]*)\]`)
)

// checkPDFLinks reads the link annotations of a PDF (fpdf writes page
// objects uncompressed) and checks each goes to a page of the document.
func checkPDFLinks(t *testing.T, pdf []byte, want int) {
	t.Helper()
	km := reKids.FindSubmatch(pdf)
	if km == nil {
		t.Fatal("no /Kids in the PDF")
	}
	pages := map[string]bool{}
	for _, f := range strings.Fields(string(km[1])) {
		if f != "0" && f != "R" {
			pages[f] = true
		}
	}
	dests := reDest.FindAllSubmatch(pdf, -1)
	if len(dests) != want {
		t.Errorf("%d /Dest links in the PDF, want %d", len(dests), want)
	}
	for _, d := range dests {
		if !pages[string(d[1])] {
			t.Errorf("link to object %s, which is not a page", d[1])
		}
	}
}

func TestDeterministic(t *testing.T) {
	fx := fixtures(t)
	render := func() []byte {
		var b bytes.Buffer
		if err := Write(&b, fx["proxy"], testOptions(t)); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a := render()
	var other bytes.Buffer
	if err := Write(&other, fx["unknown"], testOptions(t)); err != nil {
		t.Fatal(err)
	}
	b := render()
	if !bytes.Equal(a, b) {
		t.Fatalf("two runs differ: %d and %d bytes", len(a), len(b))
	}
	if !bytes.HasPrefix(a, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %.10q", a)
	}
	// The date is the call's start, not the wall clock.
	if !bytes.Contains(a, []byte("/CreationDate (D:20261122")) {
		t.Errorf("creation date is not the call's start")
	}
}

func TestPageChoice(t *testing.T) {
	fx := fixtures(t)
	for _, tc := range []struct {
		name   string
		c      *call.Call
		orient string
		w, h   float64
	}{
		{"proxy, 3 hosts", fx["proxy"], "P", 210, 297},
		{"8 hosts", fx["hosts8"], "L", 420, 297},
		{"40 hosts", fx["hosts40"], "L", 24 + 2*margin + 40*minCol, 841},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewDocument(Options{})
			if err != nil {
				t.Fatal(err)
			}
			ops := d.layoutCall(tc.c, nil)
			for _, o := range ops {
				if o.kind == opPage && (o.orient != tc.orient || o.w != tc.w || o.h != tc.h) {
					t.Fatalf("page %d is %s %.0fx%.0f, want %s %.0fx%.0f", o.pageInCall, o.orient, o.w, o.h, tc.orient, tc.w, tc.h)
				}
			}
		})
	}
}

// TestLongCallPages checks that a long ladder continues over pages with the
// host header repeated on each.
func TestLongCallPages(t *testing.T) {
	c := fixtures(t)["long"]
	if len(c.Msgs) < 180 {
		t.Fatalf("long fixture has %d messages", len(c.Msgs))
	}
	d, err := NewDocument(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ops := d.layoutCall(c, nil)
	headers := map[int]int{}
	arrows := 0
	for _, o := range ops {
		if o.kind == opText && o.text == "10.0.0.1:5060" {
			headers[o.pageInCall]++
		}
		if o.kind == opAnchor && strings.Contains(o.name, ".a") {
			arrows++
		}
	}
	if arrows != len(c.Msgs) {
		t.Errorf("%d arrows for %d messages", arrows, len(c.Msgs))
	}
	ladderPages := 0
	for _, n := range headers {
		if n > 0 {
			ladderPages++
		}
	}
	if ladderPages < 5 {
		t.Errorf("host header on %d pages, want the header on each of at least 5 ladder pages", ladderPages)
	}
}

func pdftotext(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) not installed")
	}
	f := filepath.Join(t.TempDir(), "r.pdf")
	if err := os.WriteFile(f, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", f, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestPDFTextGolden(t *testing.T) {
	fx := fixtures(t)
	for _, name := range []string{"basic", "proxy", "cancel", "unknown"} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, fx[name], testOptions(t)); err != nil {
				t.Fatal(err)
			}
			txt := pdftotext(t, b.Bytes())
			golden(t, "text_"+name, txt)
		})
	}
}

// TestPDFTextFacts checks specific values in the extracted text, so that a
// golden update cannot silently lose them.
func TestPDFTextFacts(t *testing.T) {
	fx := fixtures(t)
	for _, tc := range []struct {
		name string
		want []string
	}{
		{"cancel", []string{"487", "cancelled by the caller before it was answered", "CANCEL (1)", "Request terminated: the call was cancelled before it was answered.", "Media was not analysed"}},
		{"busy", []string{"486 Busy Here — Busy here: the called party is busy.", "failed: the called side or a server refused it"}},
		{"proxy", []string{"kamailio proxy", "alice-phone", "L1", "L2", "INVITE (1)", "180 Ringing (1 INVITE)", "back to the flow", "Content-Length:"}},
		{"unknown", []string{"Örn Ивано\uFFFDв \uFFFD\uFFFD", "<U+5F20><U+4E09>", "?"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, fx[tc.name], testOptions(t)); err != nil {
				t.Fatal(err)
			}
			txt := pdftotext(t, b.Bytes())
			for _, w := range tc.want {
				if !strings.Contains(txt, w) {
					t.Errorf("text lacks %q", w)
				}
			}
		})
	}
}

func TestFontsEmbedded(t *testing.T) {
	if _, err := exec.LookPath("pdffonts"); err != nil {
		t.Skip("pdffonts (poppler-utils) not installed")
	}
	var b bytes.Buffer
	if err := Write(&b, fixtures(t)["proxy"], Options{}); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "r.pdf")
	if err := os.WriteFile(f, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdffonts", f).Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")[2:]
	if len(lines) != 3 {
		t.Fatalf("%d fonts, want 3:\n%s", len(lines), out)
	}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 7 || f[len(f)-5] != "yes" {
			t.Errorf("font not embedded: %s", l)
		}
	}
}

func TestSingleDocument(t *testing.T) {
	calls := loadCalls(t, "failures.pcap")
	d, err := NewDocument(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Index(calls); err != nil {
		t.Fatal(err)
	}
	msgs := 0
	for _, c := range calls {
		if err := d.Add(c); err != nil {
			t.Fatal(err)
		}
		msgs += len(c.Msgs)
	}
	var b bytes.Buffer
	if err := d.Write(&b); err != nil {
		t.Fatal(err)
	}
	checkPDFLinks(t, b.Bytes(), 2*msgs+len(calls))
	if n := bytes.Count(b.Bytes(), []byte("/Title (\xfe\xff")); n < 1+len(calls) {
		t.Errorf("%d bookmarks (UTF-16 titles), want at least %d", n, 1+len(calls))
	}
	if _, err := exec.LookPath("pdftotext"); err == nil {
		txt := pdftotext(t, b.Bytes())
		if !strings.Contains(txt, fmt.Sprintf("%d calls", len(calls))) {
			t.Errorf("index page lacks the call count")
		}
	}
}

var fileNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*\.pdf$`)

func TestFileName(t *testing.T) {
	c := fixtures(t)["basic"]
	for _, tc := range []struct {
		name     string
		from, to string
		callID   string
		want     string
	}{
		{"plain", "alice", "bob", "abc@10.0.0.1", "20261122-164830_alice_to_bob_abc-10.0.0.1.pdf"},
		{"path in Call-ID", "alice", "bob", "../../etc/passwd", "20261122-164830_alice_to_bob_etc-passwd.pdf"},
		{"plus and unicode", "+49 30 123", "Örn", "x", "20261122-164830_49-30-123_to_rn_x.pdf"},
		{"empty", "", "", "", "20261122-164830_to.pdf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc := *c
			cc.From = call.Party{User: tc.from}
			cc.To = call.Party{User: tc.to}
			cc.CallIDs = []string{tc.callID}
			got := FileName(&cc, time.FixedZone("CET", 3600))
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// FuzzReport renders a call with arbitrary display name, Call-ID and header
// value: rendering never fails, and the file name stays one safe name.
func FuzzReport(f *testing.F) {
	f.Add("Alice", "abc@host", "X-Foo: bar")
	f.Add("Örn 张三 \x00\xff", "../../x/\x00", "X-Long: "+strings.Repeat("é", 500))
	f.Add(`"quoted\" name`, "/abs/path", "X: \t\ttabs")
	f.Fuzz(func(t *testing.T, display, callID, header string) {
		if len(display)+len(callID)+len(header) > 4096 {
			return
		}
		clean := func(s string) string {
			return strings.Map(func(r rune) rune {
				if r == '\r' || r == '\n' || r == '"' || r == '\\' {
					return -1
				}
				return r
			}, s)
		}
		hdr := ""
		if name, val, ok := strings.Cut(clean(header), ":"); ok && regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*$`).MatchString(name) {
			hdr = name + ":" + val + "\n"
		}
		cid := strings.TrimSpace(strings.Map(func(r rune) rune {
			if r < 0x21 || r == 0x7f {
				return -1
			}
			return r
		}, callID))
		if cid == "" {
			cid = "x"
		}
		c := synth{hops: 1, from: clean(display), callID: cid, header: hdr}.build(t)
		var b bytes.Buffer
		if err := Write(&b, c, Options{}); err != nil {
			t.Fatalf("Write: %v", err)
		}
		if !bytes.HasPrefix(b.Bytes(), []byte("%PDF-")) {
			t.Fatal("not a PDF")
		}
		c.From.User = callID
		c.To.User = display
		c.CallIDs = []string{callID}
		name := FileName(c, nil)
		if !fileNameRE.MatchString(name) || len(name) > 160 || strings.Contains(name, "..") || filepath.Base(name) != name {
			t.Fatalf("unsafe file name %q", name)
		}
	})
}

func BenchmarkWrite200(b *testing.B) {
	c := synth{hops: 1, extra: 95}.build(b)
	b.ReportMetric(float64(len(c.Msgs)), "msgs")
	var size int
	for b.Loop() {
		var buf bytes.Buffer
		if err := Write(&buf, c, Options{}); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size), "bytes")
}

// BenchmarkSingle2000 builds one document of 2,000 calls behind an index
// (run with -benchtime=1x).
func BenchmarkSingle2000(b *testing.B) {
	base := loadCalls(b, "proxy-call.pcap")[0]
	calls := make([]*call.Call, 2000)
	for i := range calls {
		c := *base
		c.Index = i + 1
		c.CallIDs = []string{strconv.Itoa(i) + "@bench"}
		calls[i] = &c
	}
	var size int
	for b.Loop() {
		d, err := NewDocument(Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := d.Index(calls); err != nil {
			b.Fatal(err)
		}
		for _, c := range calls {
			if err := d.Add(c); err != nil {
				b.Fatal(err)
			}
		}
		var buf bytes.Buffer
		if err := d.Write(&buf); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size)/1e6, "MB")
}
