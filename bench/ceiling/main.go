// Command ceiling reads a pcap with pcapgo's zero-copy reader and does
// nothing else but sum the packet lengths: the fastest any tool built on
// that reader can go through the file on this machine.
//
//	go run ./bench/ceiling FILE
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
)

type result struct {
	fileBytes int64
	packets   int64
	capBytes  int64
	elapsed   time.Duration
}

func main() {
	bufSize := flag.Int("buf", 1<<18, "read buffer size in bytes")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: ceiling [-buf N] FILE.pcap")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	res, err := read(flag.Arg(0), *bufSize)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	s := res.elapsed.Seconds()
	fmt.Printf("bytes=%d packets=%d captured_bytes=%d seconds=%.3f MB/s=%.1f packets/s=%.0f\n",
		res.fileBytes, res.packets, res.capBytes, s, float64(res.fileBytes)/1e6/s, float64(res.packets)/s)
}

func read(path string, bufSize int) (result, error) {
	var res result
	f, err := os.Open(path)
	if err != nil {
		return res, fmt.Errorf("ceiling: %w", err)
	}
	defer f.Close()
	t0 := time.Now()
	// pcapgo wraps the reader in a bufio.Reader unless it already is one
	// of at least the default size.
	r, err := pcapgo.NewReader(bufio.NewReaderSize(f, bufSize))
	if err != nil {
		return res, fmt.Errorf("ceiling: %s: %w", path, err)
	}
	for {
		data, _, err := r.ZeroCopyReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, fmt.Errorf("ceiling: %s: packet %d: %w", path, res.packets+1, err)
		}
		res.packets++
		res.capBytes += int64(len(data))
	}
	res.elapsed = time.Since(t0)
	st, err := f.Stat()
	if err != nil {
		return res, fmt.Errorf("ceiling: %w", err)
	}
	res.fileBytes = st.Size()
	return res, nil
}
