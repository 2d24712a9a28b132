package pdf

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sipflow/sipflow/convert/call"
	"github.com/sipflow/sipflow/convert/media"
	"github.com/sipflow/sipflow/parse/capture"
	"github.com/sipflow/sipflow/templates"
)

type mediaCollector struct {
	b *call.Builder
	t *media.Tracker
}

func (c *mediaCollector) SIP(m *capture.Message) { c.t.SIP(m); c.b.Add(m) }
func (c *mediaCollector) Media(p *capture.Media) { c.t.Media(p) }

// loadMedia reads a capture of testdata/media with its media measured and
// returns its first call and that call's media.
func loadMedia(t testing.TB, name string) (*call.Call, *media.CallMedia) {
	t.Helper()
	var calls []*call.Call
	b := call.NewBuilder(call.Options{KeepMsgs: true, KeepFull: func(string) bool { return true }}, func(c *call.Call) { calls = append(calls, c) })
	tr := media.NewTracker(media.Options{})
	path := filepath.Join("..", "..", "testdata", "media", name)
	if _, err := capture.ReadFile(context.Background(), path, capture.Options{Media: true}, &mediaCollector{b, tr}); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	b.Flush()
	call.Sort(calls)
	if len(calls) == 0 {
		t.Fatalf("%s: no call", name)
	}
	return calls[0], tr.Finish().ForCall(calls[0].CallIDs, calls[0].Start, calls[0].End)
}

var mediaFixtures = []string{"loss", "oneway", "noaudio", "dtmf"}

func TestMediaLayoutGolden(t *testing.T) {
	for _, name := range mediaFixtures {
		t.Run(name, func(t *testing.T) {
			c, cm := loadMedia(t, name+".pcap")
			var b bytes.Buffer
			if err := LayoutMedia(&b, c, cm, testOptions(t)); err != nil {
				t.Fatal(err)
			}
			golden(t, "layout_media_"+name, b.String())
		})
	}
}

func TestMediaPDFText(t *testing.T) {
	for _, tc := range []struct {
		name string
		want []string
		not  []string
	}{
		{"loss", []string{
			"Media quality", "Direction", "Jitter max / mean", "MOS",
			"10.98.0.1:6100 -> 10.98.0.2:6000", "PCMA", "167", "0 (0.0%)", "4.41",
			"10.98.0.2:6000 -> 10.98.0.1:6100", "157", "10 (6.0%)", "61.3 ms", "0.83 / 0.34 ms", "3.82",
			"Packets out of sequence: 10 packets out of sequence, 0 with a timestamp going back",
		}, []string{"Media was not analysed", "The whole call"}},
		{"oneway", []string{
			"10.98.0.1:6100 -> 10.98.0.2:6000", "0.86 / 0.33 ms", "The whole call",
			"One-way audio: media only toward the callee (167 packets), none toward the caller",
		}, []string{"Media was not analysed", "10.98.0.2:6000 -> 10.98.0.1:6100"}},
		{"noaudio", []string{
			"No media (RTP) was seen for this call in the capture.",
			"No media: answered, but no media was seen in either direction",
		}, []string{"Media was not analysed", "Direction"}},
		{"dtmf", []string{"telephone-event", "DTMF digits: 1 2 #"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, cm := loadMedia(t, tc.name+".pcap")
			var b bytes.Buffer
			if err := WriteMedia(&b, c, cm, testOptions(t)); err != nil {
				t.Fatal(err)
			}
			txt := pdftotext(t, b.Bytes())
			golden(t, "text_media_"+tc.name, txt)
			flat := strings.Join(strings.Fields(txt), " ")
			for _, w := range tc.want {
				if !strings.Contains(flat, w) {
					t.Errorf("text lacks %q", w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(flat, n) {
					t.Errorf("text has %q", n)
				}
			}
			// Deterministic: a second rendering is byte-identical.
			var b2 bytes.Buffer
			if err := WriteMedia(&b2, c, cm, testOptions(t)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.Bytes(), b2.Bytes()) {
				t.Error("two renderings differ")
			}
			if dir := os.Getenv("SIPFLOW_PDF_OUT"); dir != "" {
				if err := os.WriteFile(filepath.Join(dir, tc.name+".pdf"), b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestMediaNoOverlap checks that the media section's texts do not overlap
// and stay on the page.
func TestMediaNoOverlap(t *testing.T) {
	for _, name := range mediaFixtures {
		t.Run(name, func(t *testing.T) {
			c, cm := loadMedia(t, name+".pcap")
			d, err := NewDocument(testOptions(t))
			if err != nil {
				t.Fatal(err)
			}
			d.calls++
			ops := d.layoutCall(c, cm)
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
					t.Errorf("page %d: %q leaves the page", a.page, a.text)
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

// TestProblemWords checks that every problem kind has its words in
// templates/report.txt (a missing key would print the key itself).
func TestProblemWords(t *testing.T) {
	tx := testTexts()
	for k := media.OneWay; k <= media.SequenceErrors; k++ {
		key := "problem." + k.String()
		if got := tx.Text(key); got == key || got == "" {
			t.Errorf("%s: no words in report.txt", key)
		}
	}
	for _, key := range []string{"media.none.seen", "media.none.log", "media.intro", "media.col.direction", "media.col.jitter", "media.call"} {
		if tx.Text(key) == key {
			t.Errorf("%s missing from report.txt", key)
		}
	}
	if got := tx.Text("media.dtmf", "digits", "1 2"); got != "DTMF digits: 1 2" {
		t.Errorf("media.dtmf = %q", got)
	}
}

func testTexts() *templates.Texts { return templates.Default() }
