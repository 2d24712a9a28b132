package media

import (
	"math"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestEModel(t *testing.T) {
	g711, _ := ImpairmentOf("PCMA")
	g729, _ := ImpairmentOf("G729")
	tests := []struct {
		name            string
		imp             Impairment
		loss, burst, ta float64
		wantR, wantMOS  float64
	}{
		// G.107 default values: R = 93.2, MOS 4.41
		{"G.107 default", Impairment{}, 0, 1, 0, 93.2, 4.409},
		{"G.711 no loss", g711, 0, 1, 0, 93.2, 4.409},
		// G.711 with PLC, 2% random loss: Ie,eff = 95*2/(2+25.1) = 7.011
		{"G.711 2% random", g711, 2, 1, 0, 86.189, 4.235},
		// G.711 without PLC (G.113 Bpl 4.3), 2% random: Ie,eff = 95*2/6.3 = 30.159
		{"G.711 no PLC 2% random", Impairment{Ie: 0, Bpl: 4.3}, 2, 1, 0, 63.041, 3.256},
		// G.729A: Ie 11 at no loss
		{"G.729A no loss", g729, 0, 1, 0, 82.2, 4.104},
		// delay: Idd(200 ms) with X = 1
		{"G.711 200 ms", g711, 0, 1, 200, 93.2 - Idd(200), MOS(93.2 - Idd(200))},
		// all lost, 800 ms: 93.2 - Idd - 95 is below the scale, kept at 0
		{"G.711 all lost, 800 ms", g711, 100, 1, 800, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := RFactor(tc.imp, tc.loss, tc.burst, tc.ta)
			if !near(r, tc.wantR, 0.001) {
				t.Errorf("R = %.4f, want %.3f", r, tc.wantR)
			}
			if m := MOS(r); !near(m, tc.wantMOS, 0.001) {
				t.Errorf("MOS = %.4f, want %.3f", m, tc.wantMOS)
			}
		})
	}
	// Idd: G.107 gives 25*((1+1)^(1/6) - 3*(1+(1/3)^6)^(1/6) + 2) = 3.044 at Ta = 200 ms (X = 1)
	if got := Idd(200); !near(got, 3.0444, 0.001) {
		t.Errorf("Idd(200) = %.4f, want 3.044", got)
	}
	if Idd(100) != 0 {
		t.Errorf("Idd(100) = %v, want 0", Idd(100))
	}
	if MOS(-5) != 1 || MOS(120) != 4.5 || MOS(2.54) != 1 {
		t.Errorf("MOS clamps: %v %v %v", MOS(-5), MOS(120), MOS(2.54))
	}
	if _, ok := ImpairmentOf("speex"); ok {
		t.Errorf("speex should have no G.113 values")
	}
}
