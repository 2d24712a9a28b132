package media

import (
	"math"
	"strings"
)

// Impairment is a codec's equipment impairment factor Ie and its packet-loss
// robustness Bpl (ITU-T G.113 Appendix I), on the narrowband E-model scale.
type Impairment struct {
	Ie, Bpl float64
	Source  string // where the values come from
}

// impairments per encoding name (lower case). G.711 and G.729(A) are
// G.113 Appendix I values (Tables I.1 and I.3: G.711 with packet-loss
// concealment Bpl 25.1; G.729A+VAD Ie 11, Bpl 19.0; G.723.1 Ie 15, Bpl 16.1;
// GSM-EFR Ie 5, Bpl 10). G.722, Opus and iLBC have no narrowband G.113
// entry: G.722 and Opus are wideband codecs at least as good as G.711 on the
// narrowband scale, so they take G.711's values (their MOS is capped at the
// narrowband 4.41); iLBC takes G.729A's Ie (a codec of the same class) and a
// Bpl of 32 for its frame-independent loss robustness. These three are
// estimates, said so in Source.
var impairments = map[string]Impairment{
	"pcmu":  {0, 25.1, "G.113 I.3 (G.711 with PLC)"},
	"pcma":  {0, 25.1, "G.113 I.3 (G.711 with PLC)"},
	"g729":  {11, 19.0, "G.113 I.3 (G.729A+VAD)"},
	"g729a": {11, 19.0, "G.113 I.3 (G.729A+VAD)"},
	"g723":  {15, 16.1, "G.113 I.3 (G.723.1+VAD 6.3k)"},
	"gsm":   {5, 10, "G.113 I.3 (GSM-EFR)"},
	"g722":  {0, 25.1, "estimate: G.711 values (wideband codec on the narrowband scale)"},
	"opus":  {0, 25.1, "estimate: G.711 values (wideband codec on the narrowband scale)"},
	"ilbc":  {11, 32, "estimate: Ie of G.729A, Bpl 32"},
}

// ImpairmentOf returns the Ie/Bpl for an encoding name; ok is false for a
// codec without values (then G.711's are used and the MOS is a guess).
func ImpairmentOf(codec string) (Impairment, bool) {
	imp, ok := impairments[strings.ToLower(codec)]
	if !ok {
		return impairments["pcmu"], false
	}
	return imp, true
}

// R0 is the G.107 basic signal-to-noise ratio minus the simultaneous
// impairment at default values: R = 93.2 with no delay, loss or codec
// impairment.
const R0 = 93.2

// RFactor is the G.107 transmission rating: R = R0 - Idd(Ta) - Ie,eff + A,
// with Ie,eff = Ie + (95 - Ie) * Ppl / (Ppl/BurstR + Bpl), Ppl the packet
// loss in percent, BurstR the burst ratio (1 for random loss), Ta the
// one-way delay in ms and A = 0. The echo terms Idte and Idle are left at
// their default-value contribution (echo is assumed controlled). R is kept
// within 0-100, the scale G.107 rates on: heavy loss with a long delay
// would take the sum below 0, where MOS is 1 anyway.
func RFactor(imp Impairment, lossPct, burstR, delayMs float64) float64 {
	if burstR < 1 {
		burstR = 1
	}
	ieEff := imp.Ie
	if lossPct > 0 {
		ieEff = imp.Ie + (95-imp.Ie)*lossPct/(lossPct/burstR+imp.Bpl)
	}
	return min(max(R0-Idd(delayMs)-ieEff, 0), 100)
}

// Idd is the G.107 delay impairment for an absolute one-way delay Ta in ms
// (zero up to 100 ms).
func Idd(ta float64) float64 {
	if ta <= 100 {
		return 0
	}
	x := math.Log10(ta/100) / math.Log10(2)
	return 25 * (math.Pow(1+math.Pow(x, 6), 1.0/6) - 3*math.Pow(1+math.Pow(x/3, 6), 1.0/6) + 2)
}

// MOS is the G.107 Annex B mapping from R to the conversational quality
// estimate MOS-CQE.
func MOS(r float64) float64 {
	switch {
	case r <= 0:
		return 1
	case r >= 100:
		return 4.5
	}
	// the cubic dips below 1 for R under about 6.5: MOS is never below 1
	return max(1+0.035*r+r*(r-60)*(100-r)*7e-6, 1)
}
