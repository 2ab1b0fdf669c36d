package noisestats

import (
	"fmt"
	"math"
)

// Comparison condenses the noise statistics of a synthetic degradation
// against the real one on the same clean images. Differences are
// synthetic − real; everything is on the 0–255 scale except correlations
// (unitless) and KL (nats). The json tags are the keys of `ludvae eval
// noise --json`, which gives the differences only.
type Comparison struct {
	// Std is the pooled noise std of the real and the synthetic noise and
	// their difference.
	RealStd  float64 `json:"-"`
	SynthStd float64 `json:"-"`
	StdDiff  float64 `json:"std_diff"`
	// StdCurveRMSE is the root mean square over channels and intensity
	// bins (those with at least two values in both) of the difference of
	// the per-bin std curves: how well the signal dependence matches.
	StdCurveRMSE float64 `json:"std_curve_rmse"`
	// Corr1 and Corr2 are the lag-1 and lag-2 correlations (averaged over
	// channels and directions, Stats.CorrMean).
	RealCorr1  float64 `json:"-"`
	SynthCorr1 float64 `json:"-"`
	Corr1Diff  float64 `json:"corr_lag1_diff"`
	RealCorr2  float64 `json:"-"`
	SynthCorr2 float64 `json:"-"`
	Corr2Diff  float64 `json:"corr_lag2_diff"`
	// KL[c] is KL(real‖synthetic) of channel c's noise histograms and
	// KLAll that of the three channels pooled.
	KL    [Channels]float64 `json:"kl"`
	KLAll float64           `json:"kl_all"`
}

// Compare measures synth against real. Both must come from the same Config.
func Compare(real, synth *Stats) (Comparison, error) {
	if real.Config != synth.Config {
		return Comparison{}, fmt.Errorf("noisestats: comparing stats of different configs %+v and %+v", real.Config, synth.Config)
	}
	var cmp Comparison
	cmp.RealStd, cmp.SynthStd = real.StdAll, synth.StdAll
	cmp.StdDiff = synth.StdAll - real.StdAll
	cmp.RealCorr1, cmp.SynthCorr1 = real.CorrMean(1), synth.CorrMean(1)
	cmp.RealCorr2, cmp.SynthCorr2 = real.CorrMean(2), synth.CorrMean(2)
	cmp.Corr1Diff = cmp.SynthCorr1 - cmp.RealCorr1
	cmp.Corr2Diff = cmp.SynthCorr2 - cmp.RealCorr2
	var sq float64
	n := 0
	for c := 0; c < Channels; c++ {
		for b, r := range real.BinStd[c] {
			s := synth.BinStd[c][b]
			if finite(r) && finite(s) {
				sq += (s - r) * (s - r)
				n++
			}
		}
		cmp.KL[c] = KL(real.Hist[c], synth.Hist[c], real.Config.Epsilon)
	}
	cmp.StdCurveRMSE = math.NaN()
	if n > 0 {
		cmp.StdCurveRMSE = math.Sqrt(sq / float64(n))
	}
	cmp.KLAll = KL(real.HistAll(), synth.HistAll(), real.Config.Epsilon)
	return cmp, nil
}
