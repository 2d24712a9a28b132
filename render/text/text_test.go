package text

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/convert/call"
	"github.com/sipflow/sipflow/parse/capture"
	"github.com/sipflow/sipflow/parse/sip"
)

func allCalls() []*call.Call {
	return []*call.Call{basicCall(), proxyCall(), cancelCall(), authCall(), chainCall(10)}
}

func TestCalls(t *testing.T) {
	for _, tt := range []struct {
		name  string
		width int
		ascii bool
	}{
		{"calls_100", 0, false},
		{"calls_80", 80, false},
		{"calls_60_ascii", 60, true},
		{"calls_200", 200, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cs := allCalls()
			cs[1].From.User = "" // falls back to the URI
			cs[4].To.User = "+4930123456789012345678901234567890"
			var buf bytes.Buffer
			if err := Calls(&buf, cs, Options{Width: tt.width, ASCII: tt.ascii, Location: cet}); err != nil {
				t.Fatal(err)
			}
			checkWidth(t, buf.String(), max(tt.width, 0)+map[bool]int{true: DefaultWidth}[tt.width == 0])
			golden(t, tt.name, buf.String())
		})
	}
}

func TestCallsContent(t *testing.T) {
	var buf bytes.Buffer
	if err := Calls(&buf, []*call.Call{basicCall()}, Options{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), buf.String())
	}
	want := "1 2024-03-05 14:03:07.123 INVITE 1001 1002    200 completed  65.841s    1    7"
	if lines[1] != want {
		t.Errorf("row:\n%q\nwant\n%q", lines[1], want)
	}
	if !strings.HasPrefix(lines[0], "# Start") {
		t.Errorf("header %q", lines[0])
	}
}

func TestCallsJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := CallsJSON(&buf, allCalls()); err != nil {
		t.Fatal(err)
	}
	golden(t, "calls_json", buf.String())
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d lines, want 5", len(lines))
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{
		"index": 1.0, "call_id": "a84b4c76e66710@pc33.example.com", "start": "2024-03-05T14:03:07.123456Z",
		"end": "2024-03-05T14:04:12.964456Z", "method": "INVITE", "from": "1001", "to": "1002",
		"final_status": 200.0, "state": "completed", "messages": 7.0, "retransmissions": 0.0, "legs": 1.0,
		"setup_ms": 3512.0, "post_dial_delay_ms": 100.0, "talk_ms": 62320.0, "end_cause": "BYE",
		"ended_by": "192.168.1.10:5060", "from_display": "Alice", "q850": 0.0, "broken": 0.0,
	} {
		if rec[k] != want {
			t.Errorf("%s = %#v, want %#v", k, rec[k], want)
		}
	}
	// The failed call has no talk time, the chain call no ended_by.
	var failed, chain CallJSON
	if err := json.Unmarshal([]byte(lines[3]), &failed); err != nil {
		t.Fatal(err)
	}
	if failed.TalkMS != nil || failed.PostDialDelayMS != nil || failed.FinalStatus != 486 {
		t.Errorf("failed call: talk %v pdd %v status %d", failed.TalkMS, failed.PostDialDelayMS, failed.FinalStatus)
	}
	if err := json.Unmarshal([]byte(lines[4]), &chain); err != nil {
		t.Fatal(err)
	}
	if chain.EndedBy != nil || len(chain.CallIDs) != 1 || chain.Legs != 9 {
		t.Errorf("chain call: ended_by %v call_ids %v legs %d", chain.EndedBy, chain.CallIDs, chain.Legs)
	}
	if !strings.Contains(lines[1], `"reason":"Q.850;cause=16;text=\"Normal call clearing\""`) || !strings.Contains(lines[1], `"q850":16`) {
		t.Errorf("proxy call reason missing: %s", lines[1])
	}
}

