// Command rtpfloor measures how fast one goroutine can read a capture with
// sipflow's own reader and decoder and keep the least RTP analysis there
// is: per flow and SSRC, packets, expected, and Wireshark's 1/16 jitter at
// a fixed 8 kHz clock. No SIP, no SDP, no duplicate check, no hand-over
// between goroutines. It is the floor under `sipflow rtp` on this machine,
// to tell which targets any design of the full analysis could reach.
//
//	go run ./bench/rtpfloor FILE
package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/sipflow/sipflow/parse/packet"
	"github.com/sipflow/sipflow/parse/pcap"
)

type key struct {
	ips, ports uint64
	ssrc       uint32
}

type stream struct {
	packets        int
	firstSeq, last uint16
	cycles         int
	haveTransit    bool
	transit        float64
	jitter         float64
	maxJitter      float64
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: rtpfloor FILE.pcap")
		os.Exit(2)
	}
	t0 := time.Now()
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	r, err := pcap.NewReader(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer r.Close()
	dec := packet.NewDecoder()
	var rec pcap.Record
	var p packet.Packet
	streams := map[key]*stream{}
	var n, rtp int
	for {
		if err := r.Next(&rec); err != nil {
			if err != io.EOF {
				fmt.Fprintln(os.Stderr, err)
			}
			break
		}
		n++
		ok, err := dec.DecodeUnrecovered(rec.LinkType, rec.Data, rec.Time, &p)
		if err != nil || !ok || p.Proto != packet.ProtoUDP || !p.Src.Is4() || !p.Dst.Is4() {
			continue
		}
		b := p.Payload
		if len(b) < 12 || b[0]>>6 != 2 || b[1]&0x7f >= 72 && b[1]&0x7f <= 76 {
			continue
		}
		rtp++
		s4, d4 := p.Src.As4(), p.Dst.As4()
		k := key{
			ips:   uint64(binary.BigEndian.Uint32(s4[:]))<<32 | uint64(binary.BigEndian.Uint32(d4[:])),
			ports: uint64(p.SrcPort)<<16 | uint64(p.DstPort),
			ssrc:  binary.BigEndian.Uint32(b[8:12]),
		}
		seq := binary.BigEndian.Uint16(b[2:4])
		ts := binary.BigEndian.Uint32(b[4:8])
		st := streams[k]
		if st == nil {
			st = &stream{firstSeq: seq, last: seq}
			streams[k] = st
		}
		st.packets++
		if seq < st.last && st.last-seq > 0x8000 {
			st.cycles++
		}
		st.last = seq
		arrival := float64(rec.Time.UnixNano()) / 1e6
		transit := arrival - float64(ts)/8
		if st.haveTransit {
			st.jitter += (math.Abs(transit-st.transit) - st.jitter) / 16
			st.maxJitter = max(st.maxJitter, st.jitter)
		}
		st.transit, st.haveTransit = transit, true
	}
	// the figures are summed so that none of the work can be left out by
	// the compiler; they mean little on their own (a trunk reuses ports
	// and SSRCs across calls, which no SDP tells apart here)
	var expected int
	var jitter float64
	for _, st := range streams {
		expected += st.cycles*65536 + int(st.last-st.firstSeq) + 1
		jitter = max(jitter, st.maxJitter)
	}
	el := time.Since(t0).Seconds()
	fi, _ := f.Stat()
	fmt.Printf("packets=%d rtp=%d streams=%d expected=%d max_jitter_ms=%.3f seconds=%.3f MB/s=%.1f\n",
		n, rtp, len(streams), expected, jitter, el, float64(fi.Size())/1e6/el)
}
