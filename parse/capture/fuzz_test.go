package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sipflow/sipflow/parse/hep"
	"github.com/sipflow/sipflow/parse/packet"
	"github.com/sipflow/sipflow/parse/sip"
	"github.com/sipflow/sipflow/parse/ws"
)

// seedCaptures are small captures covering every path of Read.
func seedCaptures() map[string][]byte {
	h := hep.Packet{Src: mustAddrPort("192.0.2.1:5060"), Dst: mustAddrPort("192.0.2.2:5060"), Proto: 17, ProtoType: 1, Payload: []byte(ok200)}
	wsStream := []byte("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n")
	wsStream = ws.AppendFrame(wsStream, &ws.Frame{Fin: true, Opcode: ws.OpText, Masked: true, Key: [4]byte{1, 2, 3, 4}}, []byte(inv))
	return map[string][]byte{
		"udp": buildPcap([]frame{
			{src: "10.0.0.1:5060", dst: "10.0.0.2:5060", payload: inv + ok200},
			{at: 1, src: "10.0.0.1:5060", dst: "10.0.0.2:5060", payload: inv + ok200},
			{at: 2, src: "10.0.0.1:4000", dst: "10.0.0.2:4000", payload: rtp(1)},
			{at: 3, src: "10.0.0.1:5060", dst: "10.0.0.2:5060", payload: stun()},
		}),
		"tcp": buildPcap([]frame{
			{src: "10.0.0.1:1", dst: "10.0.0.2:5060", tcp: true, seq: 9, flags: packet.FlagSYN},
			{at: 1, src: "10.0.0.1:1", dst: "10.0.0.2:5060", tcp: true, seq: 30, payload: inv[20:]},
			{at: 2, src: "10.0.0.1:1", dst: "10.0.0.2:5060", tcp: true, seq: 10, payload: inv[:20]},
			{at: 3, src: "10.0.0.1:1", dst: "10.0.0.2:5060", tcp: true, seq: 10 + uint32(len(inv)), flags: packet.FlagFIN, payload: bye},
		}),
		"ws":  buildPcap([]frame{{src: "10.0.0.1:1", dst: "10.0.0.2:80", tcp: true, seq: 1, payload: string(wsStream)}}),
		"hep": buildPcap([]frame{{src: "10.0.0.1:1", dst: "10.0.0.2:9060", payload: string(hep.AppendHEP3(nil, &h))}}),
		"tls": buildPcap([]frame{{src: "10.0.0.1:1", dst: "10.0.0.2:5061", tcp: true, seq: 1, payload: "\x16\x03\x01\x00\x01x"}}),
	}
}