func TestCallsJSONEmptyCall(t *testing.T) {
	var buf bytes.Buffer
	if err := CallsJSON(&buf, []*call.Call{{Index: 9}}); err != nil {
		t.Fatal(err)
	}
	want := `{"index":9,"call_id":"","call_ids":[],"start":null,"end":null,"method":"","from":"","to":"","from_display":"","to_display":"","from_uri":"","to_uri":"","request_uri":"","pai":"","diversion":"","final_status":0,"final_reason":"","state":"unknown","duration_ms":null,"setup_ms":0,"post_dial_delay_ms":0,"talk_ms":0,"end_cause":"","ended_by":null,"ended_by_caller":false,"reason":"","q850":0,"messages":0,"retransmissions":0,"broken":0,"legs":0,"streams":[]}` + "\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

func flowCalls() map[string]*call.Call {
	return map[string]*call.Call{
		"basic":   basicCall(),  // 2 hosts
		"proxy":   proxyCall(),  // 3 hosts, 2 legs, retransmission
		"cancel":  cancelCall(), // 2 hosts + unknown party, retransmission, broken
		"auth":    authCall(),   // 401 retry
		"chain4":  chainCall(4),
		"chain10": chainCall(10),
		"self":    selfCall(), // loops on a lifeline, on the last column too
	}
}

// selfCall is cancelCall with a message from an unknown party to an
// unknown party and one from bob to himself.
func selfCall() *call.Call {
	c := cancelCall()
	c.Msgs[3].Dst = netip.AddrPort{}
	c.Msgs[6].Dst = c.Msgs[6].Src
	return c
}

func TestFlowGolden(t *testing.T) {
	for name, c := range flowCalls() {
		for _, w := range []int{80, 100, 200} {
			for _, ascii := range []bool{false, true} {
				mode := "unicode"
				if ascii {
					mode = "ascii"
				}
				gname := fmt.Sprintf("flow_%s_%d_%s", name, w, mode)
				t.Run(gname, func(t *testing.T) {
					var buf bytes.Buffer
					o := Options{Width: w, ASCII: ascii, Hosts: testHosts(t), Location: cet}
					if err := Flow(&buf, c, o); err != nil {
						t.Fatal(err)
					}
					out := buf.String()
					checkWidth(t, out, w)
					if ascii {
						for i, r := range out {
							if r > 0x7e && r != '\n' {
								t.Fatalf("non-ASCII %q at byte %d in ASCII mode", r, i)
							}
						}
					}
					golden(t, gname, out)
				})
			}
		}
	}
}

// TestFlowFeatures checks the marks the ladder must carry, independent of
// the golden files.
func TestFlowFeatures(t *testing.T) {
	flow := func(c *call.Call, o Options) string {
		var buf bytes.Buffer
		if err := Flow(&buf, c, o); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	t.Run("basic", func(t *testing.T) {
		out := flow(basicCall(), Options{Width: 100, Hosts: testHosts(t)})
		for _, want := range []string{
			"Call 1: INVITE \"Alice\" 1001 -> 1002",
			"Call-ID: a84b4c76e66710@pc33.example.com",
			"State: completed  Final: 200 OK",
			"alice-phone", "bob-desk", "192.168.1.10:5060", "192.168.1.20:5060",
			"14:03:07.123  +0.000s", "+3.412s",
			"─ INVITE (1) ─", "◄─", "180 Ringing", "─ BYE (2) ─",
			"│ SDP: audio 192.168.1.10:40000", "PCMU,PCMA,telephone-event",
			"┬", "┴",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("missing %q in\n%s", want, out)
			}
		}
		if strings.Contains(out, "L1 ") {
			t.Errorf("leg shown for a one-leg call:\n%s", out)
		}
		// Arrow direction: INVITE goes right, 100 Trying goes left.
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "INVITE (1)") && !strings.Contains(l, "►") {
				t.Errorf("INVITE arrow not pointing right: %s", l)
			}
			if strings.Contains(l, "100 Trying") && !strings.Contains(l, "◄") {
				t.Errorf("100 arrow not pointing left: %s", l)
			}
		}
	})
	t.Run("proxy legs and retrans", func(t *testing.T) {
		out := flow(proxyCall(), Options{Width: 100})
		if !strings.Contains(out, "L2") || !strings.Contains(out, "L1") {
			t.Errorf("legs not shown:\n%s", out)
		}
		var re string
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "[retrans]") || strings.Contains(l, "[R]") {
				re = l
			}
		}
		if re == "" || !strings.Contains(re, "┄") {
			t.Errorf("retransmission not marked with a dashed shaft: %q\n%s", re, out)
		}
	})
	t.Run("unknown party and problems", func(t *testing.T) {
		out := flow(cancelCall(), Options{Width: 100, ASCII: true})
		lines := strings.Split(out, "\n")
		var hdr string
		for _, l := range lines {
			if strings.Contains(l, "192.168.1.10:5060") && strings.Contains(l, "192.168.1.20:5060") {
				hdr = l
				break
			}
		}
		if !strings.HasSuffix(strings.TrimSpace(hdr), "?") {
			t.Errorf("no ? column at the right edge: %q", hdr)
		}
		if !strings.Contains(out, "!200 OK") {
			t.Errorf("broken message not marked:\n%s", out)
		}
	})
	t.Run("compact", func(t *testing.T) {
		out := flow(chainCall(10), Options{Width: 80, Hosts: testHosts(t)})
		for _, want := range []string{"Hosts:", "  C  10.1.0.3:5060", "sbc-east", "  J  [2001:db8:10::a]:5060", "A ──► B  INVITE (1)", "A ◄── B  183 Session Progress", "A ──► J  ACK (1)"} {
			if !strings.Contains(out, want) {
				t.Errorf("missing %q in\n%s", want, out)
			}
		}
	})
	t.Run("no messages", func(t *testing.T) {
		c := basicCall()
		c.Msgs = nil
		out := flow(c, Options{Width: 80})
		if !strings.Contains(out, "(no messages kept for this call)") {
			t.Errorf("got\n%s", out)
		}
	})
	t.Run("nil call", func(t *testing.T) {
		if err := Flow(&bytes.Buffer{}, nil, Options{}); err == nil {
			t.Error("nil call: no error")
		}
	})
}

