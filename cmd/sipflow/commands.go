package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/sipflow/sipflow/convert/call"
	"github.com/sipflow/sipflow/convert/media"
	"github.com/sipflow/sipflow/parse/hosts"
	"github.com/sipflow/sipflow/render/text"
)

// viewOpts are the flags of the commands that draw or print calls.
type viewOpts struct {
	hostsFile string
	ascii     bool
	width     int
	tz        string
}

func (o *viewOpts) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&o.hostsFile, "hosts", "", "file naming hosts: lines of \"ADDRESS[:PORT] NAME\"")
	fs.BoolVar(&o.ascii, "ascii", false, "ASCII instead of Unicode box drawing")
	fs.IntVar(&o.width, "width", 0, "columns to fit (default: the terminal's, else 100)")
	fs.StringVar(&o.tz, "tz", "UTC", "time zone for times shown (IANA name, or Local)")
}

// textOptions builds the renderer's options from the flags.
func (o *viewOpts) textOptions(stdout io.Writer) (text.Options, error) {
	to := text.Options{Width: o.width, ASCII: o.ascii}
	loc, err := time.LoadLocation(o.tz)
	if err != nil {
		return to, fmt.Errorf("%w: --tz %q: %v", errUsage, o.tz, err)
	}
	to.Location = loc
	if o.hostsFile != "" {
		m, err := hosts.Load(o.hostsFile)
		if err != nil {
			return to, err
		}
		to.Hosts = m
	}
	if to.Width == 0 {
		to.Width = 100
		if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
				to.Width = w
			}
		}
	}
	return to, nil
}

// isTerminal says whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newCallsCmd(stdout, stderr io.Writer) *cobra.Command {
	var in inputOpts
	var vo viewOpts
	var mo mediaOpts
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "calls FILE...",
		Short: "List the calls in captures, one line per call in time order",
		Long: `List the calls in captures, one line per call in time order. The table
reads SIP only; --json also measures each call's RTP streams (the objects
of sipflow rtp --json) into its "streams".`,
		Args: needFiles,
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			in.noSDP, in.tz = true, vo.tz
			var tr *media.Tracker
			if asJSON {
				mopts, err := mo.options()
				if err != nil {
					return err
				}
				tr = media.NewTracker(mopts)
			}
			res, err := loadTracked(cmd.Context(), args, in, call.Options{}, nil, tr, stderr)
			if err != nil {
				return err
			}
			if asJSON {
				err = text.CallsMediaJSON(stdout, res.calls, tr.Finish())
			} else {
				to, terr := vo.textOptions(stdout)
				if terr != nil {
					return terr
				}
				err = text.Calls(stdout, res.calls, to)
			}
			if err != nil {
				return err
			}
			return finish(stderr, in, res, time.Since(start))
		},
	}
	in.register(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per call per line, with its RTP streams (times always UTC)")
	mo.registerJitterBuffer(cmd)
	cmd.Flags().IntVar(&vo.width, "width", 0, "columns to fit (default: the terminal's, else 100)")
	cmd.Flags().StringVar(&vo.tz, "tz", "UTC", "time zone for times shown (IANA name, or Local)")
	return cmd
}

// finish prints the summary and turns failed inputs into the exit status.
func finish(stderr io.Writer, in inputOpts, res *loadResult, took time.Duration) error {
	if !in.quiet {
		summary(stderr, res.stats, len(res.calls), took)
	}
	if res.failed > 0 {
		return errInputs
	}
	return nil
}

func newFlowCmd(stdout, stderr io.Writer) *cobra.Command {
	var in inputOpts
	var vo viewOpts
	var mo mediaOpts
	var ro redactOpts
	var id string
	cmd := &cobra.Command{
		Use:   "flow --call ID FILE...",
		Short: "Draw the ladder (sequence diagram) of one call",
		Long: `Draw the ladder (sequence diagram) of one call. The header ends with one
media line per RTP stream (direction, codec, packets, loss, max/mean jitter,
MOS, problems), measured as sipflow rtp does.`,
		Args: needFiles,
		RunE: func(cmd *cobra.Command, args []string) error {
			to, err := vo.textOptions(stdout)
			if err != nil {
				return err
			}
			mopts, err := mo.options()
			if err != nil {
				return err
			}
			start := time.Now()
			in.tz = vo.tz
			rd, err := ro.redactor(cmd)
			if err != nil {
				return err
			}
			c, cm, res, err := selectCall(cmd, args, in, id, &mopts, stderr)
			if err != nil {
				return err
			}
			c, cm = redactCall(rd, c, cm)
			if err := text.FlowMedia(stdout, c, cm, to); err != nil {
				return err
			}
			return finish(stderr, in, res, time.Since(start))
		},
	}
	in.register(cmd.Flags())
	vo.register(cmd)
	mo.registerJitterBuffer(cmd)
	ro.register(cmd)
	cmd.Flags().StringVar(&id, "call", "", "the call `ID`: its index in the calls list, a Call-ID, or a unique prefix of one")
	return cmd
}

