// Package text renders calls for a terminal: the call list (sipflow calls),
// its NDJSON form, the ladder of one call (sipflow flow) and its messages
// verbatim (sipflow show).
//
// Every line the renderers print for a terminal fits Options.Width cells;
// text that came off the wire is escaped so that it cannot move the cursor or
// change colours.
package text

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/sipflow/sipflow/convert/call"
	"github.com/sipflow/sipflow/convert/media"
	"github.com/sipflow/sipflow/parse/hosts"
)

// Options tune the terminal renderers.
type Options struct {
	Width    int            // columns available; 0 -> 100
	ASCII    bool           // ASCII instead of Unicode box drawing
	Hosts    *hosts.Map     // names for hosts; nil ok
	Location *time.Location // times shown in this zone; nil -> UTC
}

// DefaultWidth is the width used when Options.Width is 0 or less.
const DefaultWidth = 100

func (o Options) width() int {
	if o.Width <= 0 {
		return DefaultWidth
	}
	return o.Width
}

func (o Options) loc() *time.Location {
	if o.Location == nil {
		return time.UTC
	}
	return o.Location
}

func (o Options) ellipsis() string {
	if o.ASCII {
		return "..."
	}
	return "…"
}

// party is how a party is shown in lists: its user part, else its URI.
func party(p call.Party) string {
	if p.User != "" {
		return p.User
	}
	return p.URI
}

// duration formats End-Start as seconds with milliseconds, "-" if unknown.
func duration(c *call.Call) string {
	if c.Start.IsZero() || c.End.IsZero() || c.End.Before(c.Start) {
		return "-"
	}
	return secs(c.End.Sub(c.Start))
}

// secs formats d as "12.345s".
func secs(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) + "s"
}

const listTime = "2006-01-02 15:04:05.000"