// TestFlowWidths: no line wider than Width for 2, 4 and 10 hosts at 80 and
// 200 columns, and at widths down to 1.
func TestFlowWidths(t *testing.T) {
	for _, n := range []int{2, 4, 10} {
		for _, w := range []int{1, 5, 20, 40, 80, 200} {
			for _, ascii := range []bool{false, true} {
				c := chainCall(n)
				var buf bytes.Buffer
				if err := Flow(&buf, c, Options{Width: w, ASCII: ascii, Hosts: testHosts(t)}); err != nil {
					t.Fatal(err)
				}
				checkWidth(t, buf.String(), w)
				if got := strings.Count(buf.String(), "\n"); got < len(c.Msgs) {
					t.Errorf("n=%d w=%d: %d lines for %d messages", n, w, got, len(c.Msgs))
				}
			}
		}
	}
}

func TestShow(t *testing.T) {
	o := Options{Location: cet, Hosts: testHosts(t)}
	t.Run("all", func(t *testing.T) {
		var buf bytes.Buffer
		if err := Show(&buf, basicCall(), 0, o); err != nil {
			t.Fatal(err)
		}
		golden(t, "show_basic_all", buf.String())
		if n := strings.Count(buf.String(), "\n#"); n != 6 {
			t.Errorf("%d message separators, want 6", n)
		}
	})
	t.Run("one", func(t *testing.T) {
		var buf bytes.Buffer
		if err := Show(&buf, authCall(), 2, Options{}); err != nil {
			t.Fatal(err)
		}
		golden(t, "show_auth_2", buf.String())
		first := strings.SplitN(buf.String(), "\n", 2)[0]
		want := "#2 2024-03-05 14:03:07.126456 frame 402 (capture.pcap) 10.0.0.1:5060 -> 192.168.1.10:5060 UDP"
		if first != want {
			t.Errorf("header %q, want %q", first, want)
		}
	})
	t.Run("escapes", func(t *testing.T) {
		c := basicCall()
		c.Msgs = c.Msgs[:1]
		c.Msgs[0].Full.Transport = capture.TCP
		c.Msgs[0].Full.Src = netip.AddrPort{}
		c.Msgs[0].Full.SIP = sip.Message{Raw: []byte("OPTIONS sip:x SIP/2.0\r\nX-Bin: a\x00b\x1b[31mred\tt\xff\u202e\r\nLF-only: yes\nlone\rcr\r\n\r\nbody-no-newline")}
		var buf bytes.Buffer
		if err := Show(&buf, c, 1, Options{}); err != nil {
			t.Fatal(err)
		}
		want := "#1 2024-03-05 14:03:07.123456 frame 101 (capture.pcap) ? -> 192.168.1.20:5060 TCP\n" +
			"OPTIONS sip:x SIP/2.0\nX-Bin: a\\x00b\\x1b[31mred\tt\\xff\\u202e\nLF-only: yes\nlone\\x0dcr\n\nbody-no-newline\n"
		if buf.String() != want {
			t.Errorf("got\n%q\nwant\n%q", buf.String(), want)
		}
	})
	t.Run("errors", func(t *testing.T) {
		notKept := basicCall()
		for i := range notKept.Msgs {
			notKept.Msgs[i].Full = nil
		}
		someKept := basicCall()
		someKept.Msgs[3].Full = nil
		for _, tt := range []struct {
			name string
			c    *call.Call
			msg  int
			want error
		}{
			{"not kept", notKept, 0, ErrNoMessages},
			{"not kept one", notKept, 2, ErrNoMessages},
			{"one of all not kept", someKept, 0, ErrNoMessages},
			{"empty call", &call.Call{}, 0, ErrNoMessages},
			{"too big", basicCall(), 8, ErrNoSuchMessage},
			{"negative", basicCall(), -1, ErrNoSuchMessage},
		} {
			t.Run(tt.name, func(t *testing.T) {
				var buf bytes.Buffer
				err := Show(&buf, tt.c, tt.msg, Options{})
				if !errors.Is(err, tt.want) {
					t.Errorf("err = %v, want %v", err, tt.want)
				}
				if buf.Len() != 0 {
					t.Errorf("wrote %q before failing", buf.String())
				}
			})
		}
		// A message that was kept can still be shown alone.
		var buf bytes.Buffer
		if err := Show(&buf, someKept, 3, Options{}); err != nil || !strings.Contains(buf.String(), "SIP/2.0 180 Ringing") {
			t.Errorf("Show kept message: %v\n%s", err, buf.String())
		}
	})
}