func newShowCmd(stdout, stderr io.Writer) *cobra.Command {
	var in inputOpts
	var vo viewOpts
	var ro redactOpts
	var id string
	var msg int
	cmd := &cobra.Command{
		Use:   "show --call ID [--message N] FILE...",
		Short: "Print the verbatim SIP messages of one call",
		Args:  needFiles,
		RunE: func(cmd *cobra.Command, args []string) error {
			to, err := vo.textOptions(stdout)
			if err != nil {
				return err
			}
			start := time.Now()
			in.tz = vo.tz
			rd, err := ro.redactor(cmd)
			if err != nil {
				return err
			}
			c, _, res, err := selectCall(cmd, args, in, id, nil, stderr)
			if err != nil {
				return err
			}
			c, _ = redactCall(rd, c, nil)
			if msg < 0 || msg > len(c.Msgs) {
				return fmt.Errorf("%w: --message %d: call %d has %d messages", errUsage, msg, c.Index, len(c.Msgs))
			}
			if err := text.Show(stdout, c, msg, to); err != nil {
				return err
			}
			return finish(stderr, in, res, time.Since(start))
		},
	}
	in.register(cmd.Flags())
	vo.register(cmd)
	cmd.Flags().StringVar(&id, "call", "", "the call `ID`: its index in the calls list, a Call-ID, or a unique prefix of one")
	cmd.Flags().IntVar(&msg, "message", 0, "only message N (1-based) of the call")
	ro.register(cmd)
	return cmd
}

// errNoCall says the --call selector matched nothing (or too much).
var errNoCall = errors.New("no such call")

// selectCall finds the call named by id in two passes: the first lists every
// call (summaries only, so memory stays bounded), the second keeps the full
// messages of the chosen call alone. With mo, the second pass also measures
// the media, and the call's is returned (else nil).
func selectCall(cmd *cobra.Command, files []string, in inputOpts, id string, mo *media.Options, stderr io.Writer) (*call.Call, *media.CallMedia, *loadResult, error) {
	if id == "" {
		return nil, nil, nil, fmt.Errorf("%w: --call is required", errUsage)
	}
	ctx := cmd.Context()
	quiet := in
	quiet.quiet, quiet.noSDP = true, true
	// inputs that cannot be read are reported by this pass (so that a
	// selector matching nothing is explained), not again by the second
	res, err := load(ctx, files, quiet, call.Options{}, nil, stderr)
	if err != nil {
		return nil, nil, nil, err
	}
	target, err := pick(res.calls, id)
	if err != nil {
		return nil, nil, nil, err
	}
	want := map[string]bool{}
	for _, cid := range target.CallIDs {
		want[cid] = true
	}
	keep := func(c *call.Call) bool {
		return c.Start.Equal(target.Start) && slices.Equal(c.CallIDs, target.CallIDs)
	}
	// Media only here: the Tracker needs every call's SIP (a later call may
	// take over an address) but keeps one small state per stream.
	var tr *media.Tracker
	if mo != nil {
		tr = media.NewTracker(*mo)
	}
	res2, err := loadTracked(ctx, files, in, call.Options{KeepMsgs: true, KeepFull: func(cid string) bool { return want[cid] }}, keep, tr, io.Discard)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(res2.calls) != 1 {
		return nil, nil, nil, fmt.Errorf("%w: %q: the inputs changed between passes", errNoCall, id)
	}
	c := res2.calls[0]
	c.Index = target.Index
	res2.calls = res.calls // the summary counts every call
	var cm *media.CallMedia
	if tr != nil {
		cm = tr.Finish().ForCall(c.CallIDs, c.Start, c.End)
	}
	return c, cm, res2, nil
}

// pick resolves an index, a Call-ID or a unique Call-ID prefix.
func pick(calls []*call.Call, id string) (*call.Call, error) {
	if n, err := strconv.Atoi(id); err == nil && n >= 1 && n <= len(calls) {
		return calls[n-1], nil
	}
	var found []*call.Call
	for _, c := range calls {
		if slices.Contains(c.CallIDs, id) {
			return c, nil
		}
		for _, cid := range c.CallIDs {
			if strings.HasPrefix(cid, id) {
				found = append(found, c)
				break
			}
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return nil, fmt.Errorf("%w: %q matches no index or Call-ID (%d calls)", errNoCall, id, len(calls))
	default:
		return nil, fmt.Errorf("%w: %q is a prefix of %d Call-IDs; give more of it", errNoCall, id, len(found))
	}
}
