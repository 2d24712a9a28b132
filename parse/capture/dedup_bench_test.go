package capture

// Benchmarks of the duplicate check alone: the table at a trunk's packet
// rate (one packet every 85 µs, kept 200 ms) and the hash of an RTP key.

import (
	"net/netip"
	"testing"

	"github.com/sipflow/sipflow/parse/packet"
)

func BenchmarkDedupSeen(b *testing.B) {
	var d dedup
	d.init(int64(DefaultDuplicateWindow), dedupRetainOne)
	b.ReportAllocs()
	ts := int64(0)
	for i := 0; i < b.N; i++ {
		ts += 85_000
		d.seen(uint64(i)*0x9e3779b97f4a7c15, ts)
	}
}

func BenchmarkDupHash(b *testing.B) {
	p := packet.Packet{Src: netip.MustParseAddr("10.1.2.3"), Dst: netip.MustParseAddr("10.3.2.1"), SrcPort: 4000, DstPort: 5000, Proto: 17, IPID: 77}
	pl := make([]byte, 172)
	var x uint64
	for i := 0; i < b.N; i++ {
		p.IPID = uint32(i)
		x += dupHash(&p, 172, pl[:mediaKeyLen])
	}
	_ = x
}