// TestWriteFuzzSeeds writes the seed captures to testdata/fuzz/FuzzRead
// when SIPFLOW_WRITE_SEEDS is set.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("SIPFLOW_WRITE_SEEDS") == "" {
		t.Skip("set SIPFLOW_WRITE_SEEDS=1 to rewrite the seeds")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzRead")
	os.MkdirAll(dir, 0o755)
	for name, b := range seedCaptures() {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(b)))
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzRead feeds arbitrary bytes as a capture file. Property: no panic
// reaches the caller or is recovered (a recovered one is a bug too); the
// counts match what the handler saw; every message owns a SIP start line
// and names a frame that was read; an error is only returned for a file
// that is not a capture; reusing Messages changes nothing; an Inline
// handler sees what a serial one does, in the same order; and a PeekFilter
// is told the truth about each message.
func FuzzRead(f *testing.F) {
	for _, b := range seedCaptures() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c := &counter{keep: true}
		st, err := Read(context.Background(), "fuzz", bytes.NewReader(b), Options{Media: true, DuplicateWindow: time.Millisecond}, c)
		if err != nil {
			if st.Frames != 0 || c.sip != 0 {
				t.Fatalf("error %v after %d frames", err, st.Frames)
			}
			return
		}
		for _, w := range st.Warnings {
			if errors.Is(w.Err, ErrPanic) {
				t.Fatalf("recovered panic: %v", w.Err)
			}
		}
		if len(st.Warnings) > MaxWarnings {
			t.Fatalf("%d warnings", len(st.Warnings))
		}
		if st.SIPMessages != c.sip || st.MediaPackets != c.media {
			t.Fatalf("stats %+v, handler saw %d SIP, %d media", st, c.sip, c.media)
		}
		for _, m := range c.msgs {
			if m.Frame < 1 || m.Frame > st.Frames || len(m.SIP.Raw) == 0 || m.File != "fuzz" {
				t.Fatalf("message frame %d of %d, %d bytes", m.Frame, st.Frames, len(m.SIP.Raw))
			}
		}
		// Reusing Messages changes nothing a copying handler sees.
		var plain, reused copier
		Read(context.Background(), "fuzz", bytes.NewReader(b), Options{}, &plain)
		Read(context.Background(), "fuzz", bytes.NewReader(b), Options{ReuseMessages: true}, &reused)
		if !slices.Equal(plain.got, reused.got) {
			t.Fatalf("reuse: %d messages differ from %d (first at %d)", len(reused.got), len(plain.got), firstDiff(reused.got, plain.got))
		}
		// An Inline handler sees the same messages (their light parse in
		// Peek, their full parse in SIP) and media, in the same order.
		var serial, inline peekLog
		Read(context.Background(), "fuzz", bytes.NewReader(b), Options{Media: true, ReuseMessages: true}, Serial(&serial))
		Read(context.Background(), "fuzz", bytes.NewReader(b), Options{Media: true, ReuseMessages: true}, &inline)
		if !slices.Equal(serial.order, inline.order) || !slices.Equal(serial.sips, inline.sips) {
			t.Fatalf("inline: %d items, %d messages; serial: %d, %d (first difference at %d)",
				len(inline.order), len(inline.sips), len(serial.order), len(serial.sips), firstDiff(inline.order, serial.order))
		}
		// One that checks media for copies itself, with the reader's check
		// (OwnDuplicates), sees the same and the reader counts the same.
		var theirs peekLog
		var own ownLog
		st1, _ := Read(context.Background(), "fuzz", bytes.NewReader(b), Options{Media: true}, &theirs)
		st2, _ := Read(context.Background(), "fuzz", bytes.NewReader(b), Options{Media: true}, &own)
		if !slices.Equal(own.order, theirs.order) || st1.Duplicates != st2.Duplicates || st1.MediaPackets != st2.MediaPackets {
			t.Fatalf("own check: %d items, %d copies, %d media; reader's: %d, %d, %d",
				len(own.order), st2.Duplicates, st2.MediaPackets, len(theirs.order), st1.Duplicates, st1.MediaPackets)
		}
		// A PeekFilter is told the truth about each message: its start
		// line, its CSeq method when the reader names one, and a body
		// whenever the parse finds one.
		var pf peekFilterCheck
		pf.t = t
		Read(context.Background(), "fuzz", bytes.NewReader(b), Options{Media: true}, &pf)
	})
}

// peekFilterCheck is a PeekFilter that wants every message, and checks in
// Peek, which the reader calls next for the same message, what PeekWants
// was told.
type peekFilterCheck struct {
	peekLog
	t    *testing.T
	last PeekInfo
}

func (c *peekFilterCheck) PeekWants(pi PeekInfo) bool {
	c.last = pi
	return true
}

func (c *peekFilterCheck) Peek(m *Message) {
	pi, s := c.last, &m.SIP
	if pi.Request != s.Request || pi.Request && pi.Method != s.Method || !pi.Request && pi.Status != s.StatusCode ||
		pi.CSeqMethod != sip.MethodOther && pi.CSeqMethod != s.CSeqMethod || len(s.Body) > 0 && !pi.Body {
		c.t.Fatalf("PeekWants(%+v) for a message of start %q, CSeq %v, %d bytes of body", pi, s.Raw[:min(len(s.Raw), 30)], s.CSeqMethod, len(s.Body))
	}
}

// ownLog is a peekLog that checks media for copies itself
// (OwnDuplicates), with Dups.Seen, and logs what is not one.
type ownLog struct{ peekLog }

func (*ownLog) OwnDuplicates() bool { return true }
func (l *ownLog) Media(p *Media) {
	if !p.Dups.Seen(p) {
		l.peekLog.Media(p)
	}
}

// peekLog is an Inline handler that logs what Peek and Media see, in order,
// and what SIP sees, with the fields the light parse must read as the full
// one does.
type peekLog struct{ order, sips []string }

func sipKey(m *Message) string {
	s := &m.SIP
	return fmt.Sprintf("%d %s %s %d %s %d %s %d %t", m.Frame, m.Src, s.CallID, s.CSeq, s.CSeqMethodName, s.StatusCode, s.From.Tag, len(s.Body), s.SDP != nil)
}

func (l *peekLog) Peek(m *Message) { l.order = append(l.order, "sip "+sipKey(m)) }
func (l *peekLog) SIP(m *Message)  { l.sips = append(l.sips, sipKey(m)) }
func (l *peekLog) Media(p *Media) {
	l.order = append(l.order, fmt.Sprintf("media %d %s %d", p.Frame, p.Src, len(p.Payload)))
}
