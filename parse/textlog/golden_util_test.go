package textlog

import (
	"fmt"

	"github.com/sipflow/sipflow/parse/capture"
)

// summary is one message on one line: line, time, src->dst, transport,
// start line, Call-ID, problems.
func summary(m *capture.Message) string {
	start := m.SIP.MethodName
	if !m.SIP.Request {
		start = fmt.Sprintf("%d %s", m.SIP.StatusCode, m.SIP.Reason)
	}
	ts := "-"
	if !m.Time.IsZero() {
		ts = m.Time.Format("2006-01-02T15:04:05.000000Z")
	}
	addr := func(a interface {
		IsValid() bool
		String() string
	}) string {
		if !a.IsValid() {
			return "?"
		}
		return a.String()
	}
	return fmt.Sprintf("%d %s %s->%s %s %q %s cseq=%d problems=%d", m.Frame, ts, addr(m.Src), addr(m.Dst), m.Transport, start, m.SIP.CallID, m.SIP.CSeq, len(m.SIP.Problems))
}
