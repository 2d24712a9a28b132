package hosts

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = `# lab hosts
10.0.0.1            pbx
10.0.0.2:5060       proxy   # only this port
10.0.0.2            proxy host
[2001:db8::1]:5061  sbc  tls   side
2001:db8::2         carrier

10.0.0.1 pbx-renamed
`

func TestParseName(t *testing.T) {
	m, err := Parse(strings.NewReader(sample), "lab.hosts")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	tests := []struct {
		name string
		ap   string
		want string
	}{
		{"later line overrides", "10.0.0.1:5060", "pbx-renamed"},
		{"ip-only match any port", "10.0.0.1:1234", "pbx-renamed"},
		{"exact port beats ip", "10.0.0.2:5060", "proxy"},
		{"other port falls back to ip", "10.0.0.2:5080", "proxy host"},
		{"v6 with port, spaces folded", "[2001:db8::1]:5061", "sbc tls side"},
		{"v6 other port unknown", "[2001:db8::1]:5060", ""},
		{"v6 ip only", "[2001:db8::2]:5060", "carrier"},
		{"v4-mapped v6 matches v4", "[::ffff:10.0.0.2]:5060", "proxy"},
		{"unknown", "192.0.2.9:5060", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.Name(netip.MustParseAddrPort(tt.ap)); got != tt.want {
				t.Errorf("Name(%s) = %q, want %q", tt.ap, got, tt.want)
			}
		})
	}
	if m.Len() != 5 {
		t.Errorf("Len = %d, want 5", m.Len())
	}
}

func TestNilAndZero(t *testing.T) {
	var m *Map
	if got := m.Name(netip.MustParseAddrPort("10.0.0.1:5060")); got != "" {
		t.Errorf("nil Map Name = %q", got)
	}
	if m.Len() != 0 {
		t.Errorf("nil Len = %d", m.Len())
	}
	var z Map
	if got := z.Name(netip.MustParseAddrPort("10.0.0.1:5060")); got != "" {
		t.Errorf("zero Map Name = %q", got)
	}
	if got := z.Name(netip.AddrPort{}); got != "" {
		t.Errorf("invalid AddrPort Name = %q", got)
	}
	z.Set(netip.MustParseAddrPort("10.0.0.1:5060"), "a")
	z.SetAddr(netip.MustParseAddr("10.0.0.1"), "b")
	if got := z.Name(netip.MustParseAddrPort("10.0.0.1:5060")); got != "a" {
		t.Errorf("after Set: %q", got)
	}
	if got := z.Name(netip.MustParseAddrPort("10.0.0.1:5061")); got != "b" {
		t.Errorf("after SetAddr: %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantPos []string // each must appear in the error text
		good    string   // an address that must still be named
	}{
		{"no name", "10.0.0.1 pbx\n10.0.0.2\n", []string{"f.hosts:2:"}, "10.0.0.1:1"},
		{"bad address", "pbx 10.0.0.1\n10.0.0.3 c\n", []string{"f.hosts:1:"}, "10.0.0.3:1"},
		{"hostname not allowed", "# c\n\nexample.com foo\n", []string{"f.hosts:3:"}, ""},
		{"bad port", "10.0.0.1:99999 x\n", []string{"f.hosts:1:"}, ""},
		{"v6 port without brackets", "2001:db8::1:5060:x y\n", []string{"f.hosts:1:"}, ""},
		{"two bad lines", "a b\n10.0.0.1 ok\nc d\n", []string{"f.hosts:1:", "f.hosts:3:"}, "10.0.0.1:5"},
		{"invalid utf8", "10.0.0.1 \xff\xfe\n", []string{"f.hosts:1:"}, ""},
		{"control char in name", "10.0.0.1 a\x01b\n", []string{"f.hosts:1:"}, ""},
		{"crlf and no final newline", "10.0.0.1 ok\r\nbad\r\n10.0.0.2 x", []string{"f.hosts:2:"}, "10.0.0.2:1"},
		{"line too long", "10.0.0.1 " + strings.Repeat("x", maxLine+10) + "\n10.0.0.2 after\nzz\n", []string{"f.hosts:1:", "f.hosts:3:"}, "10.0.0.2:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(strings.NewReader(tt.in), "f.hosts")
			if !errors.Is(err, ErrBadLine) {
				t.Fatalf("err = %v, want ErrBadLine", err)
			}
			for _, p := range tt.wantPos {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q does not name %s", err, p)
				}
			}
			if n := strings.Count(err.Error(), "f.hosts:"); n != len(tt.wantPos) {
				t.Errorf("error names %d lines, want %d: %v", n, len(tt.wantPos), err)
			}
			if tt.good != "" && m.Name(netip.MustParseAddrPort(tt.good)) == "" {
				t.Errorf("good line lost: %s has no name", tt.good)
			}
		})
	}
}

