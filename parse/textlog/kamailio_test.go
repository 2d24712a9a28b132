package textlog

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/parse/capture"
)

var (
	kamailioLog  = filepath.Join("testdata", "logs", "kamailio", "kamailio.log")
	kamailioPcap = filepath.Join("testdata", "logs", "kamailio", "kamailio.pcap")
)

// kamailioFacts is a message without its time: what the log must carry.
func kamailioFacts(m *capture.Message) string {
	start := m.SIP.MethodName
	if !m.SIP.Request {
		start = fmt.Sprint(m.SIP.StatusCode)
	}
	return fmt.Sprintf("%s %s->%s %s call=%s cseq=%d %s problems=%d",
		start, m.Src, m.Dst, m.Transport, m.SIP.CallID, m.SIP.CSeq, m.SIP.CSeqMethodName, len(m.SIP.Problems))
}

// TestKamailioXlog reads the log kamailio 5.6.3 wrote while proxying three
// sipp calls (testdata/logs/kamailio/gen.sh) and checks it against the
// pcap tcpdump captured on the same loopback at the same time: every SIP
// packet is one logged message, with the same bytes, start line, addresses (from the xlog line's "from $si:$sp to $Ri:$Rp"),
// transport, Call-ID and CSeq, and a time ($TV(Sn), when the script ran)
// within a millisecond of the capture's. One packet is not in the log:
// sipp's ACK for the 487 of the cancelled call has no Via (the UAS
// scenario answers with the CANCEL's one Via, kamailio's own, so the 487
// it relays has none, and the UAC's [last_Via:] is empty), and kamailio
// drops that ACK before the script runs ("ERROR:
// <core> [core/receive.c:439]: receive_msg(): no via found in request",
// line 498).
func TestKamailioXlog(t *testing.T) {
	var got, wire collect
	st, err := ReadFile(context.Background(), kamailioLog, Options{}, &got)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := capture.ReadFile(context.Background(), kamailioPcap, capture.Options{}, &wire); err != nil {
		t.Fatal(err)
	}
	// the packet kamailio refused: the only one the capture marks broken
	var want []*capture.Message
	dropped := 0
	for _, m := range wire.msgs {
		if len(m.SIP.Problems) > 0 {
			if m.SIP.MethodName != "ACK" || m.Frame != 36 || len(m.SIP.Via) != 0 {
				t.Errorf("pcap frame %d (%s) is broken: only frame 36, the ACK without Via, should be", m.Frame, m.SIP.MethodName)
			}
			dropped++
			continue
		}
		want = append(want, m)
	}
	if dropped != 1 || len(want) != 36 || len(got.msgs) != 36 {
		t.Fatalf("log: %d messages; pcap: %d whole, %d broken; want 36, 36, 1", len(got.msgs), len(want), dropped)
	}
	// The log is in kamailio's processing order, the pcap in wire order: a
	// packet that arrives while kamailio handles another is logged after
	// what kamailio sends meanwhile (the callee's 200 for the CANCEL, frame
	// 31, is logged after kamailio's own "200 canceling", frame 32). So
	// each logged message is matched with the first unused packet of the
	// same facts and text, and the order is checked apart.
	used := make([]bool, len(want))
	order := 0 // log messages whose packet is at the same position
	for i, g := range got.msgs {
		j := -1
		for k, w := range want {
			if !used[k] && kamailioFacts(g) == kamailioFacts(w) && string(g.SIP.Raw) == string(w.SIP.Raw) {
				j = k
				break
			}
		}
		if j < 0 {
			t.Errorf("message %d (line %d) is no packet of the capture: %s\n%q", i+1, g.Frame, kamailioFacts(g), g.SIP.Raw)
			continue
		}
		used[j] = true
		if j == i {
			order++
		}
		w := want[j]
		if d := g.Time.Sub(w.Time); d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("message %d (line %d): logged at %s, captured at %s (%v apart)", i+1, g.Frame, g.Time.Format(time.RFC3339Nano), w.Time.Format(time.RFC3339Nano), d)
		}
		if g.Time.Year() != 2026 {
			t.Errorf("message %d: year %d, want 2026 from the epoch stamp", i+1, g.Time.Year())
		}
	}
	if order != 34 {
		t.Errorf("%d of 36 messages in wire order, want 34 (all but the CANCEL's two 200s)", order)
	}
	// what the log holds besides the messages: startup and shutdown lines,
	// kamailio's error about the ACK without Via
	wantWarn := []string{
		"textlog: lines skipped: lines 1-11 are not part of a SIP message",
		"textlog: lines skipped: line 498 is not part of a SIP message",
		"textlog: lines skipped: lines 508-514 are not part of a SIP message",
	}
	var warns []string
	for _, w := range st.Warnings {
		if !errors.Is(w.Err, ErrSkipped) {
			t.Errorf("warning line %d: %v, want only skipped lines", w.Frame, w.Err)
		}
		warns = append(warns, w.Err.Error())
	}
	if strings.Join(warns, "\n") != strings.Join(wantWarn, "\n") {
		t.Errorf("warnings:\n%s\nwant\n%s", strings.Join(warns, "\n"), strings.Join(wantWarn, "\n"))
	}
	if st.Frames != 514 || st.SIPMessages != 36 || st.Broken != 0 {
		t.Errorf("stats: %d lines, %d messages, %d broken; want 514, 36, 0", st.Frames, st.SIPMessages, st.Broken)
	}
	// the first record, spelled out
	first := got.msgs[0]
	if s := summary(first); s != `13 2026-11-22T16:44:45.156461Z 127.0.0.1:5070->127.0.0.3:5060 UDP "INVITE" 1-19169@127.0.0.1 cseq=1 problems=0` {
		t.Errorf("first message: %s", s)
	}
	if Detect(mustRead(t, kamailioLog)) != FormatRaw {
		t.Errorf("Detect(kamailio.log) = %v, want raw", Detect(mustRead(t, kamailioLog)))
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKamailioGolden keeps the whole reading of the Kamailio log.
func TestKamailioGolden(t *testing.T) {
	var c collect
	st, err := ReadFile(context.Background(), kamailioLog, Options{}, &c)
	if err != nil {
		t.Fatal(err)
	}
	got := render(c.msgs, st)
	golden := filepath.Join("testdata", "golden", "kamailio.log.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := string(mustRead(t, golden)); got != want {
		t.Errorf("kamailio.log differs from %s:\n%s", golden, got)
	}
}

func TestParseXlog(t *testing.T) {
	ap := netip.MustParseAddrPort
	at := time.Date(2026, 11, 22, 16, 44, 45, 156461000, time.UTC)
	tests := []struct {
		name     string
		line     string
		ok       bool
		src, dst netip.AddrPort
		tr       string // "" unknown
		time     time.Time
	}{
		{"fixture received", ` 1(19002) INFO: <script>: 1795365885.156461 received udp from 127.0.0.1:5070 to 127.0.0.3:5060:`, true, ap("127.0.0.1:5070"), ap("127.0.0.3:5060"), "UDP", at},
		{"fixture sent", ` 1(19002) INFO: <script>: 1795365885.156461 sent udp from 127.0.0.3:5060 to 127.0.0.1:5070:`, true, ap("127.0.0.3:5060"), ap("127.0.0.1:5070"), "UDP", at},
		{"source only", `INFO: <script>: received from 10.0.0.1:5060:`, true, ap("10.0.0.1:5060"), netip.AddrPort{}, "", time.Time{}},
		{"destination only, no colon", `NOTICE: <script>: SENT TCP to [2001:db8::1]:5061`, true, netip.AddrPort{}, ap("[2001:db8::1]:5061"), "TCP", time.Time{}},
		{"typed and sip: addresses", `xlog: recv from tls:192.0.2.1:5061 to sip:192.0.2.2:5061`, true, ap("192.0.2.1:5061"), ap("192.0.2.2:5061"), "TLS", time.Time{}},
		{"ISO date", `2026-11-22 16:44:45.156461 INFO: received from 127.0.0.1:5070`, true, ap("127.0.0.1:5070"), netip.AddrPort{}, "", at},
		{"address not last", `INFO: <script>: received from 10.0.0.1:5060 (Call-ID abc)`, false, netip.AddrPort{}, netip.AddrPort{}, "", time.Time{}},
		{"no direction word", `INFO: <script>: INVITE from 10.0.0.1:5060:`, false, netip.AddrPort{}, netip.AddrPort{}, "", time.Time{}},
		{"no port", `INFO: <script>: received from 10.0.0.1:`, false, netip.AddrPort{}, netip.AddrPort{}, "", time.Time{}},
		{"a name, not an address", `received from proxy.example.com:5060:`, false, netip.AddrPort{}, netip.AddrPort{}, "", time.Time{}},
		{"prose", `the call was sent to the voicemail`, false, netip.AddrPort{}, netip.AddrPort{}, "", time.Time{}},
		{"from without address", `received from`, false, netip.AddrPort{}, netip.AddrPort{}, "", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, ok := parseXlog(tt.line)
			if ok != tt.ok {
				t.Fatalf("parseXlog(%q) ok = %v, want %v", tt.line, ok, tt.ok)
			}
			if !ok {
				return
			}
			if x.src != tt.src || x.dst != tt.dst {
				t.Errorf("addresses %v -> %v, want %v -> %v", x.src, x.dst, tt.src, tt.dst)
			}
			tr := ""
			if x.hasTrans {
				tr = x.transport.String()
			}
			if tr != tt.tr {
				t.Errorf("transport %q, want %q", tr, tt.tr)
			}
			var got time.Time
			if x.st.ok {
				got = (&reader{opts: Options{Location: time.UTC}}).place(x.st)
			}
			if !got.Equal(tt.time) {
				t.Errorf("time %v, want %v", got, tt.time)
			}
		})
	}
}

