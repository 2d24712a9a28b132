// Package pcap reads capture files: classic pcap (microsecond and nanosecond,
// either byte order) and pcapng (several interfaces with their own link types
// and timestamp resolutions), optionally wrapped in gzip or zstd. The format
// is recognised by content, never by file name.
//
// Reading is zero-copy in the sense of gopacket's ZeroCopyReadPacketData:
// Record.Data points into a buffer owned by the Reader and is overwritten by
// the next call to Next. Copy what must outlive it.
package pcap

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/klauspost/compress/zstd"
)

// Sentinel errors. Errors returned by this package wrap one of them.
var (
	ErrNotCapture = errors.New("pcap: not a pcap or pcapng file")
	ErrTruncated  = errors.New("pcap: file truncated")
	// ErrMalformed reports a record header that cannot be right (capture
	// length above the snap length or above the original length, a pcapng
	// block that does not add up, a bad compressed stream).
	ErrMalformed = errors.New("pcap: malformed file")
)

// Format is the container format of a capture file.
type Format uint8

const (
	FormatPcap Format = iota + 1
	FormatPcapNG
)

func (f Format) String() string {
	switch f {
	case FormatPcap:
		return "pcap"
	case FormatPcapNG:
		return "pcapng"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// Compression is the wrapper around the capture data, if any.
type Compression uint8

const (
	CompressionNone Compression = iota
	CompressionGzip
	CompressionZstd
)

func (c Compression) String() string {
	switch c {
	case CompressionNone:
		return "none"
	case CompressionGzip:
		return "gzip"
	case CompressionZstd:
		return "zstd"
	}
	return fmt.Sprintf("Compression(%d)", uint8(c))
}

// Record is one captured frame.
type Record struct {
	Frame    int             // 1-based record number in the file
	Time     time.Time       // UTC
	LinkType layers.LinkType // per record (pcapng: per interface)
	Data     []byte          // captured bytes; valid only until the next Next call (zero-copy)
	OrigLen  int             // length of the frame on the wire
	Offset   int64           // byte offset of the record in the (decompressed) stream
}

// packetSource is what pcapgo's two readers have in common.
type packetSource interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// Reader reads the records of one capture file in order.
type Reader struct {
	src      packetSource
	ng       *pcapgo.NgReader // nil for classic pcap
	cl       *classicReader   // classic pcap's record reader
	linkType layers.LinkType  // classic pcap: the file's link type
	format   Format
	comp     Compression

	cr *countingReader // counts decompressed bytes handed to br
	br *bufio.Reader   // the buffered reader pcapgo reads from

	ngBig  bool // pcapng: byte order of the current section, for offset tracking
	frames int
	err    error // sticky error

	closers []io.Closer
	zdec    *zstd.Decoder
}

// bufSize is the buffer between the decompressed stream and pcapgo. pcapgo
// keeps a *bufio.Reader of at least 4096 bytes as it is, which lets the
// Reader compute exact offsets from the bytes it counted minus the bytes
// still buffered.
const bufSize = 256 << 10

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

const (
	pcapMagicMicroLE = 0xa1b2c3d4 // as read little-endian
	pcapMagicNanoLE  = 0xa1b23c4d
	pcapMagicMicroBE = 0xd4c3b2a1
	pcapMagicNanoBE  = 0x4d3cb2a1
	ngSHB            = 0x0a0d0d0a
	ngBOM            = 0x1a2b3c4d
	ngIDB            = 1
	ngPB             = 2
	ngSPB            = 3
	ngEPB            = 6
)

// Open opens the file at path and reads its header. Close closes the file.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.closers = append(r.closers, f)
	return r, nil
}

// NewReader sniffs the content of r (gzip and zstd wrappers, then the pcap
// or pcapng magic) and reads the file header. Input that is no capture gives
// an error wrapping ErrNotCapture.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{}
	outer := bufio.NewReaderSize(r, bufSize)
	magic, err := outer.Peek(4)
	if len(magic) == 0 {
		if err == nil || err == io.EOF {
			return nil, fmt.Errorf("%w: empty input", ErrNotCapture)
		}
		return nil, err
	}
	var stream io.Reader = outer
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		gz, err := gzip.NewReader(outer)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip header: %v", ErrNotCapture, err)
		}
		rd.comp = CompressionGzip
		rd.closers = append(rd.closers, gz)
		stream = gz
	case len(magic) == 4 && binary.LittleEndian.Uint32(magic) == 0xfd2fb528:
		zd, err := zstd.NewReader(outer, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("%w: zstd header: %v", ErrNotCapture, err)
		}
		rd.comp = CompressionZstd
		rd.zdec = zd
		stream = zd
	}
	rd.cr = &countingReader{r: stream}
	rd.br = bufio.NewReaderSize(rd.cr, bufSize)

	magic, err = rd.br.Peek(4)
	if len(magic) < 4 {
		rd.Close()
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("%w: %v", ErrNotCapture, err)
		}
		return nil, fmt.Errorf("%w: only %d bytes", ErrNotCapture, len(magic))
	}
	switch m := binary.LittleEndian.Uint32(magic); m {
	case pcapMagicMicroLE, pcapMagicNanoLE, pcapMagicMicroBE, pcapMagicNanoBE:
		rd.format = FormatPcap
		if hdr, _ := rd.br.Peek(24); len(hdr) < 24 {
			rd.Close()
			return nil, fmt.Errorf("%w: pcap file header cut at offset %d", ErrTruncated, len(hdr))
		}
		pr, err := pcapgo.NewReader(rd.br)
		if err != nil {
			rd.Close()
			return nil, fmt.Errorf("%w: pcap file header: %v", ErrMalformed, err)
		}
		var order binary.ByteOrder = binary.LittleEndian
		if m == pcapMagicMicroBE || m == pcapMagicNanoBE {
			order = binary.BigEndian
		}
		rd.cl = newClassicReader(rd.br, order, m == pcapMagicNanoLE || m == pcapMagicNanoBE, pr.Snaplen(), rd.pos())
		rd.src = rd.cl
		rd.linkType = pr.LinkType()
	case ngSHB:
		rd.format = FormatPcapNG
		if hdr, _ := rd.br.Peek(12); len(hdr) == 12 {
			rd.ngBig = binary.BigEndian.Uint32(hdr[8:12]) == ngBOM
		}
		ng, err := pcapgo.NewNgReader(rd.br, pcapgo.NgReaderOptions{WantMixedLinkType: true, SkipUnknownVersion: true})
		if err != nil {
			rd.Close()
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%w: pcapng section header cut at offset %d", ErrTruncated, rd.pos())
			}
			return nil, fmt.Errorf("%w: pcapng section header: %v", ErrMalformed, err)
		}
		rd.ng = ng
		rd.src = ng
	default:
		rd.Close()
		return nil, fmt.Errorf("%w: magic %02x %02x %02x %02x", ErrNotCapture, magic[0], magic[1], magic[2], magic[3])
	}
	return rd, nil
}

