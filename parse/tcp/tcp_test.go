package tcp

import (
	"bytes"
	"fmt"
	"math/rand"
	"net/netip"
	"testing"
	"time"
)

var (
	cli = netip.MustParseAddrPort("10.0.0.1:40000")
	srv = netip.MustParseAddrPort("10.0.0.2:5060")
	t0  = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
)

// collector consumes a fixed number of bytes at a time (0: everything) and
// records the frame of each chunk's last byte.
type collector struct {
	chunk  int
	got    map[Key][]byte
	frames []int
	gaps   []int
	closed []Key
}

func (c *collector) Data(s *Stream) {
	if c.got == nil {
		c.got = map[Key][]byte{}
	}
	for {
		b := s.Buffered()
		n := len(b)
		if c.chunk > 0 {
			if n < c.chunk {
				return
			}
			n = c.chunk
		}
		if n == 0 {
			return
		}
		if g := s.GapAt(); g >= 0 {
			c.gaps = append(c.gaps, int(s.Offset())+g)
		}
		f, _ := s.FrameAt(n - 1)
		c.frames = append(c.frames, f)
		c.got[s.Key] = append(c.got[s.Key], b[:n]...)
		s.Consume(n)
	}
}

func (c *collector) Closed(s *Stream) { c.closed = append(c.closed, s.Key) }

