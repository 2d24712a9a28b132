package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/sipflow/sipflow/convert/call"
	"github.com/sipflow/sipflow/convert/media"
	"github.com/sipflow/sipflow/parse/capture"
	"github.com/sipflow/sipflow/parse/pcap"
	"github.com/sipflow/sipflow/parse/textlog"
)

// inputOpts are the flags every command that reads captures shares.
type inputOpts struct {
	keepDuplicates bool
	quiet          bool
	correlate      []string
	noSDP          bool // the command shows no media: skip SDP parsing
	format         string
	year           int
	tz             string // the zone of local times in text logs (the command's --tz)
	outputFormat   bool   // the command's --format names its output (report)
}

func (o *inputOpts) register(fs *pflag.FlagSet) {
	fs.BoolVar(&o.keepDuplicates, "keep-duplicates", false, "keep packets captured twice (tcpdump -i any, two interfaces)")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "no summary on stderr")
	fs.StringVar(&o.format, "input-format", "auto", "input format: auto, pcap (pcap/pcapng), or a text log: "+textFormats())
	if fs.Lookup("format") == nil && !o.outputFormat {
		// Commands without an output format take --format for the input.
		fs.StringVar(&o.format, "format", "auto", "same as --input-format")
	}
	fs.IntVar(&o.year, "year", 0, "year for text-log times that have none (default: the file's modification year)")
	fs.StringSliceVar(&o.correlate, "correlate", nil, "headers that tie B2BUA legs into one call (default X-CID,X-Call-ID,Session-ID,P-Charging-Vector; \"none\" to disable)")
}

// loadResult is what reading the inputs gave.
type loadResult struct {
	calls  []*call.Call
	stats  capture.Stats
	failed int // inputs that could not be read at all
}

// load reads every file into one Builder: up to maxMerged files side by
// side, merged by time (a packet two of them hold counts once), more one
// after another. A file that cannot be read is reported on stderr and
// counted; the others are still read.
func load(ctx context.Context, files []string, in inputOpts, bopts call.Options, keep func(*call.Call) bool, stderr io.Writer) (*loadResult, error) {
	return loadTracked(ctx, files, in, bopts, keep, nil, stderr)
}

// loadTracked is load that also feeds tr, when not nil, every SIP message
// and media datagram in capture order (SDP parsed, media delivered), so
// that the same pass gives the calls and their streams: tr.Finish() after.
func loadTracked(ctx context.Context, files []string, in inputOpts, bopts call.Options, keep func(*call.Call) bool, tr *media.Tracker, stderr io.Writer) (*loadResult, error) {
	res := &loadResult{}
	if in.correlate != nil {
		bopts.CorrelationHeaders = []string{}
		for _, h := range in.correlate {
			if h != "none" && h != "" {
				bopts.CorrelationHeaders = append(bopts.CorrelationHeaders, h)
			}
		}
	}
	b := call.NewBuilder(bopts, func(c *call.Call) {
		if keep == nil || keep(c) {
			res.calls = append(res.calls, c)
		}
	})
	merged := len(files) > 1 && len(files) <= maxMerged
	var h capture.Handler = &feeder{b: b}
	if tr != nil {
		h = &mediaFeeder{b: b, t: tr}
		// Read alone, a capture gives the Tracker each message's SDP in
		// Peek's own parse (capture.Inline), and the Builder shows SDP only
		// in the messages it keeps: the full parse can leave it out. Merged
		// inputs reach the Tracker through that full parse.
		in.noSDP = !bopts.KeepMsgs && !merged
	}
	rd, err := newInputReader(in)
	if err != nil {
		return nil, err
	}
	rd.capture.Media = tr != nil
	// The Builder and the media Tracker copy what they keep of a message,
	// unless the Builder keeps messages whole; the merger holds on to them.
	rd.capture.ReuseMessages = bopts.KeepFull == nil && !merged
	if merged {
		stats, errs := rd.readMerged(ctx, files, capture.Serial(h))
		for i := range files {
			res.stats.Add(stats[i])
			if errs[i] != nil {
				fmt.Fprintf(stderr, "sipflow: %v\n", inputError(errs[i]))
				res.failed++
			}
		}
	} else {
		for _, f := range files {
			if ctx.Err() != nil {
				break // interrupted: what was read so far is shown
			}
			st, err := rd.read(ctx, f, h)
			res.stats.Add(st)
			if err != nil {
				fmt.Fprintf(stderr, "sipflow: %v\n", inputError(err))
				res.failed++
			}
		}
	}
	b.Flush()
	call.Sort(res.calls)
	return res, nil
}

