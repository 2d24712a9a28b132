package sip

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseURI(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want URI
		err  error
	}{
		{"sip full", "sip:alice:secret@atlanta.com:5061;transport=tcp?subject=x",
			URI{Raw: "sip:alice:secret@atlanta.com:5061;transport=tcp?subject=x", Scheme: "sip", User: "alice", Password: "secret", Host: "atlanta.com", Port: 5061, Params: "transport=tcp", Headers: "subject=x"}, nil},
		{"sips upper-case scheme", "SIPS:bob@biloxi.com", URI{Raw: "SIPS:bob@biloxi.com", Scheme: "sips", User: "bob", Host: "biloxi.com"}, nil},
		{"host only", "sip:10.0.0.1", URI{Raw: "sip:10.0.0.1", Scheme: "sip", Host: "10.0.0.1"}, nil},
		{"ipv6 with port", "sip:bob@[2001:db8::1]:5070;lr", URI{Raw: "sip:bob@[2001:db8::1]:5070;lr", Scheme: "sip", User: "bob", Host: "2001:db8::1", Port: 5070, Params: "lr"}, nil},
		{"ipv6 loopback", "sip:[::1]", URI{Raw: "sip:[::1]", Scheme: "sip", Host: "::1"}, nil},
		{"user with params", "sip:+4930123;npdi@gw.example;user=phone", URI{Raw: "sip:+4930123;npdi@gw.example;user=phone", Scheme: "sip", User: "+4930123;npdi", Host: "gw.example", Params: "user=phone"}, nil},
		{"tel", "tel:+1-201-555-0123;phone-context=example.com", URI{Raw: "tel:+1-201-555-0123;phone-context=example.com", Scheme: "tel", User: "+1-201-555-0123", Params: "phone-context=example.com"}, nil},
		{"other scheme opaque", "urn:service:sos", URI{Raw: "urn:service:sos", Scheme: "urn"}, nil},
		{"no scheme", "bob@example.com", URI{Raw: "bob@example.com"}, ErrBadAddress},
		{"empty", "", URI{}, ErrBadAddress},
		{"bad port", "sip:bob@host:99999", URI{Raw: "sip:bob@host:99999", Scheme: "sip", User: "bob", Host: "host"}, ErrBadAddress},
		{"empty host", "sip:bob@", URI{Raw: "sip:bob@", Scheme: "sip", User: "bob"}, ErrBadAddress},
		{"unclosed v6", "sip:[::1", URI{Raw: "sip:[::1", Scheme: "sip", Host: "::1"}, ErrBadAddress},
		{"empty tel", "tel:", URI{Raw: "tel:", Scheme: "tel"}, ErrBadAddress},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseURI(tc.in)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Errorf("err = %v, want %v", err, tc.err)
			}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseAddr(t *testing.T) {
	tests := []struct {
		name                     string
		in                       string
		display, user, host, tag string
		params                   string
		err                      error
	}{
		{"quoted display", `"Bob Smith" <sip:bob@biloxi.com>;tag=a6c85cf`, "Bob Smith", "bob", "biloxi.com", "a6c85cf", "tag=a6c85cf", nil},
		{"escaped quotes", `"Bob \"the\" Smith \\ x" <sip:bob@h>`, `Bob "the" Smith \ x`, "bob", "h", "", "", nil},
		{"token display", `sipp <sip:30@127.0.0.1>;tag=1`, "sipp", "30", "127.0.0.1", "1", "tag=1", nil},
		{"multi-token display", `Good Body <sip:spa1@192.168.0.2:5062>`, "Good Body", "spa1", "192.168.0.2", "", "", nil},
		{"no display", `<sip:+4940999@10.1.1.1;user=phone>;tag=x;foo=bar`, "", "+4940999", "10.1.1.1", "x", "tag=x;foo=bar", nil},
		{"addr-spec params belong to header", `sip:30@127.0.0.1:5061;tag=99`, "", "30", "127.0.0.1", "99", "tag=99", nil},
		{"tag case-insensitive, spaces", `<sip:a@h> ; TAG = t1 `, "", "a", "h", "t1", "TAG = t1", nil},
		{"UTF-8 token display", "Jos\xc3\xa9 <sip:j@h>", "Jos\xc3\xa9", "j", "h", "", "", nil},
		{"ISO-8859-1 junk display", "\"M\xfcller \xff\" <sip:m@h>;tag=9", "M\xfcller \xff", "m", "h", "9", "tag=9", nil},
		{"backslash token display", `\"arik\" <sip:816666@voip.brurjula.net>;tag=6433ef9`, `\"arik\"`, "816666", "voip.brurjula.net", "6433ef9", "tag=6433ef9", nil},
		{"quoted display, no uri", `"Firebrick 4000" ;tag=wtbefi4r0b`, "Firebrick 4000", "", "", "wtbefi4r0b", "tag=wtbefi4r0b", ErrBadAddress},
		{"unterminated quote", `"Bob <sip:bob@h>`, "Bob <sip:bob@h>", "", "", "", "", ErrBadAddress},
		{"no closing angle", `Bob <sip:bob@h;tag=1`, "Bob", "bob", "h", "", "", ErrBadAddress},
		{"junk after angle", `<sip:bob@h> junk;tag=2`, "", "bob", "h", "2", "tag=2", ErrBadAddress},
		{"bad uri", `<bob>;tag=3`, "", "", "", "3", "tag=3", ErrBadAddress},
		{"empty", ` `, "", "", "", "", "", ErrBadAddress},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseAddr(tc.in)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Errorf("err = %v, want %v", err, tc.err)
			}
			if a.Raw != tc.in || a.Display != tc.display || a.URI.User != tc.user || a.URI.Host != tc.host || a.Tag != tc.tag || a.Params != tc.params {
				t.Errorf("got %+v", a)
			}
		})
	}
}