func TestErrorCap(t *testing.T) {
	_, err := Parse(strings.NewReader(strings.Repeat("bad\n", 100)), "f")
	if !errors.Is(err, ErrBadLine) {
		t.Fatalf("err = %v", err)
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != maxErrors {
		t.Errorf("%d errors reported, want %d", n, maxErrors)
	}
}

func TestLoad(t *testing.T) {
	p := filepath.Join(t.TempDir(), "h")
	if err := os.WriteFile(p, []byte("10.0.0.1 a\nnope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := Load(p)
	if !errors.Is(err, ErrBadLine) || !strings.Contains(err.Error(), p+":2:") {
		t.Fatalf("Load err = %v, want ErrBadLine at %s:2", err, p)
	}
	if m.Name(netip.MustParseAddrPort("10.0.0.1:5060")) != "a" {
		t.Errorf("Load lost the good line")
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load missing: %v, want ErrNotExist", err)
	}
}

func TestWriteToRoundTrip(t *testing.T) {
	m, err := Parse(strings.NewReader(sample), "s")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	want := "10.0.0.1 pbx-renamed\n10.0.0.2 proxy host\n2001:db8::2 carrier\n10.0.0.2:5060 proxy\n[2001:db8::1]:5061 sbc tls side\n"
	if buf.String() != want {
		t.Errorf("WriteTo:\n%s\nwant:\n%s", buf.String(), want)
	}
}

// FuzzParse checks that Parse never panics and that whatever it accepts
// survives WriteTo -> Parse unchanged, and that every good line's address is
// named as the last line for it says.
func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("10.0.0.1 a\n10.0.0.1:5060 b\n[::1]:5 c # x\n"))
	f.Add([]byte("fe80::1%eth0 link\n::ffff:1.2.3.4 mapped\n"))
	f.Add([]byte("\n\n#\n   \t\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(bytes.NewReader(data), "fuzz")
		if err != nil && !errors.Is(err, ErrBadLine) {
			t.Fatalf("error not ErrBadLine: %v", err)
		}
		var buf bytes.Buffer
		if _, err := m.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		m2, err := Parse(bytes.NewReader(buf.Bytes()), "again")
		if err != nil {
			t.Fatalf("re-parse of %q: %v", buf.String(), err)
		}
		var buf2 bytes.Buffer
		m2.WriteTo(&buf2)
		if buf.String() != buf2.String() {
			t.Fatalf("round trip differs:\n%q\n%q", buf.String(), buf2.String())
		}
		if m.Len() != m2.Len() {
			t.Fatalf("Len %d != %d", m.Len(), m2.Len())
		}
		for ap, n := range m.ports {
			if got := m2.Name(ap); got != n {
				t.Fatalf("Name(%s) = %q after round trip, want %q", ap, got, n)
			}
		}
		for a, n := range m.addrs {
			if _, exact := m.ports[netip.AddrPortFrom(a, 1)]; exact {
				continue
			}
			if got := m2.Name(netip.AddrPortFrom(a, 1)); got != n {
				t.Fatalf("Name(%s) = %q after round trip, want %q", a, got, n)
			}
		}
	})
}
