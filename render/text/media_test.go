package text

import (
	"bytes"
	"encoding/json"
	"io"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipflow/sipflow/convert/call"
	"github.com/sipflow/sipflow/convert/media"
)

// testMedia is the media of basicCall: a clean stream toward the callee, a
// lossy one back, a fax stream and a one-way call-level problem.
func testMedia(c *call.Call) (*media.Result, *media.CallMedia) {
	id := c.CallIDs[0]
	t0 := c.Start.Add(time.Second)
	a, b := netip.MustParseAddrPort("192.168.1.10:4000"), netip.MustParseAddrPort("192.168.1.20:5004")
	s1 := &media.Stream{CallID: id, Kind: media.KindRTP, Src: a, Dst: b, SSRC: 0x1234ABCD, Signalled: true, Media: "audio",
		PayloadType: 0, Payloads: []int{0}, Codec: "PCMU", ClockRate: 8000, First: t0, Last: t0.Add(10 * time.Second),
		Packets: 500, Expected: 500, MaxJitter: 1.25, MeanJitter: 0.5, MaxDelta: 21, R: 93.2, MOS: 4.41, RTCP: media.RTCPStats{RTTMs: -1},
		Events: []media.DTMF{{Digit: "5", Time: t0, Duration: 200 * time.Millisecond, Ended: true}}}
	s2 := &media.Stream{CallID: id, Kind: media.KindRTP, Src: b, Dst: a, SSRC: 0x00000042, Signalled: true, SRTP: true, Media: "audio",
		PayloadType: 18, Payloads: []int{18}, Codec: "G729", ClockRate: 8000, First: t0.Add(time.Millisecond), Last: t0.Add(10 * time.Second),
		Packets: 480, Expected: 500, Lost: 20, LostPct: 4, MaxJitter: 31.5, MeanJitter: 12.25, MaxDelta: 1300, R: 60.5, MOS: 3.12,
		RTCP:     media.RTCPStats{RTTMs: -1},
		Problems: []media.Problem{{Kind: media.Gap, Detail: "no packet for 1.300s"}}}
	s3 := &media.Stream{CallID: id, Kind: media.KindFax, Src: a, Dst: b, SSRC: 0, Signalled: true, Media: "image",
		First: t0.Add(2 * time.Second), Packets: 1, R: -1, MOS: -1, RTCP: media.RTCPStats{RTTMs: -1}}
	oneWay := media.Problem{Kind: media.OneWay, Time: t0, Detail: "media only toward the callee (500 packets), none toward the caller"}
	cm := &media.CallMedia{CallID: id, Streams: []*media.Stream{s1, s2, s3}, Problems: []media.Problem{oneWay, s2.Problems[0]}, Fax: true}
	res := &media.Result{Streams: cm.Streams, Calls: map[string]*media.CallMedia{id: cm}}
	return res, cm
}

func TestFlowMedia(t *testing.T) {
	c := basicCall()
	_, cm := testMedia(c)
	for _, tc := range []struct {
		name  string
		cm    *media.CallMedia
		width int
		want  []string // lines of the header, in order
		not   []string
	}{
		{"streams", cm, 120, []string{
			"Media: 3 streams (jitter: max/mean)",
			"  192.168.1.10:4000 -> 192.168.1.20:5004  PCMU  500 pkts  lost 0 (0.0%)  jitter 1.250/0.500 ms  MOS 4.41",
			"      problems: one-way  DTMF 5",
			"  192.168.1.20:5004 -> 192.168.1.10:4000  G729/SRTP  480 pkts  lost 20 (4.0%)  jitter 31.500/12.250 ms  MOS 3.12",
			"      problems: gap,one-way",
			"  192.168.1.10:4000 -> 192.168.1.20:5004  T.38 fax  1 pkt  problems: one-way",
			"  ! one-way: media only toward the callee (500 packets), none toward the caller",
		}, nil},
		{"narrow", cm, 60, []string{
			"  192.168.1.10:4000 -> 192.168.1.20:5004  PCMU  500 pkts",
			"      lost 0 (0.0%)  jitter 1.250/0.500 ms  MOS 4.41",
			"  ! one-way: media only toward the callee (500 packets),",
			"    none toward the caller",
		}, nil},
		{"none seen", &media.CallMedia{CallID: c.CallIDs[0]}, 100, []string{"Media: none seen"}, []string{"!"}},
		{"not read", nil, 100, nil, []string{"Media"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := FlowMedia(&buf, c, tc.cm, Options{Width: tc.width, Location: cet}); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			checkWidth(t, out, tc.width)
			head, _, _ := strings.Cut(out, "\n\n")
			lines := strings.Split(head, "\n")
			i := 0
			for _, l := range lines {
				if i < len(tc.want) && l == tc.want[i] {
					i++
				}
			}
			if i < len(tc.want) {
				t.Errorf("header lacks %q (in order):\n%s", tc.want[i], head)
			}
			for _, n := range tc.not {
				if strings.Contains(head, n) {
					t.Errorf("header has %q:\n%s", n, head)
				}
			}
		})
	}
	// Flow is FlowMedia without media.
	var a, b bytes.Buffer
	if err := Flow(&a, c, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := FlowMedia(&b, c, nil, Options{}); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Error("Flow and FlowMedia(nil) differ")
	}
}

