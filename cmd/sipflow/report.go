package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipflow/sipflow/convert/call"
	"github.com/sipflow/sipflow/convert/media"
	"github.com/sipflow/sipflow/parse/hosts"
	"github.com/sipflow/sipflow/render/pdf"
)

// reportOpts are the flags of `sipflow report`.
type reportOpts struct {
	format    string
	id        string
	outDir    string
	single    bool
	hostsFile string
	tz        string
	redact    redactOpts
}

// callKey identifies a call across the two passes over the inputs.
type callKey struct {
	start   int64
	firstID string
	ids     int
}

func keyOf(c *call.Call) callKey {
	k := callKey{start: c.Start.UnixNano(), ids: len(c.CallIDs)}
	if len(c.CallIDs) > 0 {
		k.firstID = c.CallIDs[0]
	}
	return k
}

func newReportCmd(stdout, stderr io.Writer) *cobra.Command {
	var in inputOpts
	var ro reportOpts
	var mo mediaOpts
	cmd := &cobra.Command{
		Use:   "report --format pdf [--call ID] [-o DIR] [--single] FILE...",
		Short: "Write a PDF report per call (or one for all calls with --single)",
		Long: `Write a PDF report per call: a summary in plain words, the ladder (one column
per host, every arrow linked to the full message), the media quality of each
RTP stream (loss, delta, jitter, MOS, problems in words), and every message
verbatim.
Without --call, every call gets a report; with --single, one PDF holds them all
behind an index page. Files are named from date, time, from, to and Call-ID and
never overwrite an existing file. --redact masks digest credentials; add
numbers (all but the last --redact-digits digits) and ips (stable pseudonyms
in documentation ranges): --redact=numbers,ips.`,
		Args: needFiles,
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			res, err := runReport(cmd, args, in, ro, mo, stdout, stderr)
			if err != nil {
				return err
			}
			return finish(stderr, in, res, time.Since(start))
		},
	}
	in.outputFormat = true
	in.register(cmd.Flags())
	fs := cmd.Flags()
	fs.StringVar(&ro.format, "format", "pdf", "report format (pdf)")
	fs.StringVar(&ro.id, "call", "", "only this call `ID`: its index in the calls list, a Call-ID, or a unique prefix of one")
	fs.StringVarP(&ro.outDir, "output", "o", ".", "directory to write the reports in (created if missing)")
	fs.BoolVar(&ro.single, "single", false, "one PDF with every selected call, behind an index page")
	fs.StringVar(&ro.hostsFile, "hosts", "", "file naming hosts: lines of \"ADDRESS[:PORT] NAME\"")
	fs.StringVar(&ro.tz, "tz", "UTC", "time zone for times shown (IANA name, or Local)")
	ro.redact.register(cmd)
	mo.registerJitterBuffer(cmd)
	return cmd
}

