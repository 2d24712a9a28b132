// Package textlog reads SIP messages out of text logs: tcpdump text output
// (-vvv, -A, -X), syslog lines from phones and ATAs, Asterisk (pjsip logger
// and chan_sip debug), FreeSWITCH sofia siptrace, Cisco IOS/CUBE "debug ccsip
// messages", FireBrick logs, Kamailio/OpenSIPS dumps and plain SIP messages
// pasted one after another. It produces the same capture.Message records as
// parse/capture, so everything downstream works unchanged: Frame is the
// 1-based line number where the message starts.
//
// The format is recognised line by line, so a log that mixes formats works.
// What a format does not say (the year, the addresses, the direction) is
// inferred where the message itself says it (the top Via of a request names
// its sender, the top Via of a response its receiver; the box that printed a
// log names itself in its own Via, Contact and the Request-URIs it receives,
// see local.go) and otherwise left unknown (zero). Lines that are not part of a SIP message are counted and
// reported as skipped in Stats.Warnings.
package textlog

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/sipflow/sipflow/parse/capture"
)

// Sentinel errors.
var (
	// ErrNotLog is returned (wrapped with the file name) when no SIP message
	// was found in the input.
	ErrNotLog = errors.New("textlog: no SIP messages found")
	// ErrSkipped is wrapped by the Warning of each run of lines that were not
	// part of any SIP message.
	ErrSkipped = errors.New("textlog: lines skipped")
	// ErrTruncated is wrapped by the Warning of a message whose text is
	// shorter than its log header or Content-Length says.
	ErrTruncated = errors.New("textlog: message truncated")
	// ErrNotSIP is wrapped by the Warning of a log record announced as SIP
	// whose text does not parse as SIP.
	ErrNotSIP = errors.New("textlog: logged message is not SIP")
	// ErrPanic is wrapped by the Warning of a message whose decoding panicked.
	ErrPanic = errors.New("textlog: decoder panic")
	// ErrLocalUnknown is wrapped by the Warning of a log section (the
	// messages one box logged in one file) whose box's own address could not
	// be told from the log: no evidence, or several addresses compete. Its
	// messages keep an unknown local side.
	ErrLocalUnknown = errors.New("textlog: logging box's own address unknown")
	// ErrBadFormat is returned by ParseFormat for an unknown name.
	ErrBadFormat = errors.New("textlog: unknown format")
)

// Format is a text log format.
type Format uint8

const (
	FormatAuto       Format = iota // recognise each record by content
	FormatTcpdump                  // tcpdump -n -vvv / -A / -X text
	FormatSyslog                   // RFC 3164/5424 syslog, one message per line (SPA/Linksys ^M style)
	FormatAsterisk                 // pjsip set logger on / sip set debug on
	FormatFreeSWITCH               // sofia siptrace (recv/send N bytes ... at ...)
	FormatCisco                    // IOS/CUBE debug ccsip messages
	FormatFireBrick                // voip-udp-rx / voip-udp-tx log lines
	FormatRaw                      // plain SIP messages, Kamailio xlog / siptrace dumps
	formatMax
)

var formatNames = [formatMax]string{"auto", "tcpdump", "syslog", "asterisk", "freeswitch", "cisco", "firebrick", "raw"}

func (f Format) String() string {
	if f < formatMax {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// ParseFormat returns the Format named s (case-insensitive, as String prints
// it); "" means FormatAuto.
func ParseFormat(s string) (Format, error) {
	if s == "" {
		return FormatAuto, nil
	}
	for i, n := range formatNames {
		if strings.EqualFold(s, n) {
			return Format(i), nil
		}
	}
	return FormatAuto, fmt.Errorf("%w: %q (want one of %s)", ErrBadFormat, s, strings.Join(formatNames[:], ", "))
}

// Options tune reading.
type Options struct {
	// Format forces one format's record headers; FormatAuto recognises
	// every format. Plain SIP messages are found in any case.
	Format Format
	// Year is used for timestamps without a year (syslog, Cisco, Asterisk
	// "[Mmm dd hh:mm:ss]"). Zero means the file's modification year in
	// ReadFile, and unknown (year 1) in Read.
	Year int
	// Location is the time zone the log's local times are in; nil is UTC.
	Location *time.Location
}

// maxLine bounds one log line; a longer line is cut (and reported).
const maxLine = 1 << 20

// ReadFile reads the text log at path and hands every SIP message in it to
// h, in order. The error is non-nil when the file cannot be read, ctx is
// done, or no SIP message was found (it then wraps ErrNotLog).
func ReadFile(ctx context.Context, path string, o Options, h capture.Handler) (capture.Stats, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return capture.Stats{}, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	if o.Year == 0 {
		if fi, err := f.Stat(); err == nil {
			o.Year = fi.ModTime().Year()
		}
	}
	return Read(ctx, path, f, o, h)
}

// Read is ReadFile for an open stream; name is used in warnings and in
// Message.File.
func Read(ctx context.Context, name string, r io.Reader, o Options, h capture.Handler) (capture.Stats, error) {
	rd := newReader(ctx, name, o, h)
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	for {
		if rd.lineNo&1023 == 0 {
			if err := ctx.Err(); err != nil {
				rd.finish()
				return rd.stats, fmt.Errorf("%s: %w", name, err)
			}
		}
		b, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if len(long) < maxLine {
				long = append(long, b[:min(len(b), maxLine-len(long))]...)
			}
			continue
		}
		if long != nil {
			if len(long) < maxLine {
				long = append(long, b[:min(len(b), maxLine-len(long))]...)
			}
			b, long = long, nil
		}
		if len(b) > 0 {
			rd.line(b)
		}
		if err != nil {
			if err != io.EOF {
				rd.finish()
				return rd.stats, fmt.Errorf("%s: line %d: %w", name, rd.lineNo, err)
			}
			break
		}
	}
	rd.finish()
	if rd.stats.SIPMessages == 0 {
		return rd.stats, fmt.Errorf("%s: %w", name, ErrNotLog)
	}
	return rd.stats, nil
}

// Detect guesses the format of a log from its first bytes (up to ~64 KiB are
// looked at): the format whose record headers are most common, FormatRaw if
// only bare SIP messages are found, FormatAuto if nothing SIP-like is.
func Detect(head []byte) Format {
	if len(head) > 64<<10 {
		head = head[:64<<10]
	}
	var counts [formatMax]int
	for len(head) > 0 {
		i := strings.IndexByte(string(head), '\n')
		var l string
		if i < 0 {
			l, head = string(head), nil
		} else {
			l, head = string(head[:i]), head[i+1:]
		}
		l = strings.TrimRight(l, "\r")
		if h, ok := recognise(l, FormatAuto, 0); ok {
			counts[h.format]++
			continue
		}
		if _, pre, ok := findStart(l); ok {
			if _, ok := parseSyslogPrefix(pre, 0, nil); ok {
				counts[FormatSyslog]++
			} else {
				counts[FormatRaw]++
			}
		}
	}
	best := FormatAuto
	for f := FormatTcpdump; f < formatMax; f++ {
		if f == FormatRaw {
			continue
		}
		if counts[f] > counts[best] || (best == FormatAuto && counts[f] > 0) {
			best = f
		}
	}
	if best == FormatAuto && counts[FormatRaw] > 0 {
		return FormatRaw
	}
	return best
}
