package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sipflow/sipflow/convert/call"
	"github.com/sipflow/sipflow/parse/capture"
)

// tsharkMsg is one line of `tshark -Y sip -T fields -e frame.number -e
// ip.src -e ipv6.src -e ip.dst -e ipv6.dst -e sip.Call-ID -e sip.CSeq -e
// sip.Method -e sip.Status-Code` in a fixture's reference.
type tsharkMsg struct {
	frame    int
	src, dst string
	callID   string
	cseq     string // "1 INVITE"
	label    string // method or status code
}

func (m tsharkMsg) String() string {
	return fmt.Sprintf("#%d %s>%s %s [%s] %s", m.frame, m.src, m.dst, m.callID, m.cseq, m.label)
}

// readTsharkRef reads the fields section and the sip,stat figures of a
// fixture's reference.
func readTsharkRef(t *testing.T, path string) (msgs []tsharkMsg, total, resent int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	inFields := false
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "$ "):
			inFields = strings.Contains(l, "-Y sip -T fields")
			continue
		case strings.HasPrefix(l, "#"), strings.HasPrefix(l, "tshark: "):
			continue
		case strings.HasPrefix(l, "Number of SIP messages: "):
			total, _ = strconv.Atoi(strings.TrimPrefix(l, "Number of SIP messages: "))
		case strings.HasPrefix(l, "Number of resent SIP messages: "):
			resent, _ = strconv.Atoi(strings.TrimPrefix(l, "Number of resent SIP messages: "))
		}
		if !inFields {
			continue
		}
		c := strings.Split(l, "\t")
		if len(c) != 9 {
			t.Fatalf("%s: fields line %q", path, l)
		}
		n, err := strconv.Atoi(c[0])
		if err != nil {
			t.Fatalf("%s: fields line %q", path, l)
		}
		label := c[7]
		if label == "" {
			label = c[8]
		}
		msgs = append(msgs, tsharkMsg{frame: n, src: c[1] + c[2], dst: c[3] + c[4], callID: c[5], cseq: c[6], label: label})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return msgs, total, resent
}

// buildCalls runs the pipeline on one file, keeping every call's messages.
func buildCalls(t *testing.T, path string, keepDups bool) ([]*call.Call, capture.Stats, error) {
	t.Helper()
	var calls []*call.Call
	b := call.NewBuilder(call.Options{KeepMsgs: true}, func(c *call.Call) { calls = append(calls, c) })
	st, err := capture.ReadFile(context.Background(), path, capture.Options{KeepDuplicates: keepDups}, &feeder{b: b})
	b.Flush()
	call.Sort(calls)
	return calls, st, err
}

// TestFixturesMatchTshark checks every message of every fixture against
// tshark: same frames in the same order, addresses, Call-ID, CSeq and
// method/status; the retransmission count against sip,stat's "resent"; and
// that grouping loses nothing.
func TestFixturesMatchTshark(t *testing.T) {
	for _, fx := range fixtures {
		for _, keep := range []bool{false, true} {
			if keep && !fx.twice {
				continue
			}
			t.Run(fmt.Sprintf("%s/keep-duplicates=%v", fx.name, keep), func(t *testing.T) {
				want, total, resent := readTsharkRef(t, fixture(fx.name)+".tshark.txt")
				if len(want) != total || total != fx.sip {
					t.Fatalf("reference: %d field lines, sip,stat %d, table %d", len(want), total, fx.sip)
				}
				calls, st, err := buildCalls(t, fixture(fx.name), keep)
				if err != nil {
					t.Fatal(err)
				}
				if st.SIPMessages != total {
					t.Errorf("SIP messages %d, tshark %d", st.SIPMessages, total)
				}
				if len(calls) != fx.calls {
					t.Errorf("%d calls, want %d", len(calls), fx.calls)
				}
				var got []tsharkMsg
				sum, retrans := 0, 0
				for _, c := range calls {
					sum += c.Messages
					retrans += c.Retransmissions
					if len(c.Msgs) != c.Messages {
						t.Errorf("call %d: %d Msgs, Messages %d", c.Index, len(c.Msgs), c.Messages)
					}
					for _, m := range c.Msgs {
						if !slices.Contains(c.CallIDs, m.CallID) {
							t.Errorf("call %d: message #%d Call-ID %s not in %v", c.Index, m.Frame, m.CallID, c.CallIDs)
						}
						label := m.Method
						if !m.Request {
							label = strconv.Itoa(m.StatusCode)
						}
						got = append(got, tsharkMsg{frame: m.Frame, src: m.Src.Addr().String(), dst: m.Dst.Addr().String(),
							callID: m.CallID, cseq: fmt.Sprintf("%d %s", m.CSeq, m.Method), label: label})
					}
				}
				if sum != st.SIPMessages {
					t.Errorf("sum of messages over calls %d, SIP messages read %d", sum, st.SIPMessages)
				}
				if retrans != resent {
					t.Errorf("retransmissions %d, tshark resent %d", retrans, resent)
				}
				slices.SortStableFunc(got, func(a, b tsharkMsg) int { return a.frame - b.frame })
				for i := 0; i < max(len(got), len(want)); i++ {
					var g, w string
					if i < len(got) {
						g = got[i].String()
					}
					if i < len(want) {
						w = want[i].String()
					}
					if g != w {
						t.Errorf("message %d:\n got  %s\n want %s", i+1, g, w)
					}
				}
			})
		}
	}
}