func runReport(cmd *cobra.Command, files []string, in inputOpts, ro reportOpts, mo mediaOpts, stdout, stderr io.Writer) (*loadResult, error) {
	if ro.format != "pdf" {
		return nil, fmt.Errorf("%w: --format %q: only pdf is supported", errUsage, ro.format)
	}
	mopts, err := mo.options()
	if err != nil {
		return nil, err
	}
	po := pdf.Options{}
	loc, err := time.LoadLocation(ro.tz)
	if err != nil {
		return nil, fmt.Errorf("%w: --tz %q: %v", errUsage, ro.tz, err)
	}
	po.Location = loc
	if ro.hostsFile != "" {
		m, err := hosts.Load(ro.hostsFile)
		if err != nil {
			return nil, err
		}
		po.Hosts = m
	}
	rd, err := ro.redact.redactor(cmd)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(ro.outDir, 0o755); err != nil {
		return nil, fmt.Errorf("-o %s: %w", ro.outDir, err)
	}

	// Pass 1: summaries only, to number the calls as `sipflow calls` does
	// and to pick the selection, and the media of every call: pass 2
	// renders each call as soon as it ends, before its media would be
	// known.
	ctx := cmd.Context()
	in.tz = ro.tz
	quiet := in
	quiet.quiet, quiet.noSDP = true, true
	tr := media.NewTracker(mopts)
	res, err := loadTracked(ctx, files, quiet, call.Options{}, nil, tr, io.Discard)
	if err != nil {
		return nil, err
	}
	mres := tr.Finish()
	selected := res.calls
	if ro.id != "" {
		c, err := pick(res.calls, ro.id)
		if err != nil {
			return nil, err
		}
		selected = []*call.Call{c}
	}
	if len(selected) == 0 {
		fmt.Fprintln(stderr, "sipflow: no calls in the input: no report written")
		return res, nil
	}
	pos := make(map[callKey]int, len(selected))
	wantID := map[string]bool{}
	for i, c := range selected {
		pos[keyOf(c)] = i
		for _, id := range c.CallIDs {
			wantID[id] = true
		}
	}
	keepFull := func(id string) bool { return wantID[id] }
	if ro.id == "" {
		keepFull = func(string) bool { return true }
	}

	// Pass 2: each call is rendered as the Builder emits it and dropped.
	var doc *pdf.Document
	if ro.single {
		if doc, err = pdf.NewDocument(po); err != nil {
			return nil, err
		}
		if err := doc.Index(selected); err != nil {
			return nil, err
		}
	}
	var firstErr error
	pending := map[int]*call.Call{} // --single: emitted out of order, waiting for earlier calls
	next := 0
	rendered := 0
	render := func(c *call.Call) {
		if firstErr != nil {
			return
		}
		cm := mres.ForCall(c.CallIDs, c.Start, c.End)
		if rd != nil {
			c = rd.Call(c)
			cm = redactMedia(rd, cm)
		}
		if doc != nil {
			firstErr = doc.AddMedia(c, cm)
			rendered++
			return
		}
		name, err := writeExclusive(ro.outDir, pdf.FileName(c, loc), func(w io.Writer) error { return pdf.WriteMedia(w, c, cm, po) })
		if err != nil {
			firstErr = err
			return
		}
		rendered++
		fmt.Fprintln(stdout, name)
	}
	keep := func(c *call.Call) bool {
		i, ok := pos[keyOf(c)]
		if !ok {
			return false
		}
		c.Index = selected[i].Index
		if doc == nil {
			render(c)
			return false
		}
		pending[i] = c
		for pending[next] != nil {
			render(pending[next])
			delete(pending, next)
			next++
		}
		return false
	}
	res2, err := load(ctx, files, in, call.Options{KeepMsgs: true, KeepFull: keepFull}, keep, stderr)
	if err != nil {
		return nil, err
	}
	if firstErr != nil {
		return nil, firstErr
	}
	if rendered != len(selected) {
		return nil, fmt.Errorf("%w: %d of %d calls found again: the inputs changed between passes", errNoCall, rendered, len(selected))
	}
	if doc != nil {
		first := selected[0]
		name := "calls_nodate"
		if !first.Start.IsZero() {
			name = "calls_" + first.Start.In(loc).Format("20060102-150405")
			if call.Dateless(first.Start) {
				name = "calls_nodate-" + first.Start.Format("150405")
			}
		}
		name += "_" + strconv.Itoa(len(selected)) + ".pdf"
		written, err := writeExclusive(ro.outDir, name, doc.Write)
		if err != nil {
			return nil, err
		}
		fmt.Fprintln(stdout, written)
	}
	res2.calls = res.calls // the summary counts every call
	return res2, nil
}

// errExists says every candidate file name was taken.
var errExists = errors.New("report file exists")

// writeExclusive writes a file atomically in dir: into a temporary file in
// the same directory, then linked to name, or name-2, name-3... if name is
// taken. An existing file is never replaced. It returns the path written.
func writeExclusive(dir, name string, fill func(io.Writer) error) (string, error) {
	if name != filepath.Base(name) || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return "", fmt.Errorf("report: unsafe file name %q", name)
	}
	tmp, err := os.CreateTemp(dir, ".sipflow-report-*.tmp")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if err := fill(tmp); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	ext := filepath.Ext(name)
	base := strings.TrimSuffix(name, ext)
	for n := 1; n <= 1000; n++ {
		cand := name
		if n > 1 {
			cand = base + "-" + strconv.Itoa(n) + ext
		}
		path := filepath.Join(dir, cand)
		err := os.Link(tmp.Name(), path)
		if err == nil {
			return path, nil
		}
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		// No hard links on this file system: rename when the name is free.
		if _, serr := os.Lstat(path); errors.Is(serr, fs.ErrNotExist) {
			if rerr := os.Rename(tmp.Name(), path); rerr != nil {
				return "", rerr
			}
			return path, nil
		}
	}
	return "", fmt.Errorf("%w: %s and 999 numbered variants in %s", errExists, name, dir)
}
