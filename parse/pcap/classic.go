package pcap

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
)

// classicReader reads the records of a classicReader pcap file straight out of one large
// buffer: the record header and data are sliced where they lie, so each byte
// is copied once, from the kernel into the buffer. pcapgo's reader copies
// twice (into its bufio.Reader, then into its packet buffer) and calls
// io.ReadFull twice per record; on a trunk capture of small RTP packets that
// is a third of the reading time. pcapgo still reads and checks the file
// header; the record checks here are pcapgo's.
type classicReader struct {
	r      io.Reader
	order  binary.ByteOrder
	nanos  int64 // nanoseconds per fraction unit: 1 or 1000
	maxCap int   // longest record accepted

	buf  []byte
	s, e int   // unread bytes: buf[s:e]
	base int64 // stream offset of buf[0]
}

// classicBuf is the read buffer size; records longer than it grow it.
const classicBuf = 1 << 20

// maxRecord mirrors pcapgo's limit for files whose snap length is small.
const maxRecord = 262144

func newClassicReader(r io.Reader, order binary.ByteOrder, nano bool, snaplen uint32, base int64) *classicReader {
	c := &classicReader{r: r, order: order, nanos: 1000, buf: make([]byte, classicBuf), base: base}
	if nano {
		c.nanos = 1
	}
	c.maxCap = max(int(snaplen), maxRecord)
	return c
}

// pos is the stream offset of the next record.
func (c *classicReader) pos() int64 { return c.base + int64(c.s) }

// end is the stream offset of the last byte read so far.
func (c *classicReader) end() int64 { return c.base + int64(c.e) }

// fill makes n unread bytes available. It returns io.EOF when the stream
// ends with no unread byte, io.ErrUnexpectedEOF when it ends inside them.
func (c *classicReader) fill(n int) error {
	if c.e-c.s >= n {
		return nil
	}
	if n > len(c.buf) {
		nb := make([]byte, max(n, 2*len(c.buf)))
		c.e = copy(nb, c.buf[c.s:c.e])
		c.buf = nb
	} else {
		c.e = copy(c.buf, c.buf[c.s:c.e])
	}
	c.base += int64(c.s)
	c.s = 0
	for c.e < n {
		m, err := c.r.Read(c.buf[c.e:])
		c.e += m
		if err != nil && c.e < n {
			if err == io.EOF {
				if c.e == 0 {
					return io.EOF
				}
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// ZeroCopyReadPacketData returns the next record; data is valid until the
// next call.
func (c *classicReader) ZeroCopyReadPacketData() (data []byte, ci gopacket.CaptureInfo, err error) {
	if err = c.fill(16); err != nil {
		return nil, ci, err
	}
	h := c.buf[c.s : c.s+16]
	sec, frac := c.order.Uint32(h[0:4]), c.order.Uint32(h[4:8])
	ci.CaptureLength = int(c.order.Uint32(h[8:12]))
	ci.Length = int(c.order.Uint32(h[12:16]))
	ci.Timestamp = time.Unix(int64(sec), int64(frac)*c.nanos).UTC()
	switch {
	case ci.CaptureLength > c.maxCap:
		return nil, ci, fmt.Errorf("capture length exceeds snap length: %d > %d", ci.CaptureLength, c.maxCap)
	case ci.CaptureLength > ci.Length:
		return nil, ci, fmt.Errorf("capture length exceeds original packet length: %d > %d", ci.CaptureLength, ci.Length)
	}
	if err = c.fill(16 + ci.CaptureLength); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, ci, err
	}
	data = c.buf[c.s+16 : c.s+16+ci.CaptureLength : c.s+16+ci.CaptureLength]
	c.s += 16 + ci.CaptureLength
	return data, ci, nil
}