func TestHelpers(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain", "plain"},
		{"a\x1b[2Jb", `a\x1b[2Jb`},
		{"tab\there", "tab here"},
		{"bad\xffutf", `bad\xffutf`},
		{"rtl\u202eevil", `rtl\u202eevil`},
		{"c1\u0085x", `c1\u0085x`},
		{"日本", "日本"},
	} {
		if got := clean(tt.in); got != tt.want {
			t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct {
		in   string
		w    int
		ell  string
		want string
	}{
		{"INVITE (1)", 10, "…", "INVITE (1)"},
		{"INVITE (1)", 6, "…", "INVIT…"},
		{"INVITE (1)", 6, "...", "INV..."},
		{"INVITE (1)", 2, "...", ".."},
		{"日本語テキスト", 5, "…", "日本…"},
		{"日本語", 0, "…", ""},
	} {
		if got := truncate(tt.in, tt.w, tt.ell); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.w, got, tt.want)
		}
	}
	if got := truncateLeft("[2001:db8:10::8]:5060", 12, "…"); got != "…10::8]:5060" {
		t.Errorf("truncateLeft = %q", got)
	}
	if got := truncateLeft("192.168.1.10:5060", 3, "..."); got != "..." {
		t.Errorf("truncateLeft = %q", got)
	}
	for _, tt := range []struct {
		ms   int64
		want string
	}{{0, "+0.000s"}, {123, "+0.123s"}, {9999, "+9.999s"}, {12345, "+12.345s"}, {123456, "+123.46s"}, {1234567, "+1234.6s"}, {12345678, "+12346s"}, {-50, "-0.050s"}, {4000000000, "+1111h"}, {400000000000, "+4630d"}} {
		if got := fmtDelta(time.Duration(tt.ms) * time.Millisecond); got != tt.want || len(got) > deltaW {
			t.Errorf("fmtDelta(%dms) = %q, want %q", tt.ms, got, tt.want)
		}
	}
	for _, tt := range []struct {
		in   string
		w, n int
		want []string
	}{
		{"SDP: audio 1.2.3.4:5 PCMU sendrecv", 40, 3, []string{"SDP: audio 1.2.3.4:5 PCMU sendrecv"}},
		{"SDP: audio 1.2.3.4:5 PCMU sendrecv", 12, 3, []string{"SDP: audio", "1.2.3.4:5", "PCMU sendre…"}},
		{"SDP: audio 1.2.3.4:5 PCMU sendrecv", 12, 2, []string{"SDP: audio", "1.2.3.4:5 P…"}},
		{"SDP: averyveryverylongword", 8, 3, []string{"SDP:", "averyver", "yverylo…"}},
		{"SDP: averyveryverylongword", 8, 4, []string{"SDP:", "averyver", "yverylon", "gword"}},
		{"SDP: audio [fd17:625c:f037:2:a00:27ff:feb9:1521]:15062 PCMU", 20, 4, []string{"SDP: audio [fd17:625", "c:f037:2:a00:27ff:fe", "b9:1521]:15062 PCMU"}},
		{"a b c d e f", 3, 2, []string{"a b", "c …"}},
		{"日本語テキスト", 5, 3, []string{"日本", "語テ", "キス…"}},
		{"x", 0, 3, nil},
	} {
		if got := wrapText(tt.in, tt.w, tt.n, "…"); !slices.Equal(got, tt.want) {
			t.Errorf("wrapText(%q, %d, %d) = %q, want %q", tt.in, tt.w, tt.n, got, tt.want)
		}
	}
	if letters(0) != "A" || letters(25) != "Z" || letters(26) != "AA" || letters(27) != "AB" {
		t.Errorf("letters: %s %s %s %s", letters(0), letters(25), letters(26), letters(27))
	}
}
