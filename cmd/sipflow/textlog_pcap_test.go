package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// tcpdumpTextDir holds the text tcpdump printed from testdata/captures (see
// its README for the commands).
var tcpdumpTextDir = filepath.Join("..", "..", "parse", "textlog", "testdata", "tcpdump")

// callsJSON runs `calls --json -q` on path and returns one object per call.
func callsJSON(t *testing.T, path string) []map[string]any {
	t.Helper()
	r := runCLI(t, "calls", "--json", "-q", path)
	if r.code != 0 {
		t.Fatalf("calls --json -q %s: exit %d\n%s", path, r.code, r.stderr)
	}
	var calls []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var c map[string]any
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatalf("calls --json %s: %v in %q", path, err, l)
		}
		calls = append(calls, c)
	}
	return calls
}

// timeOfDay reduces an RFC 3339 time to its time of day (the date is what
// tcpdump -vvv and -X do not print).
func timeOfDay(t *testing.T, v any) string {
	t.Helper()
	s, ok := v.(string)
	if !ok {
		t.Fatalf("time field is %T %v, want a string", v, v)
	}
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm.Format("15:04:05.000000")
}

// TestCallsJSONTcpdumpTextEqualsPcap checks the issue's promise: `calls
// --json` on the text tcpdump printed equals `calls --json` on the pcap it
// was printed from, bar what the text cannot carry:
//
//   - streams: tcpdump -vvv prints no UDP payload off port 5060 and -A
//     prints binary bytes as dots, so RTP cannot be read back from the text
//     (the reader counts those packets as media); the text's call must have
//     an empty stream list. The -X dumps carry every byte, but they were
//     printed only from proxy-call.pcap and failures.pcap, which hold no RTP
//     (the proxy does not carry media; the failed calls have none), so their
//     streams are compared as they are.
//   - start, end: -vvv and -X print the time of day without a date; the
//     text's times are on 0001-01-01, so only the time of day is compared.
//     The -tttt -A dumps print dates: compared in full.
//
// calls --json has no frame-derived field (index is the call's rank), so
// nothing else is dropped. The messages of each call (count, methods,
// statuses, Call-IDs, addresses, times) are compared message by message in
// parse/textlog's TestTcpdumpMatchesCapture; here it is the CLI's result.
func TestCallsJSONTcpdumpTextEqualsPcap(t *testing.T) {
	texts, _ := filepath.Glob(filepath.Join(tcpdumpTextDir, "*.txt"))
	if len(texts) == 0 {
		t.Fatalf("no tcpdump text in %s", tcpdumpTextDir)
	}
	for _, text := range texts {
		base := filepath.Base(text)
		name, variant, _ := strings.Cut(strings.TrimSuffix(base, ".txt"), ".")
		t.Run(base, func(t *testing.T) {
			pcap := fixture(name + ".pcap")
			if _, err := os.Stat(pcap); err != nil {
				t.Fatalf("%s printed from a missing capture: %v", base, err)
			}
			got, want := callsJSON(t, text), callsJSON(t, pcap)
			if len(got) != len(want) {
				t.Fatalf("%d calls from the text, %d from the pcap", len(got), len(want))
			}
			dated := variant == "A" // -tttt
			for i := range got {
				g, w := got[i], want[i]
				gs, _ := g["streams"].([]any)
				ws, _ := w["streams"].([]any)
				switch variant {
				case "X":
					if !reflect.DeepEqual(g["streams"], w["streams"]) {
						t.Errorf("call %d: streams %v, pcap %v", i+1, g["streams"], w["streams"])
					}
				default:
					if g["streams"] == nil || len(gs) != 0 {
						t.Errorf("call %d: text streams %v, want [] (text carries no RTP)", i+1, g["streams"])
					}
				}
				delete(g, "streams")
				delete(w, "streams")
				if !dated {
					for _, k := range []string{"start", "end"} {
						gt, wt := timeOfDay(t, g[k]), timeOfDay(t, w[k])
						if gt != wt {
							t.Errorf("call %d: %s time of day %s, pcap %s", i+1, k, gt, wt)
						}
						if !strings.HasPrefix(g[k].(string), "0001-01-01T") {
							t.Errorf("call %d: %s %v from undated text, want date 0001-01-01 (unknown)", i+1, k, g[k])
						}
						delete(g, k)
						delete(w, k)
					}
				}
				for k := range w {
					if _, ok := g[k]; !ok {
						t.Errorf("call %d: field %q missing from the text's JSON", i+1, k)
					}
				}
				for k, gv := range g {
					wv, ok := w[k]
					if !ok {
						t.Errorf("call %d: field %q only in the text's JSON", i+1, k)
						continue
					}
					if !reflect.DeepEqual(gv, wv) {
						t.Errorf("call %d: %s = %v from the text, %v from the pcap", i+1, k, gv, wv)
					}
				}
				t.Logf("call %d %v: %d fields equal; pcap streams %d (not in text)", i+1, w["call_id"], len(g), len(ws))
			}
		})
	}
}

// kamailioDir holds the log kamailio 5.6.3 wrote while proxying three sipp
// calls and the pcap of the same traffic (see its README).
var kamailioDir = filepath.Join("..", "..", "parse", "textlog", "testdata", "logs", "kamailio")

