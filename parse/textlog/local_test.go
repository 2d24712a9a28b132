package textlog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sipflow/sipflow/convert/call"
	"github.com/sipflow/sipflow/parse/capture"
)

// TestChanSIPReal reads the log in chan_sip's real output format: the box
// only names the far end (10.253.253.5); its own address comes from the Via
// of the BYE it sent, so every message has both sides and the call is one
// leg.
func TestChanSIPReal(t *testing.T) {
	var c collect
	st, err := ReadFile(context.Background(), "testdata/logs/asterisk-chansip-real.log", Options{Year: 2026}, &c)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range c.msgs {
		label := m.SIP.MethodName
		if !m.SIP.Request {
			label = fmt.Sprint(m.SIP.StatusCode, " ", m.SIP.Reason)
		}
		got = append(got, fmt.Sprintf("%d %s->%s %s %s", m.Frame, m.Src, m.Dst, m.Transport, label))
	}
	want := []string{
		"4 10.253.253.5:5060->10.253.253.21:5060 UDP INVITE",
		"17 10.253.253.21:5060->10.253.253.5:5060 UDP 200 OK",
		"30 10.253.253.21:5060->10.253.253.5:5060 UDP BYE",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, w := range st.Warnings {
		if !errors.Is(w.Err, ErrSkipped) {
			t.Errorf("warning %v", w.Err)
		}
	}
	var calls []*call.Call
	b := call.NewBuilder(call.Options{}, func(c *call.Call) { calls = append(calls, c) })
	for _, m := range c.msgs {
		b.Add(m)
	}
	b.Flush()
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	k := calls[0]
	if len(k.Legs) != 1 || k.Legs[0].A.String() != "10.253.253.5:5060" || k.Legs[0].B.String() != "10.253.253.21:5060" {
		t.Errorf("legs %+v", k.Legs)
	}
	if k.Method != "INVITE" || k.FinalStatus != 200 || k.State != call.StateCompleted || k.EndCause != call.EndBye ||
		k.EndedBy.String() != "10.253.253.21:5060" || k.EndedByFrom || k.From.User != "9002" || k.From.Display != "phd" ||
		k.To.User != "9000" || k.RequestURI != "sip:9000@10.253.253.21:5060" || k.Messages != 3 || k.CallIDs[0] != "abc123@10.253.253.5" {
		t.Errorf("call %+v", k)
	}
}

// pjsip logger records, as the box prints them: only the far end.
func rx(far, msg string) string {
	return fmt.Sprintf("<--- Received SIP message (%d bytes) from UDP:%s --->\n%s\n", len(msg), far, msg)
}

func tx(far, msg string) string {
	return fmt.Sprintf("<--- Transmitting SIP message (%d bytes) to UDP:%s --->\n%s\n", len(msg), far, msg)
}

// sipReq is a request without a body; contact "" leaves Contact out.
func sipReq(method, ruri, via, contact, callID string, cseq int) string {
	s := fmt.Sprintf("%s %s SIP/2.0\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s%d\nFrom: <sip:a@example.com>;tag=f\nTo: <sip:b@example.com>\nCall-ID: %s\nCSeq: %d %s\n",
		method, ruri, via, callID, cseq, callID, cseq, method)
	if contact != "" {
		s += "Contact: <" + contact + ">\n"
	}
	return s + "Content-Length: 0\n"
}

func sipResp(status, via, contact, callID string, cseq int, method string) string {
	s := fmt.Sprintf("SIP/2.0 %s\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s%d\nFrom: <sip:a@example.com>;tag=f\nTo: <sip:b@example.com>;tag=t\nCall-ID: %s\nCSeq: %d %s\n",
		status, via, callID, cseq, callID, cseq, method)
	if contact != "" {
		s += "Contact: <" + contact + ">\n"
	}
	return s + "Content-Length: 0\n"
}

// TestLocalAddress checks the rule that gives the logging box its own
// address: which evidence counts, which wins, and what stays unknown.
func TestLocalAddress(t *testing.T) {
	const (
		phone = "10.0.0.7:5062"
		gw    = "192.0.2.9:5060"
	)
	for _, tc := range []struct {
		name string
		log  string
		want []string // src->dst per message
		warn string   // ErrLocalUnknown warning text, "" if none
	}{
		{
			name: "own Via of a sent request beats the Contact",
			log: rx(phone, sipReq("INVITE", "sip:b@10.0.0.5", "10.0.0.7:5062", "sip:a@10.0.0.7:5062", "c1", 1)) +
				tx(phone, sipResp("200 OK", "10.0.0.7:5062", "sip:b@203.0.113.5:5060", "c1", 1, "INVITE")) +
				tx(phone, sipReq("BYE", "sip:a@10.0.0.7:5062", "10.0.0.5:5060", "", "c1", 2)),
			want: []string{"10.0.0.7:5062->10.0.0.5:5060", "10.0.0.5:5060->10.0.0.7:5062", "10.0.0.5:5060->10.0.0.7:5062"},
		},
		{
			name: "Contact of a sent 200 beats the Request-URI received",
			log: rx(phone, sipReq("INVITE", "sip:b@10.0.0.99", "10.0.0.7:5062", "", "c1", 1)) +
				tx(phone, sipResp("200 OK", "10.0.0.7:5062", "sip:b@10.0.0.5:5070", "c1", 1, "INVITE")),
			want: []string{"10.0.0.7:5062->10.0.0.5:5070", "10.0.0.5:5070->10.0.0.7:5062"},
		},
		{
			name: "Request-URI alone, port 5060 by default",
			log:  rx(phone, sipReq("OPTIONS", "sip:10.0.0.5", "10.0.0.7:5062", "", "o1", 1)),
			want: []string{"10.0.0.7:5062->10.0.0.5:5060"},
		},
		{
			name: "sips Request-URI: port 5061 by default",
			log:  rx(phone, sipReq("OPTIONS", "sips:10.0.0.5", "10.0.0.7:5062", "", "o1", 1)),
			want: []string{"10.0.0.7:5062->10.0.0.5:5061"},
		},
		{
			name: "received= on its own Via when the sent-by is a name",
			log: tx(gw, sipReq("OPTIONS", "sip:192.0.2.9", "pbx.example.com", "", "o1", 1)) +
				rx(gw, sipResp("200 OK", "pbx.example.com;received=198.51.100.4;rport=40000", "", "o1", 1, "OPTIONS")),
			want: []string{"198.51.100.4:40000->192.0.2.9:5060", "192.0.2.9:5060->198.51.100.4:40000"},
		},
		{
			name: "a registrar's 200 and a 302 do not name the box",
			log: rx(phone, sipReq("REGISTER", "sip:example.com", "10.0.0.7:5062", "sip:a@10.0.0.7:5062", "r1", 1)) +
				tx(phone, sipResp("200 OK", "10.0.0.7:5062", "sip:a@10.0.0.7:5062", "r1", 1, "REGISTER")) +
				rx(phone, sipReq("INVITE", "sip:b@example.com", "10.0.0.7:5062", "", "c1", 1)) +
				tx(phone, sipResp("302 Moved Temporarily", "10.0.0.7:5062", "sip:b@192.0.2.50", "c1", 1, "INVITE")),
			want: []string{"10.0.0.7:5062->?", "?->10.0.0.7:5062", "10.0.0.7:5062->?", "?->10.0.0.7:5062"},
			warn: "textlog: logging box's own address unknown: asterisk log: no IP literal in its own Via, its Contact or the Request-URIs it received names it; 4 messages from line 2 keep an unknown side",
		},
		{
			name: "two addresses in its own Via to one far end: unknown, the Via messages keep theirs",
			log: tx(gw, sipReq("OPTIONS", "sip:192.0.2.9", "10.0.0.5:5060", "", "o1", 1)) +
				tx(gw, sipReq("OPTIONS", "sip:192.0.2.9", "10.0.0.6:5060", "", "o2", 1)) +
				rx(gw, sipReq("INVITE", "sip:b@10.0.0.5", "192.0.2.9:5060", "", "c1", 1)),
			want: []string{"10.0.0.5:5060->192.0.2.9:5060", "10.0.0.6:5060->192.0.2.9:5060", "192.0.2.9:5060->?"},
			warn: "textlog: logging box's own address unknown: asterisk log: its own Via names several addresses (10.0.0.5:5060, 10.0.0.6:5060) in messages with 192.0.2.9:5060; 1 messages from line 20 keep an unknown side",
		},
		{
			// FreeSWITCH style: the phones on the internal profile (5060),
			// the gateway on the external one (5080)
			name: "one address per far end",
			log: rx(phone, sipReq("INVITE", "sip:b@10.0.0.5", "10.0.0.7:5062", "", "a1", 1)) +
				tx(phone, sipResp("200 OK", "10.0.0.7:5062", "sip:b@10.0.0.5:5060", "a1", 1, "INVITE")) +
				tx(gw, sipReq("INVITE", "sip:b@192.0.2.9", "10.0.0.5:5080", "sip:fs@10.0.0.5:5080", "b1", 1)) +
				rx(gw, sipResp("200 OK", "10.0.0.5:5080", "sip:b@192.0.2.9", "b1", 1, "INVITE")),
			want: []string{"10.0.0.7:5062->10.0.0.5:5060", "10.0.0.5:5060->10.0.0.7:5062", "10.0.0.5:5080->192.0.2.9:5060", "192.0.2.9:5060->10.0.0.5:5080"},
		},
		{
			name: "a far end without evidence gets the section's address",
			log: tx(gw, sipReq("OPTIONS", "sip:192.0.2.9", "10.0.0.5:5060", "", "o1", 1)) +
				rx(phone, sipReq("INVITE", "sip:b@pbx.example.com", "10.0.0.7:5062", "", "c1", 1)),
			want: []string{"10.0.0.5:5060->192.0.2.9:5060", "10.0.0.7:5062->10.0.0.5:5060"},
		},
		{
			name: "the Via of a response it sent is the far end's, not evidence",
			log: rx(phone, sipReq("INVITE", "sip:b@pbx.example.com", "10.0.0.7:5062", "", "c1", 1)) +
				tx(phone, sipResp("100 Trying", "10.0.0.7:5062", "", "c1", 1, "INVITE")),
			want: []string{"10.0.0.7:5062->?", "?->10.0.0.7:5062"},
			warn: "textlog: logging box's own address unknown: asterisk log: no IP literal in its own Via, its Contact or the Request-URIs it received names it; 2 messages from line 2 keep an unknown side",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msgs, st, err := readString(t, "x", tc.log, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range msgs {
				got = append(got, addrOrQ(m.Src)+"->"+addrOrQ(m.Dst))
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("got  %s\nwant %s", strings.Join(got, " "), strings.Join(tc.want, " "))
			}
			var warns []string
			for _, w := range st.Warnings {
				if errors.Is(w.Err, ErrLocalUnknown) {
					warns = append(warns, w.Err.Error())
				} else {
					t.Errorf("warning %v", w.Err)
				}
			}
			if strings.Join(warns, "\n") != tc.warn {
				t.Errorf("warnings %q, want %q", warns, tc.warn)
			}
		})
	}
}

func addrOrQ(a interface {
	IsValid() bool
	String() string
}) string {
	if !a.IsValid() {
		return "?"
	}
	return a.String()
}

// TestLocalPerSection: two boxes in one file (an Asterisk and a FreeSWITCH
// section) each get their own address, and messages keep the line order
// although the box's address is known only at the end.
func TestLocalPerSection(t *testing.T) {
	inv := sipReq("INVITE", "sip:b@10.0.0.9", "10.0.0.7:5062", "", "f1", 1)
	fs := fmt.Sprintf("recv %d bytes from udp/[10.0.0.7]:5062 at 12:00:00.000000:\n   ", len(inv)+strings.Count(inv, "\n")+2) + strings.Repeat("-", 72) + "\n   " +
		strings.ReplaceAll(inv, "\n", "\n   ") + "\n   " + strings.Repeat("-", 72) + "\n"
	text := rx("10.0.0.7:5062", sipReq("INVITE", "sip:b@pbx.example.com", "10.0.0.7:5062", "", "a1", 1)) +
		"15:00:00.000000 IP 10.1.1.1.5060 > 10.1.1.2.5060: SIP, length: 300\n\t" +
		strings.ReplaceAll(strings.TrimSuffix(optionsMsg, "\n"), "\n", "\n\t") + "\n" +
		fs +
		tx("10.0.0.7:5062", sipReq("BYE", "sip:a@10.0.0.7:5062", "10.0.0.5:5060", "", "a1", 2))
	msgs, st, err := readString(t, "x", text, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range msgs {
		got = append(got, fmt.Sprintf("%d %s->%s", m.Frame, addrOrQ(m.Src), addrOrQ(m.Dst)))
	}
	want := []string{
		"2 10.0.0.7:5062->10.0.0.5:5060",  // Asterisk: its BYE's Via
		"11 10.1.1.1:5060->10.1.1.2:5060", // tcpdump: as printed
		"21 10.0.0.7:5062->10.0.0.9:5060", // FreeSWITCH: the Request-URI it received
		"31 10.0.0.5:5060->10.0.0.7:5062", // Asterisk
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(st.Warnings) != 0 {
		t.Errorf("warnings %v", st.Warnings)
	}
}

// TestLocalHeldBound: past maxHeld messages waiting for the box's address,
// the ones held are delivered with the evidence seen so far.
func TestLocalHeldBound(t *testing.T) {
	var b strings.Builder
	b.WriteString(tx("192.0.2.9:5060", sipReq("OPTIONS", "sip:192.0.2.9", "10.0.0.5:5060", "", "o0", 1)))
	for i := 1; i <= maxHeld+10; i++ {
		b.WriteString(rx("192.0.2.9:5060", sipReq("OPTIONS", "sip:x@example.com", "192.0.2.9:5060", "", fmt.Sprint("o", i), 1)))
	}
	var n, known int
	h := handlerFunc(func(m *capture.Message) {
		n++
		if m.Dst.String() == "10.0.0.5:5060" || m.Src.String() == "10.0.0.5:5060" {
			known++
		}
	})
	st, err := Read(context.Background(), "x", strings.NewReader(b.String()), Options{}, h)
	if err != nil {
		t.Fatal(err)
	}
	if n != maxHeld+11 || known != n || st.SIPMessages != n || len(st.Warnings) != 0 {
		t.Errorf("%d messages, %d with the box's address, stats %d, warnings %v", n, known, st.SIPMessages, st.Warnings)
	}
}

type handlerFunc func(*capture.Message)

func (f handlerFunc) SIP(m *capture.Message) { f(m) }
func (handlerFunc) Media(*capture.Media)     {}
