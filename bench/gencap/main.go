// Command gencap writes a deterministic pcap of SIP trunk traffic for the
// sipflow benchmark: many calls between a few SBCs and many phones, with
// the RTP of every answered call, so that about 5% of the bytes are SIP.
//
//	go run ./bench/gencap -o trunk.pcap -size 1GB -seed 1
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// ErrSize reports a -size value that is not a positive size.
var ErrSize = errors.New("gencap: bad size")

type options struct {
	out         string
	size        int64
	seed        uint64
	concurrency int
}

func main() {
	var o options
	var size string
	flag.StringVar(&o.out, "o", "trunk.pcap", "output pcap file")
	flag.StringVar(&size, "size", "1GB", "target file size: bytes or with a KB, MB or GB suffix (powers of 1000)")
	flag.Uint64Var(&o.seed, "seed", 1, "random seed: same seed and size, same file")
	flag.IntVar(&o.concurrency, "concurrency", 200, "calls in progress on average")
	flag.Parse()
	var err error
	if o.size, err = parseSize(size); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := run(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(o options, stdout io.Writer) error {
	f, err := os.Create(o.out)
	if err != nil {
		return fmt.Errorf("gencap: %w", err)
	}
	t0 := time.Now()
	sum, err := Generate(f, Config{Size: o.size, Seed: o.seed, Concurrency: o.concurrency})
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("gencap: %w", cerr)
	}
	if err != nil {
		return err
	}
	el := time.Since(t0)
	fmt.Fprintf(stdout, "%s: %s\ngenerated in %.1fs (%.0f MB/s)\n", o.out, sum, el.Seconds(), float64(sum.Bytes)/1e6/el.Seconds())
	return nil
}

// parseSize reads "1GB", "200MB", "2MB", "500KB" or a plain byte count.
func parseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"G", 1e9}, {"M", 1e6}, {"K", 1e3}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSuffix(t, u.suffix), u.m
			break
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("%w: %q", ErrSize, s)
	}
	return int64(v * float64(mult)), nil
}
