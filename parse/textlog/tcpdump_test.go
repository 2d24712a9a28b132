package textlog

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/parse/capture"
)

// wireFacts is what a text dump must carry over from the capture.
func wireFacts(m *capture.Message, timeOfDay bool) string {
	t := m.Time
	if timeOfDay {
		t = time.Date(1, 1, 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	}
	start := m.SIP.MethodName
	if !m.SIP.Request {
		start = fmt.Sprint(m.SIP.StatusCode)
	}
	return fmt.Sprintf("%s %s %s->%s %s call=%s cseq=%d %s problems=%d",
		t.Format("2006-01-02T15:04:05.000000"), start, m.Src, m.Dst, m.Transport, m.SIP.CallID, m.SIP.CSeq, m.SIP.CSeqMethodName, len(m.SIP.Problems))
}

// TestTcpdumpMatchesCapture reads the text tcpdump printed from each pcap
// of testdata/captures and checks that every message equals what
// parse/capture reads from the pcap itself.
func TestTcpdumpMatchesCapture(t *testing.T) {
	files, _ := filepath.Glob("testdata/tcpdump/*.txt")
	if len(files) == 0 {
		t.Fatal("no tcpdump fixtures")
	}
	for _, f := range files {
		base := filepath.Base(f)
		pcapName, variant, _ := strings.Cut(strings.TrimSuffix(base, ".txt"), ".")
		t.Run(base, func(t *testing.T) {
			pcap := filepath.Join("..", "..", "testdata", "captures", pcapName+".pcap")
			if _, err := os.Stat(pcap); err != nil {
				t.Skipf("%s: %v", pcap, err)
			}
			var want, got collect
			if _, err := capture.ReadFile(context.Background(), pcap, capture.Options{}, &want); err != nil {
				t.Fatal(err)
			}
			st, err := ReadFile(context.Background(), f, Options{}, &got)
			if err != nil {
				t.Fatal(err)
			}
			tod := variant != "A" // only the -tttt dump has dates
			if len(got.msgs) != len(want.msgs) {
				t.Errorf("%d messages, pcap has %d", len(got.msgs), len(want.msgs))
			}
			for i := range min(len(got.msgs), len(want.msgs)) {
				g, w := wireFacts(got.msgs[i], tod), wireFacts(want.msgs[i], tod)
				if g != w {
					t.Errorf("message %d (line %d):\n got %s\nwant %s", i, got.msgs[i].Frame, g, w)
				}
				if gr, wr := string(got.msgs[i].SIP.Raw), string(want.msgs[i].SIP.Raw); gr != wr && variant != "vvv" {
					t.Errorf("message %d (line %d): text differs:\n got %q\nwant %q", i, got.msgs[i].Frame, gr, wr)
				}
			}
			if st.SIPMessages != len(got.msgs) || st.Broken != 0 {
				t.Errorf("stats %d messages %d broken, delivered %d", st.SIPMessages, st.Broken, len(got.msgs))
			}
			for _, w := range st.Warnings {
				t.Errorf("warning: line %d: %v", w.Frame, w.Err)
			}
		})
	}
}