func TestCallsMediaJSON(t *testing.T) {
	c := basicCall()
	res, _ := testMedia(c)
	other := proxyCall()
	var buf bytes.Buffer
	if err := CallsMediaJSON(&buf, []*call.Call{c, other}, res); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2", len(lines))
	}
	var got []CallJSON
	for _, l := range lines {
		var j CallJSON
		if err := json.Unmarshal([]byte(l), &j); err != nil {
			t.Fatal(err)
		}
		got = append(got, j)
	}
	if n := len(got[0].Streams); n != 3 {
		t.Fatalf("call 1: %d streams, want 3", n)
	}
	if got[1].Streams == nil || len(got[1].Streams) != 0 || !strings.Contains(lines[1], `"streams":[]`) {
		t.Errorf("call without media: %s", lines[1])
	}
	s := got[0].Streams[1]
	if s.Call != c.Index || s.SSRC != "0x00000042" || s.Codec != "G729" || !s.SRTP || s.Lost != 20 || s.LostPct != 4 ||
		s.MaxJitter != 31.5 || s.MOS == nil || *s.MOS != 3.12 {
		t.Errorf("stream 2: %+v", s)
	}
	wantProbs := []string{"gap: no packet for 1.300s", "one-way: media only toward the callee (500 packets), none toward the caller"}
	if strings.Join(s.Problems, "|") != strings.Join(wantProbs, "|") {
		t.Errorf("problems %q, want %q", s.Problems, wantProbs)
	}
	// The same objects as RTPJSON writes, stream for stream.
	var rtp bytes.Buffer
	if err := RTPJSON(&rtp, []*call.Call{c, other}, res); err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(strings.TrimSuffix(rtp.String(), "\n"), "\n") {
		var j StreamJSON
		if err := json.Unmarshal([]byte(l), &j); err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(j)
		b, _ := json.Marshal(got[0].Streams[i])
		if !bytes.Equal(a, b) {
			t.Errorf("stream %d:\nrtp   %s\ncalls %s", i, a, b)
		}
	}
}

// trunkMedia is n calls of two G.711 streams each, as a trunk capture
// gives: what `sipflow rtp` prints in tens of thousands of rows.
func trunkMedia(n int) ([]*call.Call, *media.Result) {
	t0 := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	res := &media.Result{Calls: map[string]*media.CallMedia{}}
	calls := make([]*call.Call, 0, n)
	for i := range n {
		id := "trunk-" + strconv.Itoa(i) + "@10.0.0.10"
		start := t0.Add(time.Duration(i) * 37 * time.Millisecond)
		a := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), uint16(10000+2*(i%20000)))
		b := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), uint16(30000+2*(i%10000)))
		cm := &media.CallMedia{CallID: id, Start: start}
		for d, ends := range [2][2]netip.AddrPort{{a, b}, {b, a}} {
			s := &media.Stream{CallID: id, Kind: media.KindRTP, Src: ends[0], Dst: ends[1], SSRC: uint32(i*2 + d + 0x10000), Signalled: true, Media: "audio",
				PayloadType: 8, Payloads: []int{8}, Codec: "PCMA", ClockRate: 8000, First: start.Add(time.Second), Last: start.Add(61 * time.Second),
				Packets: 3000 - i%7, Expected: 3000, Lost: i % 7, LostPct: float64(i%7) / 30, MaxDelta: 20.5 + float64(i%13), MaxJitter: 0.25 * float64(i%9),
				MeanJitter: 0.125 * float64(i%5), R: 93.2 - float64(i%7), MOS: 4.41 - float64(i%7)/10, RTCP: media.RTCPStats{RTTMs: -1}}
			if i%50 == 0 && d == 1 {
				s.Problems = []media.Problem{{Kind: media.Gap, Time: s.First, Detail: "no packet for 1.300s"}}
			}
			cm.Streams = append(cm.Streams, s)
			cm.Problems = append(cm.Problems, s.Problems...)
			res.Streams = append(res.Streams, s)
		}
		res.Calls[id] = cm
		calls = append(calls, &call.Call{Index: i + 1, CallIDs: []string{id}, Start: start, End: start.Add(62 * time.Second)})
	}
	return calls, res
}

// TestRTPTableParts renders a trunk's table on one CPU and on several
// (inParts): the same text, at any width, with the same worst stream and
// count of streams with problems.
func TestRTPTableParts(t *testing.T) {
	calls, res := trunkMedia(3*partRows + 17)
	res.Streams[5*partRows/2].MOS = 1.5 // the worst, in a later part: call 2561
	for _, w := range []int{0, 80, 200} {
		var outs [2]string
		for i, procs := range []int{1, 4} {
			old := runtime.GOMAXPROCS(procs)
			var b bytes.Buffer
			err := RTP(&b, calls, res, Options{Width: w})
			runtime.GOMAXPROCS(old)
			if err != nil {
				t.Fatal(err)
			}
			outs[i] = b.String()
		}
		if outs[0] != outs[1] {
			t.Fatalf("width %d: one CPU and four differ", w)
		}
		if n := strings.Count(outs[0], "\n"); n < len(res.Streams) || !strings.Contains(outs[0], "12322 streams, 124 with problems; lowest MOS 1.50 (call 2561,") {
			t.Fatalf("width %d: %d lines, no summary of 12322 streams, 124 with problems, lowest MOS in call 2561", w, n)
		}
	}
}

// BenchmarkRTPTable is the table of `sipflow rtp` on a trunk, piped.
func BenchmarkRTPTable(b *testing.B) {
	calls, res := trunkMedia(10000)
	b.ReportAllocs()
	for b.Loop() {
		if err := RTP(io.Discard, calls, res, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
