package sip

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestAgainstTshark parses every UDP SIP payload of a few corpus captures
// (compact forms included) and compares Call-ID, CSeq number, status code
// and method with what tshark's SIP dissector reads. It skips when tshark
// or the corpus is missing, and in -short mode.
func TestAgainstTshark(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	const corpus = "../../../shared/corpus"
	files, _ := filepath.Glob(filepath.Join(corpus, "suricata-verify", "sip-*.pcap"))
	files = append(files, filepath.Join(corpus, "aflnet-kamailio-sip", "sip-1.pcap"), filepath.Join(corpus, "sngrep", "aaa.pcap"))
	seen := 0
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, tshark, "-r", f, "-Y", "sip && udp", "-T", "fields",
				"-E", "separator=/t", "-e", "frame.number", "-e", "udp.payload", "-e", "sip.Call-ID", "-e", "sip.CSeq.seq",
				"-e", "sip.Status-Code", "-e", "sip.Method").Output()
			if err != nil {
				t.Skipf("tshark: %v", err)
			}
			sc := bufio.NewScanner(bytes.NewReader(out))
			sc.Buffer(nil, 1<<20)
			n := 0
			for sc.Scan() {
				fl := strings.Split(sc.Text(), "\t")
				if len(fl) < 6 || fl[1] == "" || strings.Contains(fl[2], ",") {
					continue // several messages in one datagram: not compared
				}
				payload, err := hex.DecodeString(strings.ReplaceAll(fl[1], ":", ""))
				if err != nil {
					t.Fatalf("frame %s: %v", fl[0], err)
				}
				var m Message
				if err := Parse(payload, &m); err != nil {
					t.Errorf("frame %s: %v", fl[0], err)
					continue
				}
				n++
				if m.CallID != fl[2] {
					t.Errorf("frame %s: Call-ID %q, tshark %q", fl[0], m.CallID, fl[2])
				}
				if fl[3] != "" && strconv.FormatUint(uint64(m.CSeq), 10) != fl[3] {
					t.Errorf("frame %s: CSeq %d, tshark %s", fl[0], m.CSeq, fl[3])
				}
				if fl[4] != "" && strconv.Itoa(m.StatusCode) != fl[4] {
					t.Errorf("frame %s: status %d, tshark %s", fl[0], m.StatusCode, fl[4])
				}
				if fl[5] != "" && m.MethodName != fl[5] && m.CSeqMethodName != fl[5] {
					t.Errorf("frame %s: method %q, tshark %s", fl[0], m.MethodName, fl[5])
				}
			}
			seen += n
			t.Logf("%d messages agree with tshark", n)
		})
	}
	if seen == 0 {
		t.Skip("no corpus capture found")
	}
}
