// Package hosts reads a host-name file (sipflow --hosts FILE) so that reports
// show "sbc-west" instead of 10.1.2.3:5060.
//
// The format is one mapping per line:
//
//	# comment
//	10.0.0.1            pbx          # every port of 10.0.0.1
//	10.0.0.2:5060       proxy        # only this port
//	[2001:db8::1]:5061  sbc tls side # IPv6 with port; the name may hold spaces
//	2001:db8::2         carrier
//
// ADDRESS is an IPv4 or IPv6 address, or ip:port ([v6]:port). NAME is the rest
// of the line up to a '#', with runs of blanks folded to one space. Blank lines
// and comments are ignored. A later line for the same address overrides an
// earlier one. IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) are the same as
// their IPv4 form.
package hosts

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrBadLine is wrapped by every error about a line of a hosts file.
var ErrBadLine = errors.New("hosts: bad line")

// maxErrors bounds the errors reported for one file.
const maxErrors = 20

// maxLine bounds one line of a hosts file.
const maxLine = 64 << 10

// Map maps addresses to names. The zero value and a nil *Map are empty maps.
type Map struct {
	ports map[netip.AddrPort]string // exact ip:port
	addrs map[netip.Addr]string     // any port of the address
}

// Parse reads a hosts file from r; name is used in error positions
// (name:line). On bad lines it still returns the map of the good lines,
// together with an error joining one error per bad line (at most 20), each
// wrapping ErrBadLine.
func Parse(r io.Reader, name string) (*Map, error) {
	m := &Map{}
	var errs []error
	br := bufio.NewReader(r)
	lineNo := 0
	for {
		line, rerr := readLine(br)
		if rerr == io.EOF && line == "" {
			break
		}
		lineNo++
		if rerr != nil && rerr != io.EOF {
			if errors.Is(rerr, errLineTooLong) {
				if len(errs) < maxErrors {
					errs = append(errs, fmt.Errorf("%s:%d: %w: longer than %d bytes", name, lineNo, ErrBadLine, maxLine))
				}
				continue
			}
			errs = append(errs, fmt.Errorf("%s:%d: %w", name, lineNo, rerr))
			break
		}
		if err := m.parseLine(line); err != nil {
			if len(errs) < maxErrors {
				errs = append(errs, fmt.Errorf("%s:%d: %w", name, lineNo, err))
			}
		}
		if rerr == io.EOF {
			break
		}
	}
	return m, errors.Join(errs...)
}

var errLineTooLong = errors.New("line too long")

// readLine returns one line without its line end. It returns io.EOF with the
// last line when the input does not end in a newline, and errLineTooLong
// (having skipped the line) for a line longer than maxLine.
func readLine(br *bufio.Reader) (string, error) {
	var sb strings.Builder
	long := false
	for {
		frag, err := br.ReadSlice('\n')
		if !long && sb.Len()+len(frag) > maxLine+2 {
			long = true
		}
		if !long {
			sb.Write(frag)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if long {
			if err == nil {
				err = errLineTooLong
			} else if err == io.EOF {
				err = errLineTooLong // the next read reports EOF
			}
			return "", err
		}
		s := strings.TrimSuffix(sb.String(), "\n")
		s = strings.TrimSuffix(s, "\r")
		return s, err
	}
}

// Load reads the hosts file at path (see Parse).
func Load(path string) (*Map, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(f, path)
}

func (m *Map) parseLine(line string) error {
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	if !utf8.ValidString(line) {
		return fmt.Errorf("%w: not valid UTF-8", ErrBadLine)
	}
	fields := strings.FieldsFunc(line, unicode.IsSpace)
	if len(fields) == 0 {
		return nil
	}
	if len(fields) == 1 {
		return fmt.Errorf("%w: %q has no name", ErrBadLine, fields[0])
	}
	for _, f := range fields[1:] {
		for _, r := range f {
			if unicode.IsControl(r) {
				return fmt.Errorf("%w: control character %U in name", ErrBadLine, r)
			}
		}
	}
	name := strings.Join(fields[1:], " ")
	addr := fields[0]
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		m.setPort(ap, name)
		return nil
	}
	if a, err := netip.ParseAddr(addr); err == nil {
		m.setAddr(a, name)
		return nil
	}
	return fmt.Errorf("%w: %q is not an IP address or ip:port", ErrBadLine, addr)
}

func norm(a netip.Addr) netip.Addr { return a.Unmap() }

func (m *Map) setPort(ap netip.AddrPort, name string) {
	if m.ports == nil {
		m.ports = make(map[netip.AddrPort]string)
	}
	m.ports[netip.AddrPortFrom(norm(ap.Addr()), ap.Port())] = name
}

func (m *Map) setAddr(a netip.Addr, name string) {
	if m.addrs == nil {
		m.addrs = make(map[netip.Addr]string)
	}
	m.addrs[norm(a)] = name
}

// Set adds or replaces the name of an ip:port.
func (m *Map) Set(ap netip.AddrPort, name string) { m.setPort(ap, name) }

// SetAddr adds or replaces the name of every port of an address.
func (m *Map) SetAddr(a netip.Addr, name string) { m.setAddr(a, name) }

// Name returns the name of ap: the exact ip:port match first, then the
// address alone; "" if none. A nil Map has no names.
func (m *Map) Name(ap netip.AddrPort) string {
	if m == nil || !ap.IsValid() {
		return ""
	}
	a := norm(ap.Addr())
	if n, ok := m.ports[netip.AddrPortFrom(a, ap.Port())]; ok {
		return n
	}
	return m.addrs[a]
}

// Len is the number of entries.
func (m *Map) Len() int {
	if m == nil {
		return 0
	}
	return len(m.ports) + len(m.addrs)
}

// WriteTo writes the map in the file format Parse reads, one entry a line,
// addresses before ip:ports, each sorted.
func (m *Map) WriteTo(w io.Writer) (int64, error) {
	if m == nil {
		return 0, nil
	}
	var sb strings.Builder
	addrs := make([]netip.Addr, 0, len(m.addrs))
	for a := range m.addrs {
		addrs = append(addrs, a)
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	for _, a := range addrs {
		fmt.Fprintf(&sb, "%s %s\n", a, m.addrs[a])
	}
	ports := make([]netip.AddrPort, 0, len(m.ports))
	for ap := range m.ports {
		ports = append(ports, ap)
	}
	slices.SortFunc(ports, netip.AddrPort.Compare)
	for _, ap := range ports {
		fmt.Fprintf(&sb, "%s %s\n", ap, m.ports[ap])
	}
	n, err := io.WriteString(w, sb.String())
	return int64(n), err
}
