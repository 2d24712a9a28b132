package textlog

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/sipflow/sipflow/parse/capture"
)

type collect struct{ msgs []*capture.Message }

func (c *collect) SIP(m *capture.Message) { c.msgs = append(c.msgs, m) }
func (c *collect) Media(*capture.Media)   {}

func TestDumpDebug(t *testing.T) {
	f := os.Getenv("TL_DUMP")
	if f == "" {
		t.Skip()
	}
	var c collect
	st, err := ReadFile(context.Background(), f, Options{}, &c)
	for _, m := range c.msgs {
		fmt.Println(summary(m))
	}
	fmt.Println(err, st.Frames, st.SIPMessages, st.Broken, st.MediaPackets)
	for _, w := range st.Warnings {
		fmt.Println("  W", w.Frame, w.Err)
	}
}
