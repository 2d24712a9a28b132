package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sipflow/sipflow/convert/call"
	"github.com/sipflow/sipflow/convert/media"
	"github.com/sipflow/sipflow/convert/redact"
)

// redactOpts are the redaction flags of the commands whose output may leave
// the company: report, flow and show.
type redactOpts struct {
	spec   string
	digits int
}

func (o *redactOpts) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&o.spec, "redact", "", "redact for sharing: credentials always; add numbers, ips (comma-separated) or all")
	fs.Lookup("redact").NoOptDefVal = "credentials"
	fs.IntVar(&o.digits, "redact-digits", redact.DefaultDigits, "digits of a phone number left visible by --redact=numbers")
}

// redactor returns the Redactor the flags ask for, nil when --redact was
// not given. One Redactor serves a whole output, so an address has the same
// pseudonym everywhere in it.
func (o *redactOpts) redactor(cmd *cobra.Command) (*redact.Redactor, error) {
	if !cmd.Flags().Changed("redact") {
		return nil, nil
	}
	ro, err := redact.ParseSpec(o.spec)
	if err != nil {
		return nil, fmt.Errorf("%w: --redact: %v", errUsage, err)
	}
	if o.digits < 0 {
		return nil, fmt.Errorf("%w: --redact-digits %d: want 0 or more", errUsage, o.digits)
	}
	ro.Digits = o.digits
	if o.digits == 0 {
		ro.Digits = -1 // keep none
	}
	return redact.New(ro), nil
}

// redactCall applies rd (if any) to a call and its media.
func redactCall(rd *redact.Redactor, c *call.Call, cm *media.CallMedia) (*call.Call, *media.CallMedia) {
	if rd == nil {
		return c, cm
	}
	c = rd.Call(c)
	if cm != nil {
		cm = redactMedia(rd, cm)
	}
	return c, cm
}

// redactMedia returns a copy of cm with the addresses, Call-IDs and the
// problems' words redacted as rd redacts the call (same pseudonyms).
func redactMedia(rd *redact.Redactor, cm *media.CallMedia) *media.CallMedia {
	problems := func(ps []media.Problem) []media.Problem {
		out := make([]media.Problem, len(ps))
		for i, p := range ps {
			p.Detail = rd.Text(p.Detail)
			out[i] = p
		}
		return out
	}
	out := &media.CallMedia{CallID: rd.Text(cm.CallID), Fax: cm.Fax, Problems: problems(cm.Problems)}
	for _, s := range cm.Streams {
		c := *s
		c.CallID = rd.Text(s.CallID)
		c.Src, c.Dst = rd.AddrPort(s.Src), rd.AddrPort(s.Dst)
		c.RTCP.CNAME = rd.Text(s.RTCP.CNAME)
		c.Problems = problems(s.Problems)
		out.Streams = append(out.Streams, &c)
	}
	return out
}
