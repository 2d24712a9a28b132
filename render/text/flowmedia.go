package text

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sipflow/sipflow/convert/media"
)

// callLevel says whether a problem is about the call as a whole rather than
// one stream (the kinds RTP and RTPJSON add to every stream of the call).
func callLevel(k media.ProblemKind) bool {
	return k == media.OneWay || k == media.NoMedia || k == media.PrivateSDP
}

// StreamCodec is how a stream's payload is named in tables: the codec (or
// the payload type number), "/SRTP" when the SDP said so, "T.38 fax" for fax.
func StreamCodec(s *media.Stream) string { return string(appendStreamCodec(nil, s)) }

func appendStreamCodec(b []byte, s *media.Stream) []byte {
	if s.Kind == media.KindFax {
		return append(b, "T.38 fax"...)
	}
	if s.Codec != "" {
		b = append(b, s.Codec...)
	} else {
		b = strconv.AppendInt(b, int64(s.PayloadType), 10)
	}
	if s.SRTP {
		b = append(b, "/SRTP"...)
	}
	return b
}

// StreamProblems are the problem kinds of a stream followed by the
// call-level ones of its call (one-way, no media, private SDP), each once.
func StreamProblems(s *media.Stream, cm *media.CallMedia) []string {
	var out []string
	for _, p := range s.Problems {
		out = append(out, p.Kind.String())
	}
	if cm != nil {
		for _, p := range cm.Problems {
			if callLevel(p.Kind) {
				out = append(out, p.Kind.String())
			}
		}
	}
	return uniq(out)
}

// mediaFields is the media line of one stream, as fields to wrap: the
// direction, codec, packets, loss, max/mean jitter, MOS, then problems and
// DTMF digits when there are any.
func mediaFields(s *media.Stream, cm *media.CallMedia) []string {
	fs := []string{s.Src.String() + " -> " + s.Dst.String(), StreamCodec(s), plural(s.Packets, "pkt")}
	if s.Kind != media.KindFax {
		mos := "-"
		if s.MOS >= 0 {
			mos = strconv.FormatFloat(s.MOS, 'f', 2, 64)
		}
		fs = append(fs,
			fmt.Sprintf("lost %d (%.1f%%)", s.Lost, s.LostPct),
			fmt.Sprintf("jitter %.3f/%.3f ms", s.MaxJitter, s.MeanJitter),
			"MOS "+mos)
	}
	if ps := StreamProblems(s, cm); len(ps) > 0 {
		fs = append(fs, "problems: "+strings.Join(ps, ","))
	}
	if len(s.Events) > 0 {
		var ds []string
		for _, e := range s.Events {
			ds = append(ds, e.Digit)
		}
		fs = append(fs, "DTMF "+strings.Join(ds, " "))
	}
	return fs
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// media writes the media lines of the header: one per stream, then the
// call-level problems in words.
func (f *flow) media() {
	cm := f.cm
	if cm == nil {
		return
	}
	switch len(cm.Streams) {
	case 0:
		s := "Media: none seen"
		if cm.LogOnly {
			s = "Media: not measured (a text log holds the signalling only)"
		}
		if cm.Fax {
			s += " (T.38 fax was negotiated)"
		}
		f.println(s)
	default:
		f.println("Media: " + plural(len(cm.Streams), "stream") + " (jitter: max/mean)")
		for _, s := range cm.Streams {
			f.wrapIndent(mediaFields(s, cm), "  ", "      ")
		}
	}
	for _, p := range cm.Problems {
		if !callLevel(p.Kind) {
			continue
		}
		for i, part := range wrapText(clean(p.String()), f.W-4, 3, f.ell) {
			lead := "  ! "
			if i > 0 {
				lead = "    "
			}
			f.println(lead + part)
		}
	}
}

// wrapIndent is wrap with a lead before the first line and an indent
// before the others.
func (f *flow) wrapIndent(fields []string, lead, indent string) {
	cur := lead
	empty := true
	for _, fl := range fields {
		fl = clean(fl)
		switch {
		case empty:
			cur += fl
			empty = false
		case strWidth(cur)+2+strWidth(fl) <= f.W:
			cur += "  " + fl
		default:
			f.println(cur)
			cur = indent + fl
		}
	}
	if !empty {
		f.println(cur)
	}
}