// inputError words an input's error for a person: an interrupt (Ctrl-C)
// is not a fault of the file.
func inputError(err error) string {
	if errors.Is(err, context.Canceled) {
		return strings.TrimSuffix(err.Error(), context.Canceled.Error()) + "interrupted; the calls read so far follow"
	}
	return err.Error()
}

// inputReader reads one input of any kind: a capture, else a text log.
type inputReader struct {
	format  string
	capture capture.Options
	textlog textlog.Options
}

func newInputReader(in inputOpts) (*inputReader, error) {
	rd := &inputReader{format: strings.ToLower(in.format)}
	rd.capture = capture.Options{KeepDuplicates: in.keepDuplicates, NoSDP: in.noSDP}
	if rd.format == "" {
		rd.format = "auto"
	}
	if rd.format != "pcap" {
		f, err := textlog.ParseFormat(rd.format)
		if err != nil {
			return nil, fmt.Errorf("%w: --format: %v", errUsage, err)
		}
		rd.textlog.Format = f
	}
	rd.textlog.Year = in.year
	if in.tz != "" {
		loc, err := time.LoadLocation(in.tz)
		if err != nil {
			return nil, fmt.Errorf("%w: --tz %q: %v", errUsage, in.tz, err)
		}
		rd.textlog.Location = loc
	}
	return rd, nil
}

// read reads one file, detecting its kind by content unless --format says.
func (rd *inputReader) read(ctx context.Context, path string, h capture.Handler) (capture.Stats, error) {
	if rd.format == "auto" || rd.format == "pcap" {
		st, err := capture.ReadFile(ctx, path, rd.capture, h)
		if rd.format == "pcap" || !errors.Is(err, pcap.ErrNotCapture) {
			return st, err
		}
	}
	st, err := textlog.ReadFile(ctx, path, rd.textlog, capture.Serial(h))
	if errors.Is(err, textlog.ErrNotLog) && rd.format == "auto" {
		// Nothing of it was used: no counts, no skipped-line warnings.
		return capture.Stats{}, fmt.Errorf("%s: %w: neither a capture (pcap, pcapng) nor a text log holding SIP messages", path, errUnknownInput)
	}
	return st, err
}

// errUnknownInput says a file is neither a capture nor a SIP text log.
var errUnknownInput = errors.New("unknown input")

// textFormats lists the text log format names for the --format help.
func textFormats() string {
	var names []string
	for f := textlog.FormatTcpdump; f.String() != "" && !strings.HasPrefix(f.String(), "Format("); f++ {
		names = append(names, f.String())
	}
	return strings.Join(names, ", ")
}

// feeder hands messages from the capture reader to the Builder.
type feeder struct{ b *call.Builder }

func (f *feeder) SIP(m *capture.Message) { f.b.Add(m) }
func (f *feeder) Media(*capture.Media)   {}

// maxWarningsShown bounds the warnings printed in a summary.
const maxWarningsShown = 20

// summary prints what was read to stderr: the figures a person checks first.
func summary(w io.Writer, st capture.Stats, calls int, took time.Duration) {
	for i, wn := range st.Warnings {
		if i == maxWarningsShown {
			fmt.Fprintf(w, "sipflow: ... %d more warnings\n", len(st.Warnings)-i)
			break
		}
		fmt.Fprintf(w, "sipflow: warning: %s\n", warningText(wn))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "sipflow: %s, %s, %s (%d broken), %s",
		plural(st.Files, "file"), plural(st.Frames, "frame"), plural(st.SIPMessages, "SIP message"), st.Broken, plural(calls, "call"))
	fmt.Fprintf(&b, ", %d duplicates dropped", st.Duplicates)
	fmt.Fprintf(&b, ", %s not read (encrypted)", plural(st.TLSFlows, "TLS flow"))
	if st.BadPackets > 0 {
		fmt.Fprintf(&b, ", %s", plural(st.BadPackets, "undecodable frame"))
	}
	fmt.Fprintf(&b, ", %.2fs", took.Seconds())
	fmt.Fprintln(w, b.String())
}

func warningText(w capture.Warning) string {
	pos := w.File
	switch {
	case w.Frame > 0:
		pos = fmt.Sprintf("%s#%d", w.File, w.Frame)
	case w.Offset >= 0:
		pos = fmt.Sprintf("%s@%d", w.File, w.Offset)
	}
	return fmt.Sprintf("%s: %v", pos, w.Err)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
