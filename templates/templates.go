// Package templates holds the wording of the reports as data: the plain-words
// meaning of SIP response codes and Q.850 causes, and the fixed texts of the
// PDF report. The files are embedded, so a reader changes a phrase by editing
// a text file, without touching a renderer. Only render packages import it.
package templates

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"
)

// FS holds the embedded files.
//
//go:embed *.txt
var FS embed.FS

// ErrBadLine is wrapped by every error about a line of a template file.
var ErrBadLine = errors.New("templates: bad line")

// Texts is the parsed wording.
type Texts struct {
	status map[int]string // code -> meaning; 1..6 -> class fallback
	q850   map[int]string
	report map[string]string
}

// Parse reads the three files from fsys: status.txt, q850.txt, report.txt.
func Parse(fsys fs.FS) (*Texts, error) {
	t := &Texts{status: map[int]string{}, q850: map[int]string{}, report: map[string]string{}}
	var errs []error
	read := func(name string, line func(s string) error) {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, err)
			return
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		n := 0
		for sc.Scan() {
			n++
			s := strings.TrimSpace(sc.Text())
			if s == "" || s[0] == '#' {
				continue
			}
			if err := line(s); err != nil {
				errs = append(errs, fmt.Errorf("%s:%d: %w", name, n, err))
			}
		}
	}
	codeLine := func(m map[int]string, class bool) func(string) error {
		return func(s string) error {
			k, v, ok := strings.Cut(strings.ReplaceAll(s, "\t", " "), " ")
			v = strings.TrimSpace(v)
			if !ok || v == "" {
				return fmt.Errorf("%w: want CODE MEANING", ErrBadLine)
			}
			if class && len(k) == 3 && k[1:] == "xx" && k[0] >= '1' && k[0] <= '6' {
				m[int(k[0]-'0')] = v
				return nil
			}
			n, err := strconv.Atoi(k)
			if err != nil || n < 1 || n > 999 {
				return fmt.Errorf("%w: bad code %q", ErrBadLine, k)
			}
			m[n] = v
			return nil
		}
	}
	read("status.txt", codeLine(t.status, true))
	read("q850.txt", codeLine(t.q850, false))
	read("report.txt", func(s string) error {
		k, v, ok := strings.Cut(s, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return fmt.Errorf("%w: want KEY = TEXT", ErrBadLine)
		}
		t.report[k] = strings.TrimSpace(v)
		return nil
	})
	if len(errs) > 0 {
		return t, errors.Join(errs...)
	}
	return t, nil
}

var def = sync.OnceValues(func() (*Texts, error) { return Parse(FS) })

// Default returns the embedded wording, parsed once. The embedded files are
// checked by the package tests, so an error here is a build defect.
func Default() *Texts {
	t, err := def()
	if err != nil {
		panic(err) // the embedded files are tested; this is unreachable in a tested build
	}
	return t
}

// Status is the plain-words meaning of a SIP response code: the code's own
// line, else its class's, else "".
func (t *Texts) Status(code int) string {
	if s, ok := t.status[code]; ok {
		return s
	}
	if code >= 100 && code <= 699 {
		return t.status[code/100]
	}
	return ""
}

// Q850 is the plain-words meaning of a Q.850 cause value, "" if unknown.
func (t *Texts) Q850(cause int) string { return t.q850[cause] }

// Text is the report text for key with {name} placeholders replaced by the
// pairs in kv (name, value, name, value...). A missing key reads as the key
// itself, so a gap in the file shows instead of vanishing.
func (t *Texts) Text(key string, kv ...string) string {
	s, ok := t.report[key]
	if !ok {
		s = key
	}
	for i := 0; i+1 < len(kv); i += 2 {
		s = strings.ReplaceAll(s, "{"+kv[i]+"}", kv[i+1])
	}
	return s
}
