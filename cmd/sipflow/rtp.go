package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/sipflow/sipflow/convert/call"
	"github.com/sipflow/sipflow/convert/media"
	"github.com/sipflow/sipflow/parse/capture"
	"github.com/sipflow/sipflow/render/text"
)

// mediaOpts are the flags of the commands that measure media.
type mediaOpts struct {
	heuristic    bool
	jitterBuffer time.Duration
}

func (o *mediaOpts) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.BoolVar(&o.heuristic, "rtp-heuristic", false, "also find RTP no SDP announced (version 2, plausible payload type, stable SSRC, rising sequence numbers)")
	o.registerJitterBuffer(cmd)
}

// registerJitterBuffer registers --jitter-buffer alone: the commands that
// show a call's own streams (flow, calls --json, report) have no use for
// --rtp-heuristic, whose streams belong to no call.
func (o *mediaOpts) registerJitterBuffer(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&o.jitterBuffer, "jitter-buffer", media.DefaultJitterBuffer, "fixed jitter buffer simulated for the MOS")
}

func (o mediaOpts) options() (media.Options, error) {
	if o.jitterBuffer <= 0 {
		return media.Options{}, fmt.Errorf("%w: --jitter-buffer %v: want more than 0", errUsage, o.jitterBuffer)
	}
	return media.Options{Heuristic: o.heuristic, JitterBuffer: o.jitterBuffer}, nil
}

func newRTPCmd(stdout, stderr io.Writer) *cobra.Command {
	var in inputOpts
	var vo viewOpts
	var mo mediaOpts
	var asJSON bool
	var id string
	cmd := &cobra.Command{
		Use:   "rtp FILE...",
		Short: "Measure the RTP streams of every call: loss, jitter, MOS, problems",
		Long: `Measure every RTP stream the SDP of a call announced (and, with
--rtp-heuristic, those no SDP announced): packets, loss, delta and jitter
computed as Wireshark's RTP analysis does, RTCP reports, DTMF, an E-model
MOS per direction, and problems (one-way audio, no media, NAT, private
addresses, media after BYE, gaps, SSRC changes, unnegotiated payload types).`,
		Args: needFiles,
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			mopts, err := mo.options()
			if err != nil {
				return err
			}
			to, err := vo.textOptions(stdout)
			if err != nil {
				return err
			}
			if vo.width == 0 && !isTerminal(stdout) {
				to.Width = 0 // piped: the whole table, as tshark prints it
			}
			in.tz = vo.tz
			res, mres, err := loadMedia(cmd.Context(), args, in, mopts, stderr)
			if err != nil {
				return err
			}
			if id != "" {
				c, err := pick(res.calls, id)
				if err != nil {
					return err
				}
				mres = mres.Call(c.CallIDs, c.Start, c.End)
			}
			if asJSON {
				err = text.RTPJSON(stdout, res.calls, mres)
			} else {
				err = text.RTP(stdout, res.calls, mres, to)
			}
			if err != nil {
				return err
			}
			return finish(stderr, in, res, time.Since(start))
		},
	}
	in.register(cmd.Flags())
	mo.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per stream per line")
	cmd.Flags().StringVar(&id, "call", "", "only the streams of this call: its index, a Call-ID, or a unique prefix of one")
	cmd.Flags().StringVar(&vo.tz, "tz", "UTC", "time zone for times shown (IANA name, or Local)")
	cmd.Flags().IntVar(&vo.width, "width", 0, "columns to fit (default: the terminal's; piped, the whole table)")
	return cmd
}

// mediaFeeder hands SIP to the Builder and the Tracker, and media to the
// Tracker, in capture order. It is a capture.Inline handler: the Tracker
// runs on the goroutine that reads the capture (Peek, Media), the Builder
// beside it (SIP).
type mediaFeeder struct {
	b *call.Builder
	t *media.Tracker
}

func (f *mediaFeeder) Peek(m *capture.Message) { f.t.SIP(m) }
func (f *mediaFeeder) SIP(m *capture.Message)  { f.b.Add(m) }
func (f *mediaFeeder) Media(p *capture.Media)  { f.t.Media(p) }

// PeekWants: the Tracker has no use for some messages (capture.PeekFilter).
func (f *mediaFeeder) PeekWants(pi capture.PeekInfo) bool { return f.t.PeekWants(pi) }

// OwnDuplicates: the Tracker checks its RTP streams for copies itself
// (capture.OwnDuplicates), for a fraction of the reader's cost.
func (f *mediaFeeder) OwnDuplicates() bool { return true }

// loadMedia is load with media delivered and measured: one pass gives the
// calls and their streams.
func loadMedia(ctx context.Context, files []string, in inputOpts, mo media.Options, stderr io.Writer) (*loadResult, *media.Result, error) {
	tr := media.NewTracker(mo)
	res, err := loadTracked(ctx, files, in, call.Options{}, nil, tr, stderr)
	if err != nil {
		return nil, nil, err
	}
	return res, tr.Finish(), nil
}
