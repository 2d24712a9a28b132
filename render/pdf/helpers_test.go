package pdf

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/convert/call"
	"github.com/sipflow/sipflow/parse/capture"
	"github.com/sipflow/sipflow/parse/sip"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from golden file (go test -run %s -update to accept):\n--- got\n%s", p, t.Name(), diffHint(got, string(want)))
	}
}

func diffHint(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d\n got: %s\nwant: %s", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("lengths %d vs %d lines", len(g), len(w))
}

type collector struct{ b *call.Builder }

func (c *collector) SIP(m *capture.Message) { c.b.Add(m) }
func (c *collector) Media(*capture.Media)   {}

// loadCalls reads a capture of testdata/captures with full messages kept.
func loadCalls(t testing.TB, name string) []*call.Call {
	t.Helper()
	var calls []*call.Call
	b := call.NewBuilder(call.Options{KeepMsgs: true, KeepFull: func(string) bool { return true }}, func(c *call.Call) { calls = append(calls, c) })
	path := filepath.Join("..", "..", "testdata", "captures", name)
	if _, err := capture.ReadFile(context.Background(), path, capture.Options{}, &collector{b}); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	b.Flush()
	call.Sort(calls)
	return calls
}

var t0 = time.Date(2024, 3, 5, 14, 3, 7, 123456000, time.UTC)

// synth builds one call through a chain of hops (hops+1 hosts, one leg per
// hop, same Call-ID as a proxy chain does) with extra INFO transactions
// end to end on the first hop, and options to vary the parties.
type synth struct {
	hops    int
	extra   int
	from    string // display name of the caller
	callID  string
	header  string // an extra header line, verbatim
	unknown bool   // the last message has no destination
}

func (s synth) build(t testing.TB) *call.Call {
	t.Helper()
	if s.callID == "" {
		s.callID = "synth-1@example.com"
	}
	if s.from == "" {
		s.from = "Alice"
	}
	addr := func(i int) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i / 200), byte(i%200 + 1)}), 5060)
	}
	var msgs []*capture.Message
	now := t0
	frame := 0
	send := func(src, dst netip.AddrPort, text string) {
		frame++
		now = now.Add(7 * time.Millisecond)
		m := &capture.Message{File: "synth.pcap", Frame: frame, Time: now, Src: src, Dst: dst, Transport: capture.UDP}
		raw := []byte(strings.ReplaceAll(text, "\n", "\r\n"))
		if err := sip.Parse(raw, &m.SIP); err != nil {
			t.Fatalf("synth: %v\n%s", err, text)
		}
		msgs = append(msgs, m)
	}
	sdp := func(i int) string {
		a := addr(i).Addr()
		return fmt.Sprintf("v=0\no=- 1 1 IN IP4 %s\ns=-\nc=IN IP4 %s\nt=0 0\nm=audio %d RTP/AVP 0 8 101\na=rtpmap:101 telephone-event/8000\n", a, a, 20000+2*i)
	}
	req := func(i int, method string, cseq int, body, toTag string) string {
		h := fmt.Sprintf("%s sip:+15551234567@%s SIP/2.0\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-%d-%s-%d\nFrom: %q <sip:+4930123456@example.com>;tag=ft1\nTo: <sip:+15551234567@example.com>%s\nCall-ID: %s\nCSeq: %d %s\nAuthorization: Digest username=\"alice\", realm=\"example.com\", nonce=\"abc123nonce\", uri=\"sip:x\", response=\"0123456789abcdef\", cnonce=\"cn0nce\", qop=auth, nc=00000001\n%s",
			method, addr(i+1), addr(i), i, method, cseq, s.from, toTag, s.callID, cseq, method, s.header)
		if body != "" {
			return h + fmt.Sprintf("Content-Type: application/sdp\nContent-Length: %d\n\n%s", len(strings.ReplaceAll(body, "\n", "\r\n")), body)
		}
		return h + "Content-Length: 0\n\n"
	}
	resp := func(i int, code int, reason, method string, cseq int, body string) string {
		h := fmt.Sprintf("SIP/2.0 %d %s\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-%d-%s-%d\nFrom: %q <sip:+4930123456@example.com>;tag=ft1\nTo: <sip:+15551234567@example.com>;tag=tt1\nCall-ID: %s\nCSeq: %d %s\n%s",
			code, reason, addr(i), i, method, cseq, s.from, s.callID, cseq, method, s.header)
		if body != "" {
			return h + fmt.Sprintf("Content-Type: application/sdp\nContent-Length: %d\n\n%s", len(strings.ReplaceAll(body, "\n", "\r\n")), body)
		}
		return h + "Content-Length: 0\n\n"
	}
	n := s.hops
	for i := 0; i < n; i++ {
		send(addr(i), addr(i+1), req(i, "INVITE", 1, sdp(0), ""))
		send(addr(i+1), addr(i), resp(i, 100, "Trying", "INVITE", 1, ""))
	}
	for i := n - 1; i >= 0; i-- {
		send(addr(i+1), addr(i), resp(i, 180, "Ringing", "INVITE", 1, ""))
	}
	for i := n - 1; i >= 0; i-- {
		send(addr(i+1), addr(i), resp(i, 200, "OK", "INVITE", 1, sdp(n)))
	}
	for i := 0; i < n; i++ {
		send(addr(i), addr(i+1), req(i, "ACK", 1, "", ";tag=tt1"))
	}
	for k := 0; k < s.extra; k++ {
		send(addr(0), addr(1), req(0, "INFO", 2+k, "", ";tag=tt1"))
		if k%7 == 3 {
			send(addr(0), addr(1), req(0, "INFO", 2+k, "", ";tag=tt1")) // retransmission
		}
		send(addr(1), addr(0), resp(0, 200, "OK", "INFO", 2+k, ""))
	}
	for i := 0; i < n; i++ {
		dst := addr(i + 1)
		if s.unknown && i == n-1 {
			dst = netip.AddrPort{}
		}
		send(addr(i), dst, req(i, "BYE", 2+s.extra, "", ";tag=tt1"))
	}
	for i := n - 1; i >= 0; i-- {
		send(addr(i+1), addr(i), resp(i, 200, "OK", "BYE", 2+s.extra, ""))
	}
	var calls []*call.Call
	b := call.NewBuilder(call.Options{KeepMsgs: true, KeepFull: func(string) bool { return true }}, func(c *call.Call) { calls = append(calls, c) })
	for _, m := range msgs {
		b.Add(m)
	}
	b.Flush()
	call.Sort(calls)
	if len(calls) != 1 {
		t.Fatalf("synth: %d calls, want 1", len(calls))
	}
	return calls[0]
}
