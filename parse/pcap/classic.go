package pcap

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
)

// classicReader reads the records of a classic pcap file straight out of
// large chunks: the record header and data are sliced where they lie, so
// each byte is copied once, from the kernel (or the decompressor) into a
// chunk. pcapgo's reader copies twice (into its bufio.Reader, then into its
// packet buffer) and calls io.ReadFull twice per record; on a trunk capture
// of small RTP packets that is a third of the reading time.
//
// The chunks are filled by a goroutine of their own, so the read system
// calls (or gzip/zstd decompression) run beside the decoding instead of in
// front of it. A record that straddles two chunks is stitched by copying its
// first part into the headroom left in front of the next chunk.
//
// pcapgo still reads and checks the file header; the record checks here are
// pcapgo's.
type classicReader struct {
	big    bool  // the file is big-endian (read without the ByteOrder interface: this is per record)
	nanos  int64 // nanoseconds per fraction unit: 1 or 1000
	maxCap int   // longest record accepted

	buf  []byte // the current chunk (or a stitch buffer)
	s, e int    // unread bytes: buf[s:e]
	base int64  // stream offset of buf[0]
	err  error  // how the stream ended, once the last chunk is taken

	free, full chan []byte   // chunk buffers: empty ones, and filled ones (len = headroom+n)
	errs       chan error    // the prefetcher's final error, after its last chunk
	done       chan struct{} // closed by close: stop
	stopped    chan struct{} // closed by the prefetcher when it returns
	closeOnce  sync.Once
}

const (
	chunkSize = 1 << 20
	// headroom in front of each chunk takes the start of a record cut by
	// the chunk's end. A longer record goes to a buffer of its own.
	headroom = 256<<10 + 16
	nChunks  = 4
)

// maxRecord mirrors pcapgo's limit for files whose snap length is small.
const maxRecord = 262144

func newClassicReader(r io.Reader, order binary.ByteOrder, nano bool, snaplen uint32, base int64) *classicReader {
	c := &classicReader{
		big:    order == binary.BigEndian,
		nanos:  1000,
		maxCap: max(int(snaplen), maxRecord),
		base:   base,
		free:   make(chan []byte, nChunks),
		full:   make(chan []byte, nChunks),
		errs:   make(chan error, 1),
		done:   make(chan struct{}),
	}
	c.stopped = make(chan struct{})
	if nano {
		c.nanos = 1
	}
	go c.prefetch(r)
	return c
}

// prefetch fills chunks until the stream ends or the reader is closed.
func (c *classicReader) prefetch(r io.Reader) {
	defer close(c.stopped)
	made := 0
	for {
		var buf []byte
		select {
		case buf = <-c.free:
		default:
			// chunks are made as they are needed: a small file takes one
			if made < nChunks {
				buf = make([]byte, headroom+chunkSize)
				made++
				break
			}
			select {
			case buf = <-c.free:
			case <-c.done:
				return
			}
		}
		n, err := io.ReadFull(r, buf[headroom:])
		if err == io.ErrUnexpectedEOF {
			err = io.EOF // a short last chunk
		}
		if n > 0 {
			select {
			case c.full <- buf[:headroom+n]:
			case <-c.done:
				return
			}
		}
		if err != nil {
			c.errs <- err
			close(c.full)
			return
		}
	}
}

// close stops the prefetcher and waits for it, so that the stream under it
// can be closed safely.
func (c *classicReader) close() {
	c.closeOnce.Do(func() { close(c.done) })
	<-c.stopped
}

// pos is the stream offset of the next record.
func (c *classicReader) pos() int64 { return c.base + int64(c.s) }

// end is the stream offset of the last byte read so far.
func (c *classicReader) end() int64 { return c.base + int64(c.e) }

// fill makes n unread bytes available. It returns io.EOF when the stream
// ends with no unread byte, io.ErrUnexpectedEOF when it ends inside them,
// and the stream's error if it failed.
func (c *classicReader) fill(n int) error {
	for c.e-c.s < n {
		if c.err != nil {
			switch {
			case c.err != io.EOF:
				return c.err
			case c.e == c.s:
				return io.EOF
			}
			return io.ErrUnexpectedEOF
		}
		next, ok := <-c.full
		if !ok {
			c.err = <-c.errs
			continue
		}
		left := c.e - c.s
		old := c.buf
		if left <= headroom {
			copy(next[headroom-left:headroom], c.buf[c.s:c.e])
			c.base += int64(c.s) - int64(headroom-left)
			c.buf, c.s, c.e = next, headroom-left, len(next)
		} else {
			big := make([]byte, left+len(next)-headroom)
			copy(big, c.buf[c.s:c.e])
			copy(big[left:], next[headroom:])
			c.base += int64(c.s)
			c.buf, c.s, c.e = big, 0, len(big)
			c.recycle(next)
		}
		c.recycle(old)
	}
	return nil
}

// recycle gives a chunk buffer back to the prefetcher; stitch buffers and
// nil are dropped.
func (c *classicReader) recycle(b []byte) {
	if cap(b) == headroom+chunkSize {
		select {
		case c.free <- b[:cap(b)]:
		default:
		}
	}
}

// ZeroCopyReadPacketData returns the next record; data is valid until the
// next call.
func (c *classicReader) ZeroCopyReadPacketData() (data []byte, ci gopacket.CaptureInfo, err error) {
	var rec Record
	err = c.next(&rec)
	ci.Timestamp, ci.CaptureLength, ci.Length = rec.Time, len(rec.Data), rec.OrigLen
	return rec.Data, ci, err
}

// next fills rec's Time, Data and OrigLen with the next record; Data is
// valid until the next call.
func (c *classicReader) next(rec *Record) error {
	if c.e-c.s < 16 { // fill only at a chunk's end: the call is not free
		if err := c.fill(16); err != nil {
			return err
		}
	}
	h := c.buf[c.s : c.s+16]
	sec, frac, caplen, orig := binary.LittleEndian.Uint32(h[0:4]), binary.LittleEndian.Uint32(h[4:8]), binary.LittleEndian.Uint32(h[8:12]), binary.LittleEndian.Uint32(h[12:16])
	if c.big {
		sec, frac, caplen, orig = bits.ReverseBytes32(sec), bits.ReverseBytes32(frac), bits.ReverseBytes32(caplen), bits.ReverseBytes32(orig)
	}
	rec.OrigLen = int(orig)
	rec.Time = time.Unix(int64(sec), int64(frac)*c.nanos).UTC()
	switch {
	case int64(caplen) > int64(c.maxCap):
		return fmt.Errorf("capture length exceeds snap length: %d > %d", caplen, c.maxCap)
	case caplen > orig:
		return fmt.Errorf("capture length exceeds original packet length: %d > %d", caplen, orig)
	}
	n := int(caplen)
	if c.e-c.s < 16+n {
		if err := c.fill(16 + n); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	start, end := c.s+16, c.s+16+n
	rec.Data = c.buf[start:end:end]
	c.s = end
	return nil
}
