package redact

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/convert/call"
	"github.com/sipflow/sipflow/parse/capture"
	"github.com/sipflow/sipflow/parse/sip"
)

func TestParseSpec(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want Options
		err  error
	}{
		{"", Options{Credentials: true}, nil},
		{"credentials", Options{Credentials: true}, nil},
		{"numbers", Options{Credentials: true, Numbers: true}, nil},
		{"numbers, IPS", Options{Credentials: true, Numbers: true, IPs: true}, nil},
		{"all", Options{Credentials: true, Numbers: true, IPs: true}, nil},
		{"names", Options{}, ErrBadSpec},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := ParseSpec(tc.spec)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

const invite = "INVITE sip:+15551234567@10.0.0.2:5060 SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1\r\n" +
	"From: \"Alice 4930123456\" <sip:+4930123456@10.0.0.1>;tag=12345678\r\n" +
	"To: <tel:+1-555-1234567>\r\n" +
	"Call-ID: 4930123456-abc@10.0.0.1\r\n" +
	"CSeq: 1 INVITE\r\n" +
	"Authorization: Digest username=\"alice\", realm=\"x\", nonce=\"n0nce\", uri=\"sip:10.0.0.2\", response=\"deadbeef\", cnonce=\"c1\", qop=auth\r\n" +
	"Contact: <sip:alice@[2001:db8:aa::5]:5060>\r\n" +
	"Content-Type: application/sdp\r\n" +
	"Content-Length: 53\r\n" +
	"\r\n" +
	"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\ns=-\r\n"

func testCall(t *testing.T) *call.Call {
	t.Helper()
	m := &capture.Message{File: "x.pcap", Frame: 1, Time: time.Unix(0, 0), Src: netip.MustParseAddrPort("10.0.0.1:5060"), Dst: netip.MustParseAddrPort("10.0.0.2:5060")}
	if err := sip.Parse([]byte(invite), &m.SIP); err != nil {
		t.Fatal(err)
	}
	if len(m.SIP.Problems) > 0 {
		t.Fatalf("fixture has problems: %v", m.SIP.Problems)
	}
	var calls []*call.Call
	b := call.NewBuilder(call.Options{KeepMsgs: true, KeepFull: func(string) bool { return true }}, func(c *call.Call) { calls = append(calls, c) })
	b.Add(m)
	b.Flush()
	return calls[0]
}

func TestApply(t *testing.T) {
	for _, tc := range []struct {
		name    string
		o       Options
		want    []string // in the redacted raw text
		notWant []string
	}{
		{"credentials", Options{Credentials: true},
			[]string{`nonce="REDACTED"`, `response="REDACTED"`, `cnonce="REDACTED"`, `username="alice"`, "+4930123456"},
			[]string{"deadbeef", "n0nce"}},
		{"numbers", Options{Credentials: true, Numbers: true},
			[]string{"sip:+xxxxxxxx567@10.0.0.2", `"Alice xxxxxxx456" <sip:+xxxxxxx456@10.0.0.1>;tag=12345678`, "tel:+x-xxx-xxxx567", "Call-ID: xxxxxxx456-abc@10.0.0.1"},
			[]string{"4930123456", "5551234567"}},
		{"ips", Options{IPs: true},
			[]string{"Via: SIP/2.0/UDP 192.0.2.1:5060", "c=IN IP4 192.0.2.1", "sip:+15551234567@192.0.2.2:5060", "[2001:db8::1]:5060", "Content-Length: 54", `uri="sip:192.0.2.2"`},
			[]string{"10.0.0.1", "10.0.0.2", "2001:db8:aa::5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testCall(t)
			orig := string(c.Msgs[0].Full.SIP.Raw)
			d := Apply(c, tc.o)
			raw := string(d.Msgs[0].Full.SIP.Raw)
			for _, w := range tc.want {
				if !strings.Contains(raw, w) {
					t.Errorf("redacted text lacks %q:\n%s", w, raw)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(raw, w) {
					t.Errorf("redacted text still holds %q", w)
				}
			}
			if string(c.Msgs[0].Full.SIP.Raw) != orig {
				t.Error("Apply modified its input")
			}
			if p := d.Msgs[0].Full.SIP.Problems; len(p) > 0 {
				t.Errorf("redacted message does not parse cleanly: %v", p)
			}
		})
	}
}

func TestModelFields(t *testing.T) {
	c := testCall(t)
	d := Apply(c, Options{Credentials: true, Numbers: true, IPs: true})
	m := d.Msgs[0]
	if m.Src != netip.MustParseAddrPort("192.0.2.1:5060") || m.Dst != netip.MustParseAddrPort("192.0.2.2:5060") {
		t.Errorf("addresses %v -> %v", m.Src, m.Dst)
	}
	if d.From.User != "+xxxxxxx456" || d.From.Display != "Alice xxxxxxx456" {
		t.Errorf("From = %+v", d.From)
	}
	if d.CallIDs[0] != "xxxxxxx456-abc@192.0.2.1" || m.CallID != d.CallIDs[0] {
		t.Errorf("Call-IDs %q / %q", d.CallIDs[0], m.CallID)
	}
	if !strings.Contains(m.SDP, "192.0.2.1:4000") {
		t.Errorf("SDP summary %q", m.SDP)
	}
	if d.Legs[0].A != m.Src {
		t.Errorf("leg A %v, message source %v", d.Legs[0].A, m.Src)
	}
	// Stable across calls of one Redactor.
	r := New(Options{IPs: true})
	a := r.Call(c).Msgs[0].Src
	b := r.Call(c).Msgs[0].Src
	if a != b {
		t.Errorf("same address, two pseudonyms: %v %v", a, b)
	}
}

func TestDigits(t *testing.T) {
	c := testCall(t)
	d := Apply(c, Options{Numbers: true, Digits: 5})
	if d.From.User != "+xxxxx23456" {
		t.Errorf("From.User = %q", d.From.User)
	}
	d = Apply(c, Options{Numbers: true, Digits: -1})
	if d.From.User != "+xxxxxxxxxx" {
		t.Errorf("From.User = %q", d.From.User)
	}
}

func TestPseudonyms(t *testing.T) {
	if got := pseudo4(0).String(); got != "192.0.2.1" {
		t.Errorf("pseudo4(0) = %s", got)
	}
	if got := pseudo4(254).String(); got != "198.51.100.1" {
		t.Errorf("pseudo4(254) = %s", got)
	}
	if got := pseudo4(762).String(); got != "100.64.0.1" {
		t.Errorf("pseudo4(762) = %s", got)
	}
	if got := pseudo6(0).String(); got != "2001:db8::1" {
		t.Errorf("pseudo6(0) = %s", got)
	}
}

// FuzzText: redacting text with IPs never leaves an IPv4 literal of the
// input that is not a pseudonym, and is stable.
func FuzzText(f *testing.F) {
	f.Add("Via: SIP/2.0/UDP 10.1.2.3:5060;received=172.16.0.9")
	f.Add("c=IN IP6 fe80::1 o=- 1 1 IN IP4 8.8.8.8 12:34:56.789")
	f.Fuzz(func(t *testing.T, s string) {
		r := New(Options{IPs: true, Numbers: true})
		a := r.Text(s)
		if b := r.Text(s); a != b {
			t.Fatalf("not stable: %q then %q", a, b)
		}
	})
}
