package call

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/parse/capture"
	"github.com/sipflow/sipflow/parse/sip"
)

// The fuzz alphabet: every message is drawn from these.
var (
	fzMethods  = []string{"INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "PRACK", "SUBSCRIBE", "NOTIFY", "MESSAGE", "INFO", "UPDATE"}
	fzStatus   = []int{100, 180, 183, 200, 401, 486, 487, 503}
	fzCallIDs  = []string{"c1@h", "c2@h", "c3@h", ""} // "" = no Call-ID header
	fzBranches = []string{"z9hG4bK-1", "z9hG4bK-2", "z9hG4bK-3", ""}
	fzTags     = []string{"", "t1", "t2", "t3"}
	fzAddrs    = []netip.AddrPort{uac, uas, px, {}}
	fzSteps    = []time.Duration{0, time.Millisecond, 100 * time.Millisecond, time.Second, 33 * time.Second, 65 * time.Second, -500 * time.Millisecond, 5 * time.Hour}
	fzHeaders  = []string{"", "X-CID: c1@h", "X-CID: c2@h", "X-Call-ID: c3@h",
		"Session-ID: ab30317f1a784dc48ff824d0d3715d86", "Session-ID: 47755a9de7794ba387653f2099600ef2;remote=ab30317f1a784dc48ff824d0d3715d86",
		"P-Charging-Vector: icid-value=x1", `Reason: Q.850;cause=16;text="Normal"`}
)

// fuzzMessages turns data into a capture: 4 bytes per message.
func fuzzMessages(data []byte) []wire {
	var out []wire
	at := time.Duration(0)
	for len(data) >= 4 && len(out) < 200 {
		b0, b1, b2, b3 := data[0], data[1], data[2], data[3]
		data = data[4:]
		method := fzMethods[int(b0&0x0f)%len(fzMethods)]
		response := b0&0x10 != 0
		status := fzStatus[b0>>5]
		callID := fzCallIDs[b1&3]
		branch := fzBranches[b1>>2&3]
		cseq := int(b1>>4&3) + 1
		fromTag := fzTags[b1>>6&1+1]
		toTag := fzTags[b1>>7&1+b3>>3&1*2]
		src, dst := fzAddrs[b2&3], fzAddrs[b2>>2&3]
		at += fzSteps[b2>>4&7]
		hdr := fzHeaders[b3&7]

		var s strings.Builder
		if response {
			fmt.Fprintf(&s, "SIP/2.0 %d Something\r\n", status)
		} else {
			fmt.Fprintf(&s, "%s sip:bob@example.com SIP/2.0\r\n", method)
		}
		via := "Via: SIP/2.0/UDP 10.0.0.1:5060"
		if branch != "" {
			via += ";branch=" + branch
		}
		s.WriteString(via + "\r\n")
		fmt.Fprintf(&s, "From: <sip:alice@example.com>;tag=%s\r\n", fromTag)
		if toTag != "" {
			fmt.Fprintf(&s, "To: <sip:bob@example.com>;tag=%s\r\n", toTag)
		} else {
			s.WriteString("To: <sip:bob@example.com>\r\n")
		}
		if callID != "" {
			fmt.Fprintf(&s, "Call-ID: %s\r\n", callID)
		}
		fmt.Fprintf(&s, "CSeq: %d %s\r\n", cseq, method)
		if hdr != "" {
			s.WriteString(hdr + "\r\n")
		}
		s.WriteString("Content-Length: 0\r\n\r\n")
		out = append(out, wire{at, src, dst, s.String()})
	}
	return out
}

// FuzzBuilder feeds random sequences of SIP-ish messages and checks that
// every message lands in exactly one emitted call, that indexes are in
// range, and that one Call-ID is never in two calls at once.
func FuzzBuilder(f *testing.F) {
	f.Add([]byte{0x00, 0x00, 0x00, 0x00, 0x30, 0x80, 0x21, 0x08, 0x70, 0x80, 0x21, 0x08, 0x01, 0x90, 0x20, 0x08})
	f.Add([]byte{0x00, 0x01, 0x04, 0x01, 0x00, 0x02, 0x28, 0x00, 0x60, 0x83, 0x41, 0x08, 0x03, 0x05, 0x50, 0x07})
	f.Add([]byte{0x04, 0x00, 0x40, 0x00, 0x04, 0x00, 0x40, 0x00, 0x05, 0x01, 0x70, 0x00, 0x00, 0x02, 0x60, 0x06})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := fuzzMessages(data)
		var calls []*Call
		b := NewBuilder(Options{KeepMsgs: true}, func(c *Call) { calls = append(calls, c) })
		for i, w := range in {
			m := &capture.Message{Frame: i + 1, Time: t0.Add(w.at), Src: w.src, Dst: w.dst}
			if err := sip.Parse([]byte(w.text), &m.SIP); err != nil {
				t.Fatalf("frame %d: %v", i+1, err)
			}
			b.Add(m)
		}
		b.Flush()
		if n := b.Open(); n != 0 {
			t.Fatalf("Open() = %d after Flush", n)
		}
		seen := make([]int, len(in)+1)
		total := 0
		type span struct{ first, last time.Time }
		spans := map[string][]span{} // Call-ID -> its time span in each call
		for ci, c := range calls {
			checkIndexes(t, c)
			total += c.Messages
			if c.Messages != len(c.Msgs) {
				t.Errorf("call %d: Messages %d, len(Msgs) %d", ci, c.Messages, len(c.Msgs))
			}
			if c.Retransmissions > c.Messages {
				t.Errorf("call %d: %d retransmissions of %d messages", ci, c.Retransmissions, c.Messages)
			}
			if len(c.Msgs) > 0 && (!c.Start.Equal(c.Msgs[0].Time) || c.End.Before(c.Msgs[len(c.Msgs)-1].Time)) {
				t.Errorf("call %d: start %v end %v, messages %v..%v", ci, c.Start, c.End, c.Msgs[0].Time, c.Msgs[len(c.Msgs)-1].Time)
			}
			own := map[string]span{}
			for _, m := range c.Msgs {
				seen[m.Frame]++
				if m.CallID == "" {
					if c.Messages != 1 {
						t.Errorf("call %d: a message without Call-ID in a call of %d", ci, c.Messages)
					}
					continue
				}
				s, ok := own[m.CallID]
				if !ok {
					s.first = m.Time
				}
				if m.Time.Before(s.first) {
					s.first = m.Time
				}
				if m.Time.After(s.last) {
					s.last = m.Time
				}
				own[m.CallID] = s
			}
			for id, s := range own {
				spans[id] = append(spans[id], s)
			}
		}
		if total != len(in) {
			t.Fatalf("%d messages in calls, %d fed", total, len(in))
		}
		for i := 1; i <= len(in); i++ {
			if seen[i] != 1 {
				t.Fatalf("frame %d in %d calls", i, seen[i])
			}
		}
		for id, ss := range spans {
			for i := range ss {
				for j := i + 1; j < len(ss); j++ {
					if !ss[i].last.Before(ss[j].first) && !ss[j].last.Before(ss[i].first) {
						t.Errorf("Call-ID %q in two calls at once: %v..%v and %v..%v", id,
							ss[i].first.Sub(t0), ss[i].last.Sub(t0), ss[j].first.Sub(t0), ss[j].last.Sub(t0))
					}
				}
			}
		}
	})
}
