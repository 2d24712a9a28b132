package text

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// runeWidth is the number of terminal cells a rune takes: 2 for East Asian
// wide and fullwidth runes, 1 for everything else. Zero-width runes
// (combining marks) count 1 on purpose: overcounting only makes a line
// shorter, never longer than the width it must fit.
func runeWidth(r rune) int {
	if r < 0x1100 { // no wide rune below Hangul Jamo
		return 1
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// strWidth is the display width of s (see runeWidth).
func strWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

// clean makes s safe to print on a terminal and measurable: control and
// format characters (escape sequences, bidi overrides, zero-width joiners)
// and invalid UTF-8 are written as Go-style escapes, tabs and line ends as
// one space.
func clean(s string) string {
	ok := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case r < 0x80 && unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += n
	}
	return b.String()
}

// truncate cuts s to at most w cells, ending in ell when it had to cut.
// When w is too small even for ell, it returns as much of ell as fits.
func truncate(s string, w int, ell string) string {
	if w <= 0 {
		return ""
	}
	if strWidth(s) <= w {
		return s
	}
	ew := strWidth(ell)
	if ew >= w {
		return fit(ell, w)
	}
	return fit(s, w-ew) + ell
}

// fit returns the longest prefix of s at most w cells wide.
func fit(s string, w int) string {
	n := 0
	for i, r := range s {
		rw := runeWidth(r)
		if n+rw > w {
			return s[:i]
		}
		n += rw
	}
	return s
}

// truncateLeft cuts s to w cells keeping its end, starting with ell when
// it had to cut (for addresses: "…168.1.10:5060").
func truncateLeft(s string, w int, ell string) string {
	if w <= 0 {
		return ""
	}
	if strWidth(s) <= w {
		return s
	}
	ew := strWidth(ell)
	if ew >= w {
		return fit(ell, w)
	}
	rs := []rune(s)
	j, tw := len(rs), 0
	for j > 0 && tw+runeWidth(rs[j-1]) <= w-ew {
		j--
		tw += runeWidth(rs[j])
	}
	return ell + string(rs[j:])
}

// pad returns s padded with spaces on the right to w cells.
func pad(s string, w int) string {
	if d := w - strWidth(s); d > 0 {
		return s + strings.Repeat(" ", d)
	}
	return s
}

// padLeft returns s padded with spaces on the left to w cells.
func padLeft(s string, w int) string {
	if d := w - strWidth(s); d > 0 {
		return strings.Repeat(" ", d) + s
	}
	return s
}
