package rtp

import (
	"encoding/binary"
	"fmt"
)

// Event is one RFC 4733 (RFC 2833) telephone-event payload.
type Event struct {
	Code     uint8  // 0-9 digits, 10 *, 11 #, 12-15 A-D, 16 flash, others tones
	End      bool   // the E bit: the last packet(s) of the event
	Volume   uint8  // -dBm0, 0-63
	Duration uint16 // in RTP timestamp units since the event began
}

// EventLen is the length of one telephone-event block.
const EventLen = 4

// DecodeEvent decodes the first event block of an RTP payload.
// Redundant blocks (RFC 4733 section 2.5.1.5) after the first are ignored.
func DecodeEvent(b []byte) (Event, error) {
	if len(b) < EventLen {
		return Event{}, fmt.Errorf("%w: %d bytes, want 4", ErrBadEvent, len(b))
	}
	return Event{
		Code:     b[0],
		End:      b[1]&0x80 != 0,
		Volume:   b[1] & 0x3f,
		Duration: binary.BigEndian.Uint16(b[2:]),
	}, nil
}

// Encode appends the 4-byte wire form of e to dst.
func (e Event) Encode(dst []byte) []byte {
	b1 := e.Volume & 0x3f
	if e.End {
		b1 |= 0x80
	}
	return append(dst, e.Code, b1, byte(e.Duration>>8), byte(e.Duration))
}

// Digit names the event: "0"-"9", "*", "#", "A"-"D", "flash", or
// "event N" for the other (tone) events.
func (e Event) Digit() string { return EventName(e.Code) }

// EventName names a telephone-event code.
func EventName(code uint8) string {
	switch {
	case code <= 9:
		return string(rune('0' + code))
	case code == 10:
		return "*"
	case code == 11:
		return "#"
	case code <= 15:
		return string(rune('A' + code - 12))
	case code == 16:
		return "flash"
	}
	return fmt.Sprintf("event %d", code)
}
