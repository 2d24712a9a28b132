package text

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"github.com/sipflow/sipflow/convert/call"
	"github.com/sipflow/sipflow/convert/media"
	"github.com/sipflow/sipflow/parse/hosts"
)

// cells measures a line independently of the renderer: East Asian wide and
// fullwidth runes take 2 cells, every other rune 1.
func cells(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

// fuzzCall builds a call whose messages, labels and host names come from
// data: nHosts hosts (some of them unknown), labels of arbitrary bytes.
func fuzzCall(data []byte, nHosts int) (*call.Call, *hosts.Map) {
	nHosts = 1 + nHosts%40
	aps := make([]netip.AddrPort, nHosts)
	for i := range aps {
		if i%3 == 2 {
			aps[i] = netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i)}), uint16(5060+i))
		} else {
			aps[i] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i / 256), byte(i)}), 5060)
		}
	}
	chunks := bytes.Split(data, []byte{0xff})
	next := func(i int) string {
		if len(chunks) == 0 {
			return ""
		}
		return string(chunks[i%len(chunks)])
	}
	hm := &hosts.Map{}
	c := &call.Call{Index: 1, CallIDs: []string{next(0)}, Start: t0, End: t0.Add(time.Second), Method: next(1),
		From: call.Party{Display: next(2), User: next(3)}, To: call.Party{URI: next(4)}, FinalReason: next(5),
		ReasonHdr: next(6), EndedBy: aps[0], SetupTime: -1, PostDialDelay: time.Duration(len(data)) * time.Millisecond, TalkTime: -1}
	for i, ap := range aps {
		if i%2 == 0 {
			hm.Set(ap, next(i+7))
		}
	}
	nLegs := 1 + len(data)%3
	for i := range nLegs {
		c.Legs = append(c.Legs, call.Leg{CallID: next(i), A: aps[0], B: aps[len(aps)-1]})
	}
	now := t0
	for i, b := range data {
		if i >= 80 {
			break
		}
		src, dst := aps[int(b)%nHosts], aps[(int(b)/3+i)%nHosts]
		if b%17 == 0 {
			src = netip.AddrPort{}
		}
		if b%19 == 0 {
			dst = netip.AddrPort{}
		}
		now = now.Add(time.Duration(b) * time.Duration(b) * time.Millisecond * time.Duration(1+i%7))
		m := call.Msg{Time: now, Src: src, Dst: dst, Request: b%2 == 0, Method: next(i), StatusCode: int(b) * 3,
			Reason: next(i + 1), CSeq: uint32(b) << (i % 32), Leg: int(b) % (nLegs + 1), Retransmission: b%5 == 0,
			Problems: int(b % 3)}
		if b%4 == 0 {
			m.SDP = next(i + 2)
		}
		if b%23 == 0 {
			m.Time = time.Time{}
		}
		c.Msgs = append(c.Msgs, m)
	}
	return c, hm
}

// checkLines asserts the properties every terminal output has: each line at
// most w cells, valid UTF-8, no control character but the line end.
func checkLines(t *testing.T, what, out string, w int) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("%s: output is not valid UTF-8", what)
	}
	for i, l := range strings.Split(out, "\n") {
		if n := cells(l); n > w {
			t.Fatalf("%s: line %d is %d cells, width %d:\n%s", what, i+1, n, w, l)
		}
		for _, r := range l {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("%s: line %d holds control character %U: %q", what, i+1, r, l)
			}
		}
	}
}

