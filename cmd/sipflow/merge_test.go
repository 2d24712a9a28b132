package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/sipflow/sipflow/parse/pcap"
)

// splitCapture writes the records of src into two pcap files, each record
// into the first or second by pick(frame data).
func splitCapture(t *testing.T, src string, pick func(data []byte) bool) (string, string) {
	t.Helper()
	r, err := pcap.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dir := t.TempDir()
	paths := [2]string{filepath.Join(dir, "a.pcap"), filepath.Join(dir, "b.pcap")}
	var ws [2]*pcapgo.Writer
	var bufs [2]bytes.Buffer
	var rec pcap.Record
	for {
		err := r.Next(&rec)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		i := 0
		if pick(rec.Data) {
			i = 1
		}
		if ws[i] == nil {
			ws[i] = pcapgo.NewWriterNanos(&bufs[i])
			if err := ws[i].WriteFileHeader(65535, rec.LinkType); err != nil {
				t.Fatal(err)
			}
		}
		ci := gopacket.CaptureInfo{Timestamp: rec.Time, CaptureLength: len(rec.Data), Length: rec.OrigLen}
		if err := ws[i].WritePacket(ci, rec.Data); err != nil {
			t.Fatal(err)
		}
	}
	for i := range paths {
		if err := os.WriteFile(paths[i], bufs[i].Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return paths[0], paths[1]
}

// TestMergedInputs: several inputs are read side by side and merged by
// time, and a packet held by two of them counts once.
func TestMergedInputs(t *testing.T) {
	// The proxied call, split in two captures by leg (leg 2 is every frame
	// to or from the UAS 10.99.0.2): the same call as the whole capture.
	uas := []byte{10, 99, 0, 2}
	legA, legB := splitCapture(t, fixture("proxy-call.pcap"), func(d []byte) bool {
		return len(d) >= 34 && (bytes.Equal(d[26:30], uas) || bytes.Equal(d[30:34], uas))
	})
	whole := runCLI(t, "calls", "--json", "-q", fixture("proxy-call.pcap"))
	for _, order := range [][]string{{legA, legB}, {legB, legA}} {
		got := runCLI(t, append([]string{"calls", "--json", "-q"}, order...)...)
		if got.code != 0 || got.stdout != whole.stdout {
			t.Errorf("split by leg (%s first): exit %d\n%s\nwant\n%s", filepath.Base(order[0]), got.code, got.stdout, whole.stdout)
		}
	}

	// The same capture three times (plain, gzip, zstd): one call, each
	// message once, the copies counted as duplicates: 2 x 7 SIP messages
	// and 2 x 220 RTP packets (--json measures the media).
	one := runCLI(t, "calls", "--json", "-q", fixture("basic-call.pcap"))
	three := runCLI(t, "calls", "--json", fixture("basic-call.pcap"), fixture("basic-call.pcap.gz"), fixture("basic-call.pcap.zst"))
	if three.code != 0 || three.stdout != one.stdout {
		t.Errorf("three copies:\n%s\nwant\n%s", three.stdout, one.stdout)
	}
	want := "sipflow: 3 files, 693 frames, 21 SIP messages (0 broken), 1 call, 454 duplicates dropped, 0 TLS flows not read (encrypted), T"
	if got := maskTime(three.stderr); len(got) != 1 || got[0] != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
	// --keep-duplicates keeps them: every message three times.
	kept := runCLI(t, "calls", "--keep-duplicates", "-q", fixture("basic-call.pcap"), fixture("basic-call.pcap.gz"), fixture("basic-call.pcap.zst"))
	if !bytes.Contains([]byte(kept.stdout), []byte(" 21\n")) {
		t.Errorf("--keep-duplicates:\n%s", kept.stdout)
	}
}
