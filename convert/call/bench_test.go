package call

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sipflow/sipflow/parse/capture"
	"github.com/sipflow/sipflow/parse/sip"
)

// BenchmarkBuilder feeds a realistic 7-message call again and again, each
// time with another Call-ID and 100 ms later, so about 330 calls are open at
// once (32 s linger) as in a busy capture. One op is one call.
func BenchmarkBuilder(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts Options
		hdr  string
	}{
		{"summary", Options{}, ""},
		{"keep-msgs", Options{KeepMsgs: true}, ""},
		{"session-id", Options{}, "Session-ID: ab30317f1a784dc48ff824d0d3715d86"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			d := newDialog("template@pc33.example.com")
			if bc.hdr != "" {
				d.extra = []string{bc.hdr}
			}
			tmpl := simpleCall(d, 0, uac, uas)
			msgs := make([]*capture.Message, len(tmpl))
			for i, w := range tmpl {
				msgs[i] = toMessage(b, w, i+1)
			}
			// 4096 calls apart (410 s) a Call-ID (and Session-ID) is free again
			ids := make([]string, 1<<12)
			hdrs := make([][]sip.Header, len(ids)) // the INVITE's headers, with its own Session-ID
			for i := range ids {
				ids[i] = strconv.Itoa(i) + "-7f3a2c1e@pc33.example.com"
				hdrs[i] = slices.Clone(msgs[0].SIP.Headers)
				for j := range hdrs[i] {
					if hdrs[i][j].Name == "Session-ID" {
						hdrs[i][j].Value = fmt.Sprintf("%032x", i+1)
					}
				}
			}
			var emitted int
			bl := NewBuilder(bc.opts, func(*Call) { emitted++ })
			m := make([]capture.Message, len(msgs))
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			for n := 0; n < b.N; n++ {
				start := time.Duration(n) * 100 * time.Millisecond
				k := n & (len(ids) - 1)
				id := ids[k]
				for i, w := range tmpl {
					m[i] = *msgs[i]
					m[i].Time = t0.Add(start + w.at)
					m[i].SIP.CallID = id
					if i == 0 {
						m[i].SIP.Headers = hdrs[k]
					}
					bl.Add(&m[i])
				}
			}
			bl.Flush()
			b.StopTimer()
			if emitted != b.N {
				b.Fatalf("%d calls emitted, want %d", emitted, b.N)
			}
			nmsg := float64(b.N * len(tmpl))
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/nmsg, "ns/msg")
			// CPU time of the process (GC included): steadier than wall
			// time on a machine shared with other work
			b.ReportMetric(float64(cpuTime()-cpu0)/nmsg, "cpu-ns/msg")
		})
	}
}
