package main

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sipflow/sipflow/convert/call"
	"github.com/sipflow/sipflow/parse/capture"
)

var corpusDir = filepath.Join("..", "..", "..", "shared", "corpus")

// corpusRef is what a corpus capture's tshark reference says about SIP.
type corpusRef struct {
	total    int            // sip,stat "Number of SIP messages"
	distinct int            // "calls/dialogs (distinct Call-IDs): N"
	perID    map[string]int // Call-ID -> messages, as listed
	partial  bool           // the list ends in "... (N more)"
	joined   int            // entries of several Call-IDs joined by commas
}

var (
	distinctRe = regexp.MustCompile(`^calls/dialogs \(distinct Call-IDs\): (\d+)$`)
	moreRe     = regexp.MustCompile(`^\.\.\. \(\d+ more\)$`)
)

func readCorpusRef(t *testing.T, path string) corpusRef {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ref := corpusRef{perID: map[string]int{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	section := ""
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "### ") {
			section = l
			continue
		}
		if v, ok := strings.CutPrefix(l, "Number of SIP messages: "); ok && strings.Contains(section, "sip,stat") {
			ref.total, _ = strconv.Atoi(v)
			continue
		}
		if !strings.HasPrefix(section, "### substitute: per-Call-ID") {
			continue
		}
		switch m := distinctRe.FindStringSubmatch(l); {
		case m != nil:
			ref.distinct, _ = strconv.Atoi(m[1])
		case moreRe.MatchString(l):
			ref.partial = true
		case strings.Contains(l, " | "):
			c := strings.Split(l, " | ")
			n, err := strconv.Atoi(c[1])
			if err != nil {
				t.Fatalf("%s: line %q", path, l)
			}
			switch id := c[0]; {
			case id == "(no Call-ID)":
				ref.perID[""] += n
			case strings.Contains(id, ","):
				// one frame holding several messages: tshark joins their
				// Call-IDs with commas (a Call-ID has no comma, RFC 3261)
				for _, part := range strings.Split(id, ",") {
					ref.perID[part] += n
				}
				ref.joined++
			default:
				ref.perID[id] += n
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ref
}

// corpusException is a file where sipflow legitimately differs from tshark.
// msgs is sipflow's SIP message count (-1: tshark's); perID replaces
// tshark's figure for the Call-IDs it names ("" for no Call-ID), and when
// only is set it is the whole list.
type corpusException struct {
	reason string
	msgs   int
	perID  map[string]int
	only   bool
}

var corpusExceptions = map[string]corpusException{
	"hep-wireshark/hep.pcap": {
		reason: "tshark 4.0 has no HEP dissector; 8 HEP3 packets: 6 SIP, 1 log, 1 RTCP report",
		msgs:   6, only: true, perID: map[string]int{"qgf3dm9rudi@127.0.0.1": 6}, // checked with strings(1)
	},
	"hep-wireshark/hep3_compressed.pcap.pcapng": {
		reason: "tshark 4.0 has no HEP dissector; 21 HEP3 packets with zlib-compressed SIP",
		msgs:   21, only: true, perID: map[string]int{"8fc0ff7e-9f0feb00-6245ba21@192.168.137.1": 21}, // checked by inflating the payloads
	},
	"ndpi/http_on_sip_port.pcap": {
		reason: "tshark -Y sip matches 2 HTTP frames on port 5060 (no Call-ID) that sip,stat does not count; they are not SIP",
		msgs:   0, only: true, perID: map[string]int{},
	},
	"goffinet-sip_captures/private-test-sip.pcapng": {
		reason: "tshark -Y sip also matches the SIP quoted inside 3 ICMP errors (frames 2, 150, 152), which sip,stat does not count and which are not messages on the wire",
		msgs:   -1, perID: map[string]int{"IOiwAY25qdAQ.a8V7Q0SIsinfV-2htcP": 1, "AqCNh14X6WeWlMWx1uPphSmkL5W9GEas": 5},
	},
}

// TestCorpus runs the pipeline on every capture of the shared corpus and
// checks it against tshark: SIP message count, the set of Call-IDs, messages
// per Call-ID, and that grouping into calls loses no message.
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
		path := cols[0]
		if strings.HasSuffix(path, ".log") || strings.HasSuffix(path, ".raw") || (len(cols) > 6 && strings.HasPrefix(cols[6], "text:")) {
			continue
		}
		t.Run(path, func(t *testing.T) {
			full := filepath.Join(corpusDir, path)
			ref := readCorpusRef(t, full+".tshark.txt")
			var calls []*call.Call
			b := call.NewBuilder(call.Options{KeepMsgs: true}, func(c *call.Call) { calls = append(calls, c) })
			st, err := capture.ReadFile(context.Background(), full, capture.Options{KeepDuplicates: true}, &feeder{b: b})
			b.Flush()
			if err != nil {
				t.Fatalf("ReadFile: %v", err)
			}
			for _, w := range st.Warnings {
				if errors.Is(w.Err, capture.ErrPanic) {
					t.Errorf("panic: %v", w.Err)
				}
			}

			// grouping loses nothing
			sum := 0
			got := map[string]int{} // Call-ID -> messages
			ids := map[string]bool{}
			for _, c := range calls {
				sum += c.Messages
				if len(c.Msgs) != c.Messages {
					t.Errorf("call %v: %d Msgs, Messages %d", c.CallIDs, len(c.Msgs), c.Messages)
				}
				for _, id := range c.CallIDs {
					ids[id] = true
				}
				for _, m := range c.Msgs {
					got[m.CallID]++
				}
			}
			if sum != st.SIPMessages {
				t.Errorf("sum of messages over %d calls %d, SIP messages read %d", len(calls), sum, st.SIPMessages)
			}
			for id := range got {
				if !ids[id] {
					t.Errorf("Call-ID %q of a message is in no call's CallIDs", id)
				}
			}

			wantMsgs, wantDistinct, why := ref.total, ref.distinct-ref.joined, "tshark"
			if !ref.partial {
				wantDistinct = len(ref.perID)
			}
			if ex, ok := corpusExceptions[path]; ok {
				why = ex.reason
				if ex.msgs >= 0 {
					wantMsgs = ex.msgs
				}
				if ex.only {
					ref.perID, ref.partial = map[string]int{}, false
				}
				for id, n := range ex.perID {
					ref.perID[id] = n
				}
				if ex.only {
					wantDistinct = len(ref.perID)
				}
			}
			if st.SIPMessages != wantMsgs {
				t.Errorf("SIP messages %d, want %d (%s)", st.SIPMessages, wantMsgs, why)
			}
			if len(ids) != wantDistinct {
				t.Errorf("%d distinct Call-IDs, want %d (%s)", len(ids), wantDistinct, why)
			}
			for id, n := range ref.perID {
				if got[id] != n {
					t.Errorf("Call-ID %q: %d messages, tshark %d", id, got[id], n)
				}
			}
			if !ref.partial {
				for _, id := range slices.Sorted(mapKeys(got)) {
					if _, ok := ref.perID[id]; !ok {
						t.Errorf("Call-ID %q (%d messages) not in tshark's list", id, got[id])
					}
				}
			}
		})
	}
}

func mapKeys(m map[string]int) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
