package textlog

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/convert/call"
	"github.com/sipflow/sipflow/parse/capture"
)

var update = flag.Bool("update", false, "rewrite the golden files")

type collect struct{ msgs []*capture.Message }

func (c *collect) SIP(m *capture.Message) { c.msgs = append(c.msgs, m) }
func (c *collect) Media(*capture.Media)   {}

func readString(t *testing.T, name, text string, o Options) ([]*capture.Message, capture.Stats, error) {
	t.Helper()
	var c collect
	st, err := Read(context.Background(), name, strings.NewReader(text), o, &c)
	return c.msgs, st, err
}

// render is the golden form: one line per message, then the warnings.
func render(msgs []*capture.Message, st capture.Stats) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(summary(m))
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "# lines=%d messages=%d broken=%d media=%d\n", st.Frames, st.SIPMessages, st.Broken, st.MediaPackets)
	for _, w := range st.Warnings {
		fmt.Fprintf(&b, "# warning line %d: %v\n", w.Frame, w.Err)
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/logs/*.log")
	files = append(files, "testdata/tcpdump/proxy-call.vvv.txt", "testdata/tcpdump/proxy-call.A.txt", "testdata/tcpdump/proxy-call.X.txt")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var c collect
			st, err := ReadFile(context.Background(), f, Options{Year: 2026}, &c)
			if err != nil {
				t.Fatal(err)
			}
			got := render(c.msgs, st)
			golden := filepath.Join("testdata", "golden", filepath.Base(f)+".golden")
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("%s differs from %s:\n%s", f, golden, got)
			}
		})
	}
}

// TestFormats checks each hand-built log reads as the same call with the
// format's own facts (time, addresses, direction).
func TestFormats(t *testing.T) {
	want := []string{"INVITE", "100", "200", "ACK", "BYE", "200"}
	alice := "10.99.0.1:5070"
	for _, tc := range []struct {
		file   string
		format Format
		t0     string // time of the INVITE, "" if the log has none
		pbx    string // the PBX's address: given, or told by the log; "" if unknown
	}{
		// the PBX only answers: its address is the Contact of its 200 OK
		{"asterisk-pjsip.log", FormatAsterisk, "2026-11-22T15:48:30.000000Z", "10.99.0.2:5060"},
		{"asterisk-chansip.log", FormatAsterisk, "", "10.99.0.2:5060"},
		{"freeswitch.log", FormatFreeSWITCH, "2026-11-22T15:48:30.000000Z", "10.99.0.2:5060"},
		{"cisco.log", FormatCisco, "2026-11-22T15:48:30.000000Z", "10.99.0.2:5060"},
		{"firebrick.log", FormatFireBrick, "2026-11-22T15:48:30.000000Z", "10.99.0.2:5060"},
		// not logged by the PBX: nothing says which side a message is on
		{"syslog.log", FormatSyslog, "2026-11-22T15:48:30.000000Z", ""},
		{"kamailio-xlog.log", FormatRaw, "", ""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", "logs", tc.file)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if d := Detect(b); d != tc.format {
				t.Errorf("Detect = %v, want %v", d, tc.format)
			}
			for _, o := range []Options{{Year: 2026}, {Year: 2026, Format: tc.format}} {
				msgs, st, err := readString(t, path, string(b), o)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, m := range msgs {
					if m.SIP.Request {
						got = append(got, m.SIP.MethodName)
					} else {
						got = append(got, fmt.Sprint(m.SIP.StatusCode))
					}
					if len(m.SIP.Problems) > 0 {
						t.Errorf("line %d: problems %v", m.Frame, m.SIP.Problems)
					}
					if m.SIP.CallID != "1-22325@10.99.0.1" {
						t.Errorf("line %d: Call-ID %q", m.Frame, m.SIP.CallID)
					}
					// Alice's side is known in every format: given or from the Via.
					if m.SIP.Request && m.Src.String() != alice || !m.SIP.Request && m.Dst.String() != alice {
						t.Errorf("line %d: %v->%v, Alice is %s", m.Frame, m.Src, m.Dst, alice)
					}
					pbx := m.Dst
					if !m.SIP.Request {
						pbx = m.Src
					}
					if tc.pbx == "" && pbx.IsValid() {
						t.Errorf("line %d: %v->%v: the PBX's own address is invented", m.Frame, m.Src, m.Dst)
					} else if tc.pbx != "" && pbx.String() != tc.pbx {
						t.Errorf("line %d: %v->%v, the PBX is %s", m.Frame, m.Src, m.Dst, tc.pbx)
					}
				}
				if strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("messages %v, want %v", got, want)
				}
				if tc.t0 != "" && len(msgs) > 0 {
					if ts := msgs[0].Time.Format("2006-01-02T15:04:05.000000Z"); ts != tc.t0 {
						t.Errorf("INVITE time %s, want %s", ts, tc.t0)
					}
				} else if len(msgs) > 0 && !msgs[0].Time.IsZero() {
					t.Errorf("INVITE time %v, the log has none", msgs[0].Time)
				}
				if st.SIPMessages != 6 || st.Broken != 0 {
					t.Errorf("stats %+v", st)
				}
			}
		})
	}
}

// TestMixed reads a log that mixes formats and noise: every message is
// found and every noise line is listed as skipped.
func TestMixed(t *testing.T) {
	pj, err1 := os.ReadFile("testdata/logs/asterisk-pjsip.log") // 75 lines, noise at 21
	fb, err2 := os.ReadFile("testdata/logs/firebrick.log")      // 69 lines
	sl, err3 := os.ReadFile("testdata/logs/syslog.log")         // 6 lines
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	text := string(pj) + "kernel: eth0 link up\nsomething else\n" + string(fb) + "\x00\xff junk \xe9t\xe9\n" + string(sl)
	msgs, st, err := readString(t, "mixed.log", text, Options{Year: 2026})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 18 || st.SIPMessages != 18 || st.Broken != 0 {
		t.Fatalf("%d messages (stats %d, broken %d), want 18", len(msgs), st.SIPMessages, st.Broken)
	}
	if msgs[6].Frame != 79 || !msgs[6].Src.IsValid() || !msgs[6].Dst.IsValid() {
		t.Errorf("first FireBrick message at line %d %v->%v, want line 79 with both addresses", msgs[6].Frame, msgs[6].Src, msgs[6].Dst)
	}
	if msgs[12].Frame != 148 {
		t.Errorf("first syslog message at line %d, want 148", msgs[12].Frame)
	}
	var skipped []string
	for _, w := range st.Warnings {
		if !errors.Is(w.Err, ErrSkipped) {
			t.Errorf("unexpected warning: %v", w.Err)
		}
		skipped = append(skipped, fmt.Sprintf("%d:%v", w.Frame, w.Err))
	}
	want := []string{
		"21:textlog: lines skipped: line 21 is not part of a SIP message",
		"76:textlog: lines skipped: lines 76-77 are not part of a SIP message",
		"147:textlog: lines skipped: line 147 is not part of a SIP message",
	}
	if strings.Join(skipped, "\n") != strings.Join(want, "\n") {
		t.Errorf("skipped:\n%s\nwant:\n%s", strings.Join(skipped, "\n"), strings.Join(want, "\n"))
	}
	if st.Frames != strings.Count(text, "\n") {
		t.Errorf("Frames %d, want %d lines", st.Frames, strings.Count(text, "\n"))
	}
}

// TestNoise: Asterisk and FreeSWITCH event logs (fail2ban's samples) are
// not SIP dumps: nothing is found, every line is reported as skipped.
func TestNoise(t *testing.T) {
	for _, name := range []string{"asterisk.log", "freeswitch.log"} {
		path := filepath.Join("..", "..", "..", "shared", "corpus", "fail2ban", name)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Skipf("corpus absent: %v", err)
		}
		var c collect
		st, err := ReadFile(context.Background(), path, Options{}, &c)
		if !errors.Is(err, ErrNotLog) {
			t.Errorf("%s: err %v, want ErrNotLog", name, err)
		}
		if len(c.msgs) != 0 || st.Frames != bytes.Count(b, []byte("\n")) || len(st.Warnings) == 0 {
			t.Errorf("%s: %d messages, %d lines, %d warnings", name, len(c.msgs), st.Frames, len(st.Warnings))
		}
		// every non-blank line is inside a reported range
		covered := map[int]bool{}
		for _, w := range st.Warnings {
			var a, z int
			if n, _ := fmt.Sscanf(w.Err.Error(), "textlog: lines skipped: lines %d-%d", &a, &z); n == 2 {
				for i := a; i <= z; i++ {
					covered[i] = true
				}
			} else if n, _ := fmt.Sscanf(w.Err.Error(), "textlog: lines skipped: line %d", &a); n == 1 {
				covered[a] = true
			} else if !errors.Is(w.Err, capture.ErrMaxWarnings) {
				t.Errorf("%s: warning %v", name, w.Err)
			}
		}
		for i, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			if strings.TrimSpace(l) != "" && !covered[i+1] {
				t.Errorf("%s: line %d not reported as skipped: %q", name, i+1, l)
			}
		}
	}
}

func TestParseFormat(t *testing.T) {
	for f := FormatAuto; f < formatMax; f++ {
		g, err := ParseFormat(strings.ToUpper(f.String()))
		if err != nil || g != f {
			t.Errorf("ParseFormat(%q) = %v, %v", f.String(), g, err)
		}
	}
	if _, err := ParseFormat("wireshark"); !errors.Is(err, ErrBadFormat) {
		t.Errorf("err %v, want ErrBadFormat", err)
	}
}

func TestTimeOfDayRollover(t *testing.T) {
	text := "23:59:59.900000 IP 10.0.0.1.5060 > 10.0.0.2.5060: SIP, length: 0\n\t" + strings.ReplaceAll(strings.TrimSuffix(optionsMsg, "\n"), "\n", "\n\t") + "\n" +
		"00:00:00.100000 IP 10.0.0.1.5060 > 10.0.0.2.5060: SIP, length: 0\n\t" + strings.ReplaceAll(strings.TrimSuffix(optionsMsg, "\n"), "\n", "\n\t") + "\n"
	msgs, _, err := readString(t, "x", text, Options{})
	if err != nil || len(msgs) != 2 {
		t.Fatalf("%d messages, %v", len(msgs), err)
	}
	if d := msgs[1].Time.Sub(msgs[0].Time); d != 200*time.Millisecond {
		t.Errorf("gap %v across midnight, want 200ms", d)
	}
}

const optionsMsg = "OPTIONS sip:b@10.0.0.2 SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\nFrom: <sip:a@10.0.0.1>;tag=1\nTo: <sip:b@10.0.0.2>\nCall-ID: x1\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n"

// TestTruncated: a logger cut the message: it is kept as broken, with a
// warning at its line.
func TestTruncated(t *testing.T) {
	text := "<--- Received SIP request (900 bytes) from UDP:10.0.0.1:5060 --->\n" + strings.Replace(optionsMsg, "Content-Length: 0", "Content-Type: application/sdp\nContent-Length: 300", 1) + "v=0\n"
	msgs, st, err := readString(t, "x", text, Options{})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("%d messages, %v", len(msgs), err)
	}
	if st.Broken != 1 || len(st.Warnings) != 1 || !errors.Is(st.Warnings[0].Err, ErrTruncated) || st.Warnings[0].Frame != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestSeeds reads the example traces of ../../../shared/seeds and checks
// the calls they describe.
func TestSeeds(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "seeds")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("seeds absent: %v", err)
	}
	read := func(t *testing.T, name string) ([]*capture.Message, []*call.Call) {
		var c collect
		_, err := ReadFile(context.Background(), filepath.Join(dir, name), Options{Year: 2014}, &c)
		if err != nil {
			t.Fatal(err)
		}
		var calls []*call.Call
		b := call.NewBuilder(call.Options{KeepMsgs: true}, func(c *call.Call) { calls = append(calls, c) })
		for _, m := range c.msgs {
			b.Add(m)
		}
		b.Flush()
		call.Sort(calls)
		return c.msgs, calls
	}
	labels := func(msgs []*capture.Message, callID string) string {
		var s []string
		for _, m := range msgs {
			if m.SIP.CallID != callID {
				continue
			}
			if m.SIP.Request {
				s = append(s, m.SIP.MethodName)
			} else {
				s = append(s, fmt.Sprint(m.SIP.StatusCode))
			}
		}
		return strings.Join(s, " ")
	}
	byID := func(calls []*call.Call, id string) *call.Call {
		for _, c := range calls {
			for _, x := range c.CallIDs {
				if x == id {
					return c
				}
			}
		}
		t.Fatalf("no call %s", id)
		return nil
	}

	t.Run("000 HOMER run-together INVITE", func(t *testing.T) {
		msgs, _ := read(t, "000_22a2ac330a818eb9.txt")
		if len(msgs) != 1 {
			t.Fatalf("%d messages", len(msgs))
		}
		m := msgs[0]
		if m.SIP.MethodName != "INVITE" || m.SIP.CallID != "SPB4-cvKPwGtbfEu4XuopOQ6MlNgtNaS" || m.SIP.CSeq != 28848 ||
			m.Src.String() != "108.60.57.218:50813" || m.Transport != capture.TLS || m.SIP.RequestURI.User != "+14242179560" {
			t.Errorf("%s", summary(m))
		}
	})
	t.Run("001 FireBrick REGISTER 403", func(t *testing.T) {
		msgs, _ := read(t, "001_5876162ae25b86c3.txt")
		if got := labels(msgs, "07d3cf53d8a5-iys3iqo6spv1"); got != "REGISTER 403" || len(msgs) != 2 {
			t.Fatalf("%q (%d messages)", got, len(msgs))
		}
		if msgs[0].Src.String() != "217.169.16.153:3072" || msgs[0].Dst.String() != "217.169.16.129:5060" ||
			msgs[1].Src.String() != "217.169.16.129:5060" || msgs[1].Time.Format(time.DateTime) != "2014-07-27 08:02:21" {
			t.Errorf("%s / %s", summary(msgs[0]), summary(msgs[1]))
		}
	})
	t.Run("002 Sipura syslog call", func(t *testing.T) {
		msgs, calls := read(t, "002_1482544f48f74f62.txt")
		id := "[email protected]"
		if got := labels(msgs, id); got != "INVITE 100 200 ACK BYE 200" {
			t.Fatalf("%q", got)
		}
		if msgs[0].Src.String() != "192.168.0.2:5062" || msgs[0].Time.Format(time.DateTime) != "2014-03-20 17:01:17" || msgs[0].Frame != 17 {
			t.Errorf("%s", summary(msgs[0]))
		}
		// the logger cut the INVITE's SDP: kept, broken
		if len(msgs[0].SIP.Problems) == 0 || msgs[0].SIP.ContentLength != 426 {
			t.Errorf("INVITE problems %v", msgs[0].SIP.Problems)
		}
		c := byID(calls, id)
		if c.FinalStatus != 200 || c.State != call.StateCompleted || c.EndCause != call.EndBye || c.To.User != "18005551212" && c.From.Display != "Good Body" {
			t.Errorf("call: status %d state %v end %v from %+v", c.FinalStatus, c.State, c.EndCause, c.From)
		}
	})
	t.Run("003 SIPvestigator tcpdump text", func(t *testing.T) {
		msgs, _ := read(t, "003_ccd35fa6a66e3620.txt")
		var got []string
		for _, m := range msgs {
			got = append(got, fmt.Sprintf("%d %s %s %s", m.Frame, m.Time.Format("15:04:05.000000"), m.Src, m.SIP.CSeqMethodName))
		}
		want := []string{
			"214 00:00:00.000000 10.11.12.13:5060 INVITE", // Figure 2: no header, sender from Via
			"450 15:49:30.333525 10.20.0.22:5060 INVITE",
			"488 15:49:30.334001 10.11.12.13:5060 ",
			"500 15:50:03.479602 10.11.12.13:5060 BYE",
			"612 16:41:37.979995 10.10.10.2:5060 INVITE",
			"726 15:54:44.871687 10.20.0.22:5060 INVITE",
			"813 16:11:51.307696 10.20.0.22:5060 INVITE",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if msgs[1].SIP.CallID != "4a40a41a3636462357f6f6f25b700844@10.20.0.22:5060" || msgs[1].Dst.String() != "10.11.12.13:5060" ||
			msgs[3].SIP.CallID != msgs[1].SIP.CallID || msgs[3].SIP.CSeq != 108046037 || len(msgs[1].SIP.Problems) != 0 {
			t.Errorf("%s / %s", summary(msgs[1]), summary(msgs[3]))
		}
		if msgs[2].SIP.StatusCode != 100 || len(msgs[2].SIP.Problems) == 0 { // only the status line survives in the thesis
			t.Errorf("%s", summary(msgs[2]))
		}
	})
	t.Run("004 FoSIP follow text and Cisco debug", func(t *testing.T) {
		msgs, calls := read(t, "004_a443d7099135f8d1.txt")
		for _, tc := range []struct{ id, labels string }{
			{"6c46d346e3084913a77014b523c9e389", "INVITE 100 180 200 ACK BYE 200 INVITE INVITE"},
			{"135f6ded4f5c45dab6af3d5626e0b4ef", "MESSAGE 200"},
			{"1e55d000-1ef16899-13-6450a8c0@192.168.80.100", "OPTIONS 200"},
			{"26a8f5dd71574735a0224cee6701e1c5", "REGISTER 100 401 REGISTER 100 200"},
			{"9fdc4b00-1ef168f7-2ad-6450a8c0@192.168.80.100", "NOTIFY"},
			{"8218e100-1ef1690b-2dc-6450a8c0@192.168.80.100", "INVITE 100 180 200 ACK REFER 202 BYE 200"},
			{"23ccb54af191467ab6bceb00814a5a43", "INVITE INVITE"},
		} {
			if got := labels(msgs, tc.id); got != tc.labels {
				t.Errorf("%s: %q, want %q", tc.id, got, tc.labels)
			}
		}
		c := byID(calls, "6c46d346e3084913a77014b523c9e389")
		if c.Method != "INVITE" || c.FinalStatus != 200 {
			t.Errorf("basic call: %s %d %v", c.Method, c.FinalStatus, c.State)
		}
		r := byID(calls, "26a8f5dd71574735a0224cee6701e1c5")
		if r.Method != "REGISTER" || r.FinalStatus != 200 {
			t.Errorf("register: %s %d", r.Method, r.FinalStatus)
		}
		x := byID(calls, "8218e100-1ef1690b-2dc-6450a8c0@192.168.80.100")
		if x.FinalStatus != 200 || x.EndCause != call.EndBye {
			t.Errorf("refer call: %d %v", x.FinalStatus, x.EndCause)
		}
		// the Cisco record with a timestamp: Sep 7 06:57:10.746, Received
		for _, m := range msgs {
			if m.Frame == 968 {
				if m.Time.Format("2006-01-02 15:04:05.000") != "2014-09-07 06:57:10.746" || m.Src.String() != "192.168.71.146:50555" || m.Dst.String() != "192.168.80.254:5060" { // the gateway: the Request-URI it received
					t.Errorf("cisco: %s", summary(m))
				}
			}
		}
	})
}
