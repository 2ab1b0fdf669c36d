package noisestats

import (
	"fmt"
	"math"

	"github.com/ludvae/ludvae/internal/images"
)

// KLDBins is the number of histogram bins of [KLD]: equal bins of width
// 1/128 over [−1, 1] (NAFlow's calculate_kld, after Noise Flow's
// kl_div_3_data).
const KLDBins = 256

// kldHistogram returns the fraction of the values that fall in each of
// the KLDBins bins [−1 + i/128, −1 + (i+1)/128), the last one closed at 1,
// as numpy.histogram counts them with edges arange(−1, 1 + 1/128, 1/128).
// Values outside [−1, 1] and NaN are not counted, but they stay in the
// denominator (NAFlow divides by the number of values, not by the count).
func kldHistogram(values []float32) []float64 {
	counts := make([]int64, KLDBins)
	for _, v := range values {
		f := float64(v)
		if !(f >= -1 && f <= 1) {
			continue
		}
		// f·128 is exact (a power of two), so the floor finds the bin
		// exactly, as numpy's comparisons against the exact edges do.
		b := min(int(math.Floor(f*KLDBins/2))+KLDBins/2, KLDBins-1)
		counts[b]++
	}
	p := make([]float64, KLDBins)
	for i, c := range counts {
		p[i] = float64(c) / float64(len(values))
	}
	return p
}

// KLD is the histogram KL divergence KL(real‖synthetic) in nats of the
// noise of one image as NAFlow and PNG compute it: the noise (degraded −
// clean, on the [0,1] scale) of all three channels in one histogram of
// KLDBins bins over [−1, 1]; bins empty in either histogram are dropped;
// Σ p·(ln p − ln q) over the rest. The noise images must have the same
// size.
func KLD(realNoise, synthNoise *images.Image) (float64, error) {
	if realNoise.W != synthNoise.W || realNoise.H != synthNoise.H {
		return math.NaN(), fmt.Errorf("noisestats: KLD of a %dx%d real noise and a %dx%d synthetic one", realNoise.W, realNoise.H, synthNoise.W, synthNoise.H)
	}
	if len(realNoise.Pix) == 0 {
		return math.NaN(), fmt.Errorf("noisestats: KLD of an empty image")
	}
	p, q := kldHistogram(realNoise.Pix), kldHistogram(synthNoise.Pix)
	var kl float64
	for i := range p {
		if p[i] > 0 && q[i] > 0 {
			kl += p[i] * (math.Log(p[i]) - math.Log(q[i]))
		}
	}
	return kl, nil
}