// TestCallsJSONKamailioLogEqualsPcap: `calls --json` on the Kamailio xlog
// log equals `calls --json` on the capture of the same traffic, bar:
//
//   - times: a logged message carries the time kamailio's script ran
//     ($TV(Sn)), not the capture time; start, end and the durations
//     computed from them may differ by up to a millisecond (0.6 ms at most
//     here): compared with that tolerance.
//   - the third call's ACK for its 487: sipp sent it without a Via and
//     kamailio dropped it before the script could log it, so the pcap's call
//     has one message more, and that one is broken.
func TestCallsJSONKamailioLogEqualsPcap(t *testing.T) {
	logFile, pcap := filepath.Join(kamailioDir, "kamailio.log"), filepath.Join(kamailioDir, "kamailio.pcap")
	got, want := callsJSON(t, logFile), callsJSON(t, pcap)
	if len(got) != 3 || len(want) != 3 {
		t.Fatalf("%d calls from the log, %d from the pcap, want 3 each", len(got), len(want))
	}
	wantFacts := []string{"INVITE 200 completed messages=14 legs=2", "INVITE 486 failed messages=8 legs=2", "INVITE 0 cancelled messages=14 legs=2"}
	for i := range got {
		g, w := got[i], want[i]
		if f := fmt.Sprintf("%v %v %v messages=%v legs=%v", g["method"], g["final_status"], g["state"], g["messages"], g["legs"]); f != wantFacts[i] {
			t.Errorf("call %d: %s, want %s", i+1, f, wantFacts[i])
		}
		for _, k := range []string{"start", "end"} {
			gt, err1 := time.Parse(time.RFC3339Nano, g[k].(string))
			wt, err2 := time.Parse(time.RFC3339Nano, w[k].(string))
			if err1 != nil || err2 != nil {
				t.Fatalf("call %d: %s %v / %v", i+1, k, err1, err2)
			}
			if d := gt.Sub(wt).Abs(); d > time.Millisecond {
				t.Errorf("call %d: %s %v from the log, %v from the pcap (%v apart)", i+1, k, gt, wt, d)
			}
			delete(g, k)
			delete(w, k)
		}
		for _, k := range []string{"duration_ms", "setup_ms", "post_dial_delay_ms", "talk_ms"} {
			gv, gok := g[k].(float64)
			wv, wok := w[k].(float64)
			if gok != wok || gok && (gv-wv > 1 || wv-gv > 1) {
				t.Errorf("call %d: %s %v from the log, %v from the pcap", i+1, k, g[k], w[k])
			}
			delete(g, k)
			delete(w, k)
		}
		if i == 2 {
			if w["messages"] != 15.0 || w["broken"] != 1.0 || g["broken"] != 0.0 {
				t.Errorf("call 3: pcap messages %v broken %v, log broken %v; want 15, 1, 0 (the ACK without Via)", w["messages"], w["broken"], g["broken"])
			}
			delete(g, "messages")
			delete(w, "messages")
			delete(g, "broken")
			delete(w, "broken")
		}
		if !reflect.DeepEqual(g, w) {
			for k := range w {
				if !reflect.DeepEqual(g[k], w[k]) {
					t.Errorf("call %d: %s = %v from the log, %v from the pcap", i+1, k, g[k], w[k])
				}
			}
			for k := range g {
				if _, ok := w[k]; !ok {
					t.Errorf("call %d: field %q only in the log's JSON", i+1, k)
				}
			}
		}
	}
}

// TestTextLogMedia: a text log holds no media, so rtp and flow say the
// media was not measured, where a capture without media says no-media.
func TestTextLogMedia(t *testing.T) {
	f := filepath.Join(tcpdumpTextDir, "basic-call.vvv.txt")
	r := runCLI(t, "rtp", "-q", f)
	if r.code != exitOK || !strings.Contains(r.stdout, "(no stream: the input is a text log, which holds the signalling only)") || strings.Contains(r.stdout, "no-media") {
		t.Errorf("rtp on a text log: exit %d\n%s", r.code, r.stdout)
	}
	r = runCLI(t, "flow", "-q", "--call", "1", "--width", "100", f)
	if r.code != exitOK || !strings.Contains(r.stdout, "\nMedia: not measured (a text log holds the signalling only)\n") || strings.Contains(r.stdout, "no-media") {
		t.Errorf("flow on a text log: exit %d\n%s", r.code, r.stdout)
	}
}

// TestTextLogNoDate: tcpdump -vvv prints the time of day only; the call
// shows it as logged, with no invented date and no time zone conversion.
func TestTextLogNoDate(t *testing.T) {
	f := filepath.Join(tcpdumpTextDir, "basic-call.vvv.txt")
	r := runCLI(t, "calls", "-q", "--tz", "Europe/Berlin", f)
	if r.code != exitOK || !strings.Contains(r.stdout, "\n1 15:48:30.082 INVITE ") || strings.Contains(r.stdout, "0001") {
		t.Errorf("calls: exit %d\n%s", r.code, r.stdout)
	}
	r = runCLI(t, "flow", "-q", "--tz", "Europe/Berlin", "--call", "1", "--width", "100", f)
	if r.code != exitOK || !strings.Contains(r.stdout, "\nStart: 15:48:30.082 (as logged: no date, no time zone)") ||
		!strings.Contains(r.stdout, "\n15:48:30.082  +0.000s ") || strings.Contains(r.stdout, "0001") {
		t.Errorf("flow: exit %d\n%s", r.code, r.stdout)
	}
}