// Format says whether the file is pcap or pcapng.
func (r *Reader) Format() Format { return r.format }

// Compression says which wrapper, if any, was taken off the file.
func (r *Reader) Compression() Compression { return r.comp }

// Close releases the decompressor and closes the file opened by Open.
func (r *Reader) Close() error {
	if r.cl != nil {
		r.cl.close()
	}
	if r.zdec != nil {
		r.zdec.Close()
		r.zdec = nil
	}
	var first error
	for i := len(r.closers) - 1; i >= 0; i-- {
		if err := r.closers[i].Close(); err != nil && first == nil {
			first = err
		}
	}
	r.closers = nil
	if r.err == nil {
		r.err = errClosed
	}
	return first
}

var errClosed = errors.New("pcap: reader closed")

// pos is the offset in the decompressed stream of the next byte pcapgo reads.
func (r *Reader) pos() int64 {
	if r.cl != nil {
		return r.cl.pos()
	}
	return r.cr.n - int64(r.br.Buffered())
}

// Next reads the next record into rec. It returns io.EOF at the clean end of
// the file. A file cut inside a record (a capture killed mid-write) gives an
// error wrapping ErrTruncated, after every complete record was returned.
// Errors are sticky: once Next failed it fails the same way again.
func (r *Reader) Next(rec *Record) error {
	if r.err != nil {
		return r.err
	}
	if r.cl != nil { // the hot path: no interface call, no CaptureInfo
		start := r.cl.pos()
		if err := r.cl.next(rec); err != nil {
			r.err = r.classify(err, start)
			return r.err
		}
		r.frames++
		rec.Frame, rec.Offset, rec.LinkType = r.frames, start, r.linkType
		return nil
	}
	start := r.pos()
	if r.ng != nil {
		start = r.ngRecordStart(start)
	}
	data, ci, err := r.src.ZeroCopyReadPacketData()
	if err != nil {
		r.err = r.classify(err, start)
		return r.err
	}
	r.frames++
	rec.Frame = r.frames
	rec.Time = ci.Timestamp.UTC()
	rec.Data = data
	rec.OrigLen = ci.Length
	rec.Offset = start
	rec.LinkType = r.linkType
	if r.ng != nil && len(ci.AncillaryData) > 0 {
		if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
			rec.LinkType = lt
		}
	}
	return nil
}

