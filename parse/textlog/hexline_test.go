package textlog

import (
	"bytes"
	"testing"
)

// TestHexLineOverlong: a -X-like line with more than 16 bytes of hex
// groups (found by FuzzRead: it panicked in hex.Decode) keeps the first
// whole groups that fit in 16 bytes.
func TestHexLineOverlong(t *testing.T) {
	tests := []struct {
		name string
		line string
		ok   bool
		want []byte
	}{
		{"17 bytes", "\t0x0000:  00 0102 0304 0506 0708 090a 0b0c 0d0e 0f10", true,
			[]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}},
		{"16 bytes", "\t0x0010:  4500 0274 0000 4000 4011 237a 0a63 0001  E..t..@.@.#z.c..", true,
			[]byte{0x45, 0, 2, 0x74, 0, 0, 0x40, 0, 0x40, 0x11, 0x23, 0x7a, 0x0a, 0x63, 0, 1}},
		{"not indented", "0x0010:  4500 0274", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []byte
			if ok := hexLine(tt.line, &got); ok != tt.ok {
				t.Fatalf("hexLine ok = %v, want %v", ok, tt.ok)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("bytes % x, want % x", got, tt.want)
			}
		})
	}
}