func FuzzFlowWidth(f *testing.F) {
	f.Add([]byte("INVITE\xff100 Trying\xffaudio 10.0.0.1:4000 PCMU\xffalice"), 2, 80, false)
	f.Add([]byte("日本語の表示名\xff\x1b[31mred\xff\u202eevil\xffemoji 📞☎\xff\x00\x01"), 10, 20, true)
	f.Add([]byte(strings.Repeat("a very long reason phrase that goes on and on ", 5)), 39, 300, false)
	f.Add([]byte{0, 17, 19, 23, 34, 46, 255, 4, 8, 12, 200}, 3, 33, false)
	f.Fuzz(func(t *testing.T, data []byte, nHosts int, w int, ascii bool) {
		if nHosts < 0 {
			nHosts = -(nHosts + 1)
		}
		if w < 0 {
			w = -(w + 1)
		}
		w = 20 + w%281 // 20..300
		if len(data) > 4096 {
			data = data[:4096]
		}
		c, hm := fuzzCall(data, nHosts)
		o := Options{Width: w, ASCII: ascii, Hosts: hm, Location: cet}
		var buf bytes.Buffer
		if err := Flow(&buf, c, o); err != nil {
			t.Fatal(err)
		}
		checkLines(t, "Flow", buf.String(), w)
		if n := strings.Count(buf.String(), "\n"); n < len(c.Msgs) {
			t.Fatalf("Flow: %d lines for %d messages", n, len(c.Msgs))
		}
		if ascii && isASCII(data) {
			// With ASCII input, ASCII mode prints ASCII only.
			for _, l := range strings.Split(buf.String(), "\n") {
				if strings.ContainsAny(l, "│─►◄┬┴┄┐┘…") {
					t.Fatalf("Unicode drawing in ASCII mode: %q", l)
				}
			}
		}
		buf.Reset()
		if err := Calls(&buf, []*call.Call{c, c}, o); err != nil {
			t.Fatal(err)
		}
		checkLines(t, "Calls", buf.String(), w)
		if n := strings.Count(buf.String(), "\n"); n != 3 {
			t.Fatalf("Calls: %d lines, want 3", n)
		}
	})
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func TestFuzzCallShape(t *testing.T) {
	c, hm := fuzzCall([]byte{0, 1, 2, 3, 17, 19}, 4)
	if len(c.Msgs) != 6 || hm.Len() != 3 {
		t.Fatalf("msgs %d hosts %d", len(c.Msgs), hm.Len())
	}
	if c.Msgs[0].Src.IsValid() || c.Msgs[0].Dst.IsValid() {
		t.Errorf("byte 0 should give an unknown party: %v", fmt.Sprint(c.Msgs[0].Src, c.Msgs[0].Dst))
	}
}

// widthIn maps any fuzzed int onto lo..hi.
func widthIn(w, lo, hi int) int {
	if w < 0 {
		w = -(w + 1)
	}
	return lo + w%(hi-lo+1)
}

// fuzzedMedia is testMedia's call with the codec name and a problem's words
// the fuzzer chose.
func fuzzedMedia(codec, detail string) (*call.Call, *media.Result, *media.CallMedia) {
	c := basicCall()
	res, cm := testMedia(c)
	for _, s := range cm.Streams {
		s.Codec = codec
	}
	cm.Problems[0].Detail = detail
	cm.Streams[1].Problems[0].Detail = detail
	return c, res, cm
}

// FuzzFlowMedia draws the media lines with a codec name, a problem's words
// and a DTMF digit taken from the input (they come off the wire): every
// line fits the width, no control character gets out, and each stream has
// its line.
func FuzzFlowMedia(f *testing.F) {
	f.Add("PCMU", "media only toward the callee (12 packets)", "5", 100, false)
	f.Add("telephone-event\x1b[2J", "\u202eevil \x00 detail 日本語", "#", 20, true)
	f.Add(strings.Repeat("G7", 80), strings.Repeat("word ", 100), "", 300, false)
	f.Fuzz(func(t *testing.T, codec, detail, digit string, w int, ascii bool) {
		w = widthIn(w, 20, 300)
		c, _, cm := fuzzedMedia(codec, detail)
		for _, s := range cm.Streams {
			s.Events = append(s.Events, media.DTMF{Digit: digit})
		}
		var buf bytes.Buffer
		if err := FlowMedia(&buf, c, cm, Options{Width: w, ASCII: ascii, Location: cet}); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		checkLines(t, "FlowMedia", out, w)
		if n := strings.Count(out, "  192.168.1."); n < len(cm.Streams) {
			t.Fatalf("%d stream lines for %d streams:\n%s", n, len(cm.Streams), out)
		}
	})
}

// FuzzRTPWidth prints the rtp table and its notes with a codec name and a
// problem's words taken from the input (they come off the wire), on any
// width from 80 columns up (below, the table's figures need more room than
// there is): every line fits, no control character gets out, and each
// stream has its row.
func FuzzRTPWidth(f *testing.F) {
	f.Add("PCMU", "media only toward the callee (12 packets)", 80, false)
	f.Add("telephone-event\x1b[2J", "\u202eevil \x00 detail 日本語", 81, true)
	f.Add(strings.Repeat("G7", 80), strings.Repeat("word", 100), 300, false)
	f.Fuzz(func(t *testing.T, codec, detail string, w int, v6 bool) {
		w = widthIn(w, 80, 300)
		c, res, cm := fuzzedMedia(codec, detail)
		if v6 {
			for _, s := range cm.Streams {
				s.Src = netip.MustParseAddrPort("[2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff]:40000")
			}
		}
		var buf bytes.Buffer
		if err := RTP(&buf, []*call.Call{c}, res, Options{Width: w, Location: cet}); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		checkLines(t, "RTP", out, w)
		if rows := strings.Split(out, "\n"); len(rows) < 1+len(cm.Streams) || !strings.HasPrefix(rows[0], "Call ") {
			t.Fatalf("%d streams:\n%s", len(cm.Streams), out)
		}
	})
}