// classify turns a pcapgo error into one of this package's.
func (r *Reader) classify(err error, start int64) error {
	end := r.pos()
	if r.cl != nil {
		end = r.cl.end()
	}
	next := r.frames + 1
	switch {
	case err == io.EOF && (r.ng != nil || end == start):
		// pcapgo's pcapng reader says io.EOF only between blocks; the
		// classic reader also says it when a record's data is missing
		// entirely, after its header was read.
		return io.EOF
	case err == io.EOF, errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: record %d at offset %d is cut at offset %d", ErrTruncated, next, start, end)
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.Is(err, zstd.ErrMagicMismatch),
		errors.Is(err, zstd.ErrBlockTooSmall), errors.Is(err, zstd.ErrCRCMismatch):
		return fmt.Errorf("%w: record %d at offset %d: %s stream: %v", ErrMalformed, next, start, r.comp, err)
	}
	return fmt.Errorf("%w: record %d at offset %d: %v", ErrMalformed, next, start, err)
}

// ngRecordStart finds the offset of the next packet block from pos, stepping
// over the interface, statistics and other blocks pcapgo will skip. It only
// looks at bytes already buffered or peekable; when it cannot tell, it
// returns the best offset it knows.
func (r *Reader) ngRecordStart(pos int64) int64 {
	off := 0
	big := r.ngBig
	for range 64 {
		b, _ := r.br.Peek(off + 12)
		if len(b) < off+12 {
			return pos + int64(off)
		}
		b = b[off:]
		typ := binary.LittleEndian.Uint32(b[0:4])
		if typ == ngSHB {
			big = binary.BigEndian.Uint32(b[8:12]) == ngBOM
		}
		var length uint32
		if big {
			typ = binary.BigEndian.Uint32(b[0:4])
			length = binary.BigEndian.Uint32(b[4:8])
		} else {
			length = binary.LittleEndian.Uint32(b[4:8])
		}
		if typ == ngSHB {
			r.ngBig = big
		}
		if typ == ngEPB || typ == ngSPB || typ == ngPB {
			return pos + int64(off)
		}
		if length < 12 || length%4 != 0 || off+int(length) > bufSize-16 {
			return pos + int64(off)
		}
		off += int(length)
	}
	return pos + int64(off)
}