func TestInOrderAndRetransmit(t *testing.T) {
	c := &collector{chunk: 4}
	a := NewAssembler(Config{}, c)
	a.Add(t0, 1, cli, srv, 1000, FlagSYN, nil)
	a.Add(t0, 2, cli, srv, 1001, FlagACK, []byte("abc"))
	a.Add(t0, 3, cli, srv, 1001, FlagACK, []byte("abc")) // retransmission
	a.Add(t0, 4, cli, srv, 1002, FlagACK, []byte("bcdef"))
	a.Add(t0, 5, cli, srv, 1007, FlagACK|FlagFIN, []byte("gh"))
	if got := string(c.got[Key{cli, srv}]); got != "abcdefgh" {
		t.Errorf("got %q", got)
	}
	// "abcd" completes in frame 4, "efgh" in frame 5.
	if fmt.Sprint(c.frames) != "[4 5]" || len(c.closed) != 1 || a.Len() != 0 {
		t.Errorf("frames %v closed %v len %d", c.frames, c.closed, a.Len())
	}
	if st := a.Stats(); st.Retransmitted != 1 || st.Streams != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestOutOfOrder(t *testing.T) {
	c := &collector{}
	a := NewAssembler(Config{}, c)
	a.Add(t0, 1, cli, srv, 500, FlagACK, []byte("0123")) // mid-flow pickup
	a.Add(t0, 2, cli, srv, 508, FlagACK, []byte("89"))
	a.Add(t0, 3, cli, srv, 506, FlagACK, []byte("67"))
	if got := string(c.got[Key{cli, srv}]); got != "0123" {
		t.Fatalf("before fill: %q", got)
	}
	a.Add(t0, 4, cli, srv, 503, FlagACK, []byte("3456")) // overlaps both sides
	if got := string(c.got[Key{cli, srv}]); got != "0123456789" {
		t.Errorf("got %q", got)
	}
	if fmt.Sprint(c.frames) != "[1 4]" {
		t.Errorf("frames %v", c.frames)
	}
}

func TestGapSkip(t *testing.T) {
	c := &collector{}
	a := NewAssembler(Config{MaxBuffered: 10}, c)
	a.Add(t0, 1, cli, srv, 0, FlagSYN, nil)
	a.Add(t0, 2, cli, srv, 1, 0, []byte("abc"))
	a.Add(t0, 3, cli, srv, 10, 0, []byte("xyz")) // hole of 6 bytes
	a.Add(t0, 4, cli, srv, 13, 0, []byte("1234567890"))
	if got := string(c.got[Key{cli, srv}]); got != "abcxyz1234567890" {
		t.Errorf("got %q", got)
	}
	if fmt.Sprint(c.gaps) != "[3]" || a.Stats().Gaps != 1 {
		t.Errorf("gaps %v stats %+v", c.gaps, a.Stats())
	}
	// A late hole filler is now old data.
	a.Add(t0, 5, cli, srv, 4, 0, []byte("def"))
	if got := string(c.got[Key{cli, srv}]); got != "abcxyz1234567890" {
		t.Errorf("after late filler: %q", got)
	}
}

type hoarder struct{ closed [][]byte }

func (h *hoarder) Data(s *Stream)   {}
func (h *hoarder) Closed(s *Stream) { h.closed = append(h.closed, bytes.Clone(s.Buffered())) }

func TestOverflowAndExpiry(t *testing.T) {
	h := &hoarder{}
	a := NewAssembler(Config{MaxBuffered: 8, IdleTimeout: time.Second, MaxStreams: 2}, h)
	a.Add(t0, 1, cli, srv, 0, 0, []byte("12345"))
	a.Add(t0, 2, cli, srv, 5, 0, []byte("6789")) // consumer keeps 9 > 8: discarded
	if st := a.Stats(); st.DiscardedBytes != 9 || st.Gaps != 1 {
		t.Errorf("stats %+v", st)
	}
	other := netip.MustParseAddrPort("10.0.0.3:1")
	a.Add(t0.Add(500*time.Millisecond), 3, other, srv, 0, 0, []byte("o"))
	a.Add(t0.Add(1500*time.Millisecond), 4, srv, cli, 0, 0, []byte("r")) // expires cli->srv
	if st := a.Stats(); st.Expired != 1 || a.Len() != 2 {
		t.Errorf("expiry: stats %+v len %d", st, a.Len())
	}
	a.Add(t0.Add(1500*time.Millisecond), 5, srv, other, 0, 0, []byte("e")) // evicts other->srv
	if st := a.Stats(); st.Evicted != 1 || a.Len() != 2 {
		t.Errorf("eviction: stats %+v len %d", st, a.Len())
	}
	a.Flush()
	if a.Len() != 0 || len(h.closed) != 4 || string(h.closed[1]) != "o" {
		t.Errorf("flush: len %d closed %q", a.Len(), h.closed)
	}
}

func TestRSTClosesBoth(t *testing.T) {
	c := &collector{}
	a := NewAssembler(Config{}, c)
	a.Add(t0, 1, cli, srv, 0, 0, []byte("a"))
	a.Add(t0, 2, srv, cli, 0, 0, []byte("b"))
	a.Add(t0, 3, srv, cli, 1, FlagRST, nil)
	if a.Len() != 0 || len(c.closed) != 2 {
		t.Errorf("len %d closed %v", a.Len(), c.closed)
	}
}

// FuzzTCP checks the reassembly property: any segmentation, permutation and
// duplication of a stream's bytes (after the SYN) delivers exactly the
// original bytes, once, with no gap.
func FuzzTCP(f *testing.F) {
	f.Add([]byte("INVITE sip:a@b SIP/2.0\r\nContent-Length: 0\r\n\r\n"), int64(1), uint32(0xfffffff0), true, true)
	f.Add(bytes.Repeat([]byte("0123456789"), 300), int64(7), uint32(12345), false, true)
	f.Add([]byte("x"), int64(3), uint32(0), true, false)
	f.Fuzz(fuzzBody)
}

func fuzzBody(t *testing.T, data []byte, seed int64, isn uint32, syn, fin bool) {
	{
		if len(data) == 0 || len(data) > 8192 {
			return
		}
		r := rand.New(rand.NewSource(seed))
		type seg struct{ a, b int }
		var segs []seg
		for pos := 0; pos < len(data); {
			a := max(0, pos-r.Intn(8)) // overlap the previous segment a little
			b := min(len(data), pos+1+r.Intn(300))
			segs = append(segs, seg{a, b})
			pos = b
		}
		for i := r.Intn(len(segs) + 1); i > 0; i-- { // duplicates
			segs = append(segs, segs[r.Intn(len(segs))])
		}
		first := segs[0]
		r.Shuffle(len(segs), func(i, j int) { segs[i], segs[j] = segs[j], segs[i] })
		c := &collector{chunk: 1 + r.Intn(100)}
		a := NewAssembler(Config{}, c)
		frame := 1
		if syn {
			a.Add(t0, frame, cli, srv, isn, FlagSYN, nil)
			frame++
		} else {
			// Mid-flow pickup starts at the first segment seen: make it the
			// stream's first bytes.
			a.Add(t0, frame, cli, srv, isn+1, FlagACK, data[first.a:first.b])
			frame++
		}
		finAt := r.Intn(len(segs) + 1)
		for i, s := range segs {
			if fin && i == finAt {
				a.Add(t0, frame, cli, srv, isn+1+uint32(len(data)), FlagFIN|FlagACK, nil)
				frame++
			}
			a.Add(t0, frame, cli, srv, isn+1+uint32(s.a), FlagACK, data[s.a:s.b])
			frame++
		}
		if fin && finAt == len(segs) {
			a.Add(t0, frame, cli, srv, isn+1+uint32(len(data)), FlagFIN|FlagACK, nil)
		}
		if fin && a.Len() != 0 {
			t.Fatalf("FIN seen and every byte delivered, but %d streams open", a.Len())
		}
		// The collector consumes in chunks: flush the remainder.
		a.Flush()
		got := c.got[Key{cli, srv}]
		want := data[:len(data)/c.chunk*c.chunk]
		if !bytes.Equal(got, want) || len(c.gaps) != 0 || a.Stats().Gaps != 0 {
			t.Fatalf("got %d bytes, want %d (gaps %v)", len(got), len(want), c.gaps)
		}
		for _, fr := range c.frames {
			if fr < 1 || fr > frame {
				t.Fatalf("frame %d out of range", fr)
			}
		}
	}
}