// Calls writes the call list: a header line and one line per call, columns
// aligned, from and to truncated so that no line is wider than o.Width.
func Calls(w io.Writer, calls []*call.Call, o Options) error {
	W := o.width()
	ell := o.ellipsis()
	head := []string{"#", "Start", "Method", "From", "To", "Status", "State", "Duration", "Legs", "Msgs"}
	right := []bool{true, false, false, false, false, true, false, true, true, true}
	rows := [][]string{head}
	for _, c := range calls {
		if c == nil {
			continue
		}
		start := "-"
		if !c.Start.IsZero() {
			start = c.Start.In(o.loc()).Format(listTime)
			if call.Dateless(c.Start) {
				start = c.Start.Format("15:04:05.000")
			}
		}
		status := "-"
		if c.FinalStatus != 0 {
			status = strconv.Itoa(c.FinalStatus)
		}
		rows = append(rows, []string{
			strconv.Itoa(c.Index), start, clean(c.Method),
			clean(party(c.From)), clean(party(c.To)),
			status, c.State.String(), duration(c),
			strconv.Itoa(len(c.Legs)), strconv.Itoa(c.Messages),
		})
	}
	widths := make([]int, len(head))
	for _, r := range rows {
		for i, f := range r {
			widths[i] = max(widths[i], strWidth(f))
		}
	}
	// Shrink From and To (columns 3 and 4) until the line fits.
	const fromCol, toCol, minParty = 3, 4, 5
	total := func() int {
		t := len(widths) - 1 // one space between columns
		for _, x := range widths {
			t += x
		}
		return t
	}
	for total() > W && (widths[fromCol] > minParty || widths[toCol] > minParty) {
		if widths[fromCol] >= widths[toCol] && widths[fromCol] > minParty {
			widths[fromCol]--
		} else {
			widths[toCol]--
		}
	}
	bw := bufio.NewWriter(w)
	var line strings.Builder
	for _, r := range rows {
		line.Reset()
		for i, f := range r {
			if i > 0 {
				line.WriteByte(' ')
			}
			f = truncate(f, widths[i], ell)
			if right[i] {
				line.WriteString(padLeft(f, widths[i]))
			} else if i == len(r)-1 {
				line.WriteString(f)
			} else {
				line.WriteString(pad(f, widths[i]))
			}
		}
		s := strings.TrimRight(line.String(), " ")
		bw.WriteString(truncate(s, W, ell))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// CallJSON is one line of CallsJSON. Field order is the output order.
type CallJSON struct {
	Index           int      `json:"index"`
	CallID          string   `json:"call_id"`
	CallIDs         []string `json:"call_ids"`
	Start           *string  `json:"start"` // RFC 3339 with nanoseconds, UTC; null if unknown
	End             *string  `json:"end"`
	Method          string   `json:"method"`
	From            string   `json:"from"` // user part, else URI
	To              string   `json:"to"`
	FromDisplay     string   `json:"from_display"`
	ToDisplay       string   `json:"to_display"`
	FromURI         string   `json:"from_uri"`
	ToURI           string   `json:"to_uri"`
	RequestURI      string   `json:"request_uri"`
	PAI             string   `json:"pai"` // user part, else URI; "" if none
	Diversion       string   `json:"diversion"`
	FinalStatus     int      `json:"final_status"` // 0 if none
	FinalReason     string   `json:"final_reason"`
	State           string   `json:"state"`
	DurationMS      *float64 `json:"duration_ms"`        // End-Start; null if unknown
	SetupMS         *float64 `json:"setup_ms"`           // null when not measured
	PostDialDelayMS *float64 `json:"post_dial_delay_ms"` // null when not measured
	TalkMS          *float64 `json:"talk_ms"`            // null when never answered
	EndCause        string   `json:"end_cause"`
	EndedBy         *string  `json:"ended_by"` // ip:port, null if unknown
	EndedByCaller   bool     `json:"ended_by_caller"`
	Reason          string   `json:"reason"` // Reason header, verbatim
	Q850            int      `json:"q850"`
	Messages        int      `json:"messages"`
	Retransmissions int      `json:"retransmissions"`
	Broken          int      `json:"broken"`
	Legs            int      `json:"legs"`
	// Streams are the call's media streams, the objects of `sipflow rtp
	// --json`, in order of first packet; [] when none (or media not read).
	Streams []StreamJSON `json:"streams"`
}

// ms is d in milliseconds (microsecond precision), nil for a negative
// duration (the model's "not measured").
func ms(d time.Duration) *float64 {
	if d < 0 {
		return nil
	}
	v := float64(d.Microseconds()) / 1000
	return &v
}

func rfc3339(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

// NewCallJSON is the JSON record of c.
func NewCallJSON(c *call.Call) CallJSON {
	j := CallJSON{
		Index:           c.Index,
		CallIDs:         c.CallIDs,
		Start:           rfc3339(c.Start),
		End:             rfc3339(c.End),
		Method:          c.Method,
		From:            party(c.From),
		To:              party(c.To),
		FromDisplay:     c.From.Display,
		ToDisplay:       c.To.Display,
		FromURI:         c.From.URI,
		ToURI:           c.To.URI,
		RequestURI:      c.RequestURI,
		PAI:             party(c.PAI),
		Diversion:       party(c.Diversion),
		FinalStatus:     c.FinalStatus,
		FinalReason:     c.FinalReason,
		State:           c.State.String(),
		SetupMS:         ms(c.SetupTime),
		PostDialDelayMS: ms(c.PostDialDelay),
		TalkMS:          ms(c.TalkTime),
		EndCause:        c.EndCause.String(),
		EndedByCaller:   c.EndedByFrom,
		Reason:          c.ReasonHdr,
		Q850:            c.Q850,
		Messages:        c.Messages,
		Retransmissions: c.Retransmissions,
		Broken:          c.Broken,
		Legs:            len(c.Legs),
		Streams:         []StreamJSON{},
	}
	if j.CallIDs == nil {
		j.CallIDs = []string{}
	}
	if len(c.CallIDs) > 0 {
		j.CallID = c.CallIDs[0]
	}
	if !c.Start.IsZero() && !c.End.IsZero() && !c.End.Before(c.Start) {
		j.DurationMS = ms(c.End.Sub(c.Start))
	}
	if c.EndedBy.IsValid() {
		s := c.EndedBy.String()
		j.EndedBy = &s
	}
	return j
}

// CallsJSON writes one JSON object per call, one per line (NDJSON), with
// no streams: CallsMediaJSON adds them.
func CallsJSON(w io.Writer, calls []*call.Call) error {
	return CallsMediaJSON(w, calls, nil)
}

// CallsMediaJSON is CallsJSON with each call's streams from res (nil: none):
// the same objects as RTPJSON writes, call-level problems included.
func CallsMediaJSON(w io.Writer, calls []*call.Call, res *media.Result) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, c := range calls {
		if c == nil {
			continue
		}
		j := NewCallJSON(c)
		if res != nil {
			j.Streams = CallStreamsJSON(c, res)
		}
		if err := enc.Encode(j); err != nil {
			return fmt.Errorf("text: call %d: %w", c.Index, err)
		}
	}
	return bw.Flush()
}

// CallStreamsJSON is the JSON of the streams of c's Call-IDs in res, in
// order of first packet, as RTPJSON writes them; [] when none.
func CallStreamsJSON(c *call.Call, res *media.Result) []StreamJSON {
	out := []StreamJSON{}
	for _, s := range res.ForCall(c.CallIDs, c.Start, c.End).Streams {
		j := NewStreamJSON(s, c.Index)
		j.Problems = append(j.Problems, callProblems(res.CallOf(s))...)
		out = append(out, j)
	}
	return out
}
