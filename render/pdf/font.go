package pdf

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
)

// fontID names one of the three embedded fonts.
type fontID uint8

const (
	fRegular fontID = iota
	fBold
	fMono
)

func (f fontID) String() string {
	switch f {
	case fBold:
		return "B"
	case fMono:
		return "M"
	}
	return "R"
}

// fpdf family and style of each font.
var fontFamily = [...][2]string{fRegular: {"go", ""}, fBold: {"go", "B"}, fMono: {"gomono", ""}}

func fontBytes(f fontID) []byte {
	switch f {
	case fBold:
		return gobold.TTF
	case fMono:
		return gomono.TTF
	}
	return goregular.TTF
}

// replacement is drawn for a character the fonts have no glyph for.
const replacement = '\uFFFD'

// coverage answers whether the Go fonts have a glyph for a rune. The three
// Go fonts cover the same repertoire (WGL4: Latin, Greek, Cyrillic,
// box drawing), so one table serves all.
type coverage struct {
	f     *sfnt.Font
	buf   sfnt.Buffer
	known map[rune]bool
}

func newCoverage() (*coverage, error) {
	f, err := sfnt.Parse(goregular.TTF)
	if err != nil {
		return nil, fmt.Errorf("pdf: font: %w", err)
	}
	return &coverage{f: f, known: map[rune]bool{}}, nil
}

func (c *coverage) has(r rune) bool {
	if r < 0x7f {
		return r >= 0x20
	}
	ok, seen := c.known[r]
	if !seen {
		g, err := c.f.GlyphIndex(&c.buf, r)
		ok = err == nil && g != 0
		c.known[r] = ok
	}
	return ok
}

// label makes s drawable as one line of proportional text: invalid bytes,
// control characters and characters without a glyph become U+FFFD; tabs and
// newlines become spaces.
func (c *coverage) label(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case r == utf8.RuneError && n == 1, !c.has(r):
			b.WriteRune(replacement)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// verbatim makes one line of a message drawable in the monospace font
// without losing information: a tab becomes spaces to the next multiple of
// 8, an invalid byte or control character becomes \xNN, and a character
// without a glyph becomes <U+XXXX>. It returns the line as runes, one cell
// each.
func (c *coverage) verbatim(line string) []rune {
	out := make([]rune, 0, len(line))
	for i := 0; i < len(line); {
		r, n := utf8.DecodeRuneInString(line[i:])
		switch {
		case r == '\t':
			out = append(out, ' ')
			for len(out)%8 != 0 {
				out = append(out, ' ')
			}
		case r == utf8.RuneError && n == 1, r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
			for j := 0; j < n; j++ {
				out = append(out, []rune(fmt.Sprintf(`\x%02X`, line[i+j]))...)
			}
		case !c.has(r):
			out = append(out, []rune(fmt.Sprintf("<U+%04X>", r))...)
		default:
			out = append(out, r)
		}
		i += n
	}
	return out
}