// TestXlogRecords: an xlog line gives its message the addresses, on the
// next line or on the same one; one with no message after it is a skipped
// line, not an error.
func TestXlogRecords(t *testing.T) {
	const msg = "BYE sip:bob@10.0.0.2 SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK1\nFrom: <sip:a@x>;tag=1\nTo: <sip:b@y>;tag=2\nCall-ID: x1\nCSeq: 2 BYE\nContent-Length: 0\n\n"
	tests := []struct {
		name  string
		text  string
		want  string
		warns []string
	}{
		{"next line", "INFO: <script>: received udp from 10.0.0.1:5070 to 10.0.0.3:5060:\n" + msg,
			`2 - 10.0.0.1:5070->10.0.0.3:5060 UDP "BYE" x1 cseq=2 problems=0`, nil},
		{"same line", "INFO: <script>: 1795365885.5 sent tcp from 10.0.0.3:5060 to 10.0.0.2:5060: " + msg,
			`1 2026-11-22T16:44:45.500000Z 10.0.0.3:5060->10.0.0.2:5060 TCP "BYE" x1 cseq=2 problems=0`, nil},
		{"header without message", "INFO: <script>: received from 10.0.0.1:5070:\nsomething else\n" + msg,
			`3 - 10.0.0.9:5060->? UDP "BYE" x1 cseq=2 problems=0`,
			[]string{"textlog: lines skipped: lines 1-2 are not part of a SIP message"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, st, err := readString(t, "x.log", tt.text, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != 1 {
				t.Fatalf("%d messages, want 1", len(msgs))
			}
			if s := summary(msgs[0]); s != tt.want {
				t.Errorf("got  %s\nwant %s", s, tt.want)
			}
			var warns []string
			for _, w := range st.Warnings {
				if !errors.Is(w.Err, ErrSkipped) {
					t.Errorf("warning %v is not ErrSkipped", w.Err)
				}
				warns = append(warns, w.Err.Error())
			}
			if strings.Join(warns, "|") != strings.Join(tt.warns, "|") {
				t.Errorf("warnings %q, want %q", warns, tt.warns)
			}
		})
	}
}
