package text

import "strings"

// line is one output line of fixed width, in terminal cells. A wide rune
// takes its cell and the next, which holds the placeholder 0.
type line []rune

func newLine(w int) line {
	l := make(line, max(w, 0))
	for i := range l {
		l[i] = ' '
	}
	return l
}

// clear blanks cell x, and the other half of a wide rune it belongs to.
func (l line) clear(x int) {
	if x < 0 || x >= len(l) {
		return
	}
	if l[x] == 0 && x > 0 {
		l[x-1] = ' '
	}
	if x+1 < len(l) && l[x+1] == 0 {
		l[x+1] = ' '
	}
	l[x] = ' '
}

// put writes s from cell x on, dropping what does not fit, and returns the
// cell after the last one written.
func (l line) put(x int, s string) int {
	for _, r := range s {
		w := runeWidth(r)
		if x < 0 {
			x += w
			continue
		}
		if x+w > len(l) {
			break
		}
		l.clear(x)
		if w == 2 {
			l.clear(x + 1)
			l[x+1] = 0
		}
		l[x] = r
		x += w
	}
	return x
}

// String is the line without trailing blanks.
func (l line) String() string {
	var b strings.Builder
	for _, r := range l {
		if r != 0 {
			b.WriteRune(r)
		}
	}
	return strings.TrimRight(b.String(), " ")
}
