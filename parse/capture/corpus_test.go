package capture

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var corpusDir = filepath.Join("..", "..", "..", "shared", "corpus")

// counter is a Handler that counts.
type counter struct {
	sip, media int
	msgs       []*Message
	keep       bool
}

func (c *counter) SIP(m *Message) {
	c.sip++
	if c.keep {
		c.msgs = append(c.msgs, m)
	}
}
func (c *counter) Media(p *Media) { c.media++ }

// corpusExceptions are the files where sipflow's count legitimately differs
// from tshark's "SIP msgs" figure, with sipflow's own expected count.
var corpusExceptions = map[string]struct {
	want   int
	reason string
}{
	"hep-wireshark/hep.pcap":                    {6, "tshark 4.0 has no HEP dissector; 8 HEP3 packets: 6 SIP, 1 log (type 100), 1 RTCP report as JSON (type 5)"},
	"hep-wireshark/hep3_compressed.pcap.pcapng": {21, "tshark 4.0 has no HEP dissector; 21 HEP3 packets with zlib-compressed SIP"},
}

var sipMsgsRe = regexp.MustCompile(`SIP msgs (\d+)`)

func TestCorpus(t *testing.T) {
	f, err := os.Open(filepath.Join(corpusDir, "MANIFEST.tsv"))
	if err != nil {
		t.Skipf("corpus absent: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	sc.Scan() // header
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 9 || strings.HasPrefix(cols[6], "text:") || strings.HasSuffix(cols[0], ".log") || strings.HasSuffix(cols[0], ".raw") {
			continue
		}
		path, note := cols[0], cols[8]
		want := 0
		if m := sipMsgsRe.FindStringSubmatch(note); m != nil {
			want, _ = strconv.Atoi(m[1])
		} else if !strings.Contains(note, "no SIP decoded") {
			t.Errorf("%s: no SIP figure in note", path)
			continue
		}
		reason := "tshark"
		if ex, ok := corpusExceptions[path]; ok {
			want, reason = ex.want, ex.reason
		}
		t.Run(path, func(t *testing.T) {
			c := &counter{}
			st, err := ReadFile(context.Background(), filepath.Join(corpusDir, path), Options{KeepDuplicates: true, Media: true}, c)
			if err != nil {
				t.Fatalf("ReadFile: %v", err)
			}
			for _, w := range st.Warnings {
				if errors.Is(w.Err, ErrPanic) {
					t.Errorf("panic: %v", w.Err)
				}
			}
			if st.SIPMessages != c.sip || st.MediaPackets != c.media {
				t.Errorf("stats %+v, handler saw %d SIP %d media", st, c.sip, c.media)
			}
			if st.SIPMessages != want {
				t.Errorf("SIP messages %d, want %d (%s); stats %+v", st.SIPMessages, want, reason, st)
			}
		})
	}
}
