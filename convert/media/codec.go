package media

import "strings"

// staticCodec names the static payload types by their SDP encoding names.
var staticCodec = map[int]string{
	0: "PCMU", 3: "GSM", 4: "G723", 5: "DVI4", 6: "DVI4", 7: "LPC", 8: "PCMA", 9: "G722", 10: "L16", 11: "L16",
	12: "QCELP", 13: "CN", 14: "MPA", 15: "G728", 16: "DVI4", 17: "DVI4", 18: "G729", 19: "CN",
	25: "CelB", 26: "JPEG", 28: "nv", 31: "H261", 32: "MPV", 33: "MP2T", 34: "H263",
}

// staticClock is Wireshark's clock_map for the static payload types.
var staticClock = map[int]int{
	0: 8000, 1: 8000, 2: 8000, 3: 8000, 4: 8000, 5: 8000, 6: 16000, 7: 8000, 8: 8000, 9: 8000,
	10: 44100, 11: 44100, 12: 8000, 13: 8000, 14: 90000, 15: 8000, 16: 11025, 17: 22050, 18: 8000,
	19: 8000, 25: 90000, 26: 90000, 28: 90000, 31: 90000, 32: 90000, 33: 90000, 34: 90000,
}

// dynClock is Wireshark's mimetype_and_clock_map, used for a dynamic
// payload type whose rtpmap gives no rate; matched as a prefix, last first.
var dynClock = []struct {
	name string
	rate int
}{
	{"AMR", 8000}, {"AMR-WB", 16000}, {"BMPEG", 90000}, {"BT656", 90000}, {"DV", 90000},
	{"EVRC", 8000}, {"EVRC0", 8000}, {"EVRC1", 8000}, {"EVRCB", 8000}, {"EVRCB0", 8000}, {"EVRCB1", 8000},
	{"EVRCWB", 16000}, {"EVRCWB0", 16000}, {"EVRCWB1", 16000}, {"EVS", 16000}, {"G7221", 16000},
	{"G726-16", 8000}, {"G726-24", 8000}, {"G726-32", 8000}, {"G726-40", 8000}, {"G729D", 8000},
	{"G729E", 8000}, {"GSM-EFR", 8000}, {"H263-1998", 90000}, {"H263-2000", 90000}, {"H264", 90000},
	{"MP1S", 90000}, {"MP2P", 90000}, {"MP4V-ES", 90000}, {"mpa-robust", 90000}, {"opus", 48000},
	{"pointer", 90000}, {"raw", 90000}, {"red", 1000}, {"SMV", 8000}, {"SMV0", 8000}, {"t140", 1000},
	{"telephone-event", 8000},
}

func dynClockRate(name string) int {
	for i := len(dynClock) - 1; i >= 0; i-- {
		d := dynClock[i]
		if len(name) >= len(d.name) && strings.EqualFold(name[:len(d.name)], d.name) {
			return d.rate
		}
	}
	return 0
}

// pmap is one payload type's meaning from the SDP.
type pmap struct {
	pt    int
	name  string
	clock int
}

// clockFor is the clock rate Wireshark's analysis uses for pt: the static
// table below 96, else the rtpmap (0 for telephone-event, whose timestamp
// does not advance), else 0.
func clockFor(pt int, maps []pmap) (clock int, tevent bool) {
	if pt < 96 {
		return staticClock[pt], false
	}
	for _, m := range maps {
		if m.pt == pt {
			if len(m.name) >= 15 && strings.EqualFold(m.name[:15], "telephone-event") {
				return 0, true
			}
			if m.clock != 0 {
				return m.clock, false
			}
			return dynClockRate(m.name), false
		}
	}
	return 0, false
}

// codecName is the encoding name of pt: the rtpmap, else the static table.
func codecName(pt int, maps []pmap) string {
	for _, m := range maps {
		if m.pt == pt && m.name != "" {
			return m.name
		}
	}
	if n, ok := staticCodec[pt]; ok {
		return n
	}
	return ""
}

// isCN says whether pt is comfort noise.
func isCN(pt int, maps []pmap) bool {
	if pt == ptCN || pt == ptCNOld {
		return true
	}
	return pt >= 96 && strings.EqualFold(codecName(pt, maps), "CN")
}

// isEvent says whether pt carries RFC 4733 events: the rtpmap says
// telephone-event, or (no rtpmap, as with heuristic streams) it is 101,
// the payload type nearly everyone uses and Wireshark's default.
func isEvent(pt int, maps []pmap) bool {
	if pt < 96 {
		return false
	}
	n := codecName(pt, maps)
	if n == "" {
		return pt == 101
	}
	return len(n) >= 15 && strings.EqualFold(n[:15], "telephone-event")
}
