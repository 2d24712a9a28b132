package text

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/sipflow/sipflow/convert/call"
	"github.com/sipflow/sipflow/parse/capture"
)

// Sentinel errors of Show.
var (
	// ErrNoMessages: the call was built without keeping its messages.
	ErrNoMessages = errors.New("text: messages not kept for this call")
	// ErrNoSuchMessage: the message number is not in the call.
	ErrNoSuchMessage = errors.New("text: no such message")
)

// TransportName is the upper-case name of a transport.
func TransportName(t capture.Transport) string {
	switch t {
	case capture.UDP:
		return "UDP"
	case capture.TCP:
		return "TCP"
	case capture.TLS:
		return "TLS"
	case capture.WS:
		return "WS"
	case capture.WSS:
		return "WSS"
	case capture.SCTP:
		return "SCTP"
	}
	return "transport(" + strconv.Itoa(int(t)) + ")"
}

const showTime = "2006-01-02 15:04:05.000000"

// Show writes messages of c verbatim: all of them when msg is 0, else the
// msg-th (1-based). Each is headed by
//
//	#N 2006-01-02 15:04:05.000000 frame F (file) src -> dst TRANSPORT
//
// Line ends (CRLF or LF) end lines; any other byte that is not printable
// UTF-8 is shown escaped (\x00, \r, \x1b). Show returns ErrNoMessages when
// a message to show was not kept (Msg.Full is nil) and ErrNoSuchMessage when
// msg is out of range. Lines are not cut to o.Width: they are verbatim.
func Show(w io.Writer, c *call.Call, msg int, o Options) error {
	if c == nil {
		return fmt.Errorf("text: nil call")
	}
	first, last := 0, len(c.Msgs)
	if msg != 0 {
		if msg < 0 || msg > len(c.Msgs) {
			return fmt.Errorf("%w: message %d (call %d has %d)", ErrNoSuchMessage, msg, c.Index, len(c.Msgs))
		}
		first, last = msg-1, msg
	}
	if first == last {
		return fmt.Errorf("%w: call %d", ErrNoMessages, c.Index)
	}
	for i := first; i < last; i++ {
		if c.Msgs[i].Full == nil {
			return fmt.Errorf("%w: call %d message %d", ErrNoMessages, c.Index, i+1)
		}
	}
	bw := bufio.NewWriter(w)
	for i := first; i < last; i++ {
		m := &c.Msgs[i]
		if i > first {
			bw.WriteByte('\n')
		}
		bw.WriteString(showHeader(i+1, m, o))
		bw.WriteByte('\n')
		writeEscaped(bw, m.Full.SIP.Raw)
	}
	return bw.Flush()
}

func addrOr(ap interface {
	IsValid() bool
	String() string
}) string {
	if !ap.IsValid() {
		return "?"
	}
	return ap.String()
}

func showHeader(n int, m *call.Msg, o Options) string {
	full := m.Full
	t := full.Time
	if t.IsZero() {
		t = m.Time
	}
	ts := "-"
	if !t.IsZero() {
		ts = t.In(o.loc()).Format(showTime)
		if call.Dateless(t) {
			ts = t.Format("15:04:05.000000")
		}
	}
	src, dst := addrOr(full.Src), addrOr(full.Dst)
	s := fmt.Sprintf("#%d %s frame %d (%s) %s -> %s %s", n, ts, full.Frame, full.File, src, dst, TransportName(full.Transport))
	return clean(s)
}

// writeEscaped writes raw with line ends kept and everything else that is
// not printable escaped. A message that does not end in a line end gets one.
func writeEscaped(bw *bufio.Writer, raw []byte) {
	for i := 0; i < len(raw); {
		b := raw[i]
		switch {
		case b == '\r' && i+1 < len(raw) && raw[i+1] == '\n':
			bw.WriteByte('\n')
			i += 2
			continue
		case b == '\n':
			bw.WriteByte('\n')
		case b == '\t':
			bw.WriteByte('\t')
		case b < 0x20 || b == 0x7f:
			fmt.Fprintf(bw, `\x%02x`, b)
		case b < utf8.RuneSelf:
			bw.WriteByte(b)
		default:
			r, n := utf8.DecodeRune(raw[i:])
			switch {
			case r == utf8.RuneError && n <= 1:
				fmt.Fprintf(bw, `\x%02x`, b)
			case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
				fmt.Fprintf(bw, `\u%04x`, r)
			default:
				bw.Write(raw[i : i+n])
			}
			i += n
			continue
		}
		i++
	}
	if len(raw) > 0 && raw[len(raw)-1] != '\n' {
		bw.WriteByte('\n')
	}
}