func TestParseVia(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Via
		err  error
	}{
		{"one", "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport",
			[]Via{{Raw: "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport", Transport: "UDP", Host: "10.0.0.1", Port: 5060, Branch: "z9hG4bK1"}}, nil},
		{"two, lower-case transport, LWS", "SIP / 2.0 / tcp  h1.example ;received=1.2.3.4;rport=7, SIP/2.0/ws [::1]:80;branch=b",
			[]Via{
				{Raw: "SIP / 2.0 / tcp  h1.example ;received=1.2.3.4;rport=7", Transport: "TCP", Host: "h1.example", Received: "1.2.3.4", RPort: 7},
				{Raw: "SIP/2.0/ws [::1]:80;branch=b", Transport: "WS", Host: "::1", Port: 80, Branch: "b"},
			}, nil},
		{"alias param", "SIP/2.0/TLS 108.60.57.218:50813;rport;branch=z9hG4bKPjoQ;alias",
			[]Via{{Raw: "SIP/2.0/TLS 108.60.57.218:50813;rport;branch=z9hG4bKPjoQ;alias", Transport: "TLS", Host: "108.60.57.218", Port: 50813, Branch: "z9hG4bKPjoQ"}}, nil},
		{"no protocol", "UDP 10.0.0.1", []Via{{Raw: "UDP 10.0.0.1"}}, ErrBadVia},
		{"bad port, good second", "SIP/2.0/UDP h:port;branch=x, SIP/2.0/UDP g;branch=y",
			[]Via{{Raw: "SIP/2.0/UDP h:port;branch=x", Transport: "UDP", Host: "h", Branch: "x"}, {Raw: "SIP/2.0/UDP g;branch=y", Transport: "UDP", Host: "g", Branch: "y"}}, ErrBadVia},
		{"bad rport", "SIP/2.0/UDP h;rport=x", []Via{{Raw: "SIP/2.0/UDP h;rport=x", Transport: "UDP", Host: "h"}}, ErrBadVia},
		{"empty", " , ", nil, ErrBadVia},
		{"no host", "SIP/2.0/UDP ;branch=1", []Via{{Raw: "SIP/2.0/UDP ;branch=1", Transport: "UDP", Branch: "1"}}, ErrBadVia},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseVia(tc.in)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Errorf("err = %v, want %v", err, tc.err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
