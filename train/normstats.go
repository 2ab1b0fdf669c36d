package train

import (
	"math"

	"github.com/ludvae/ludvae/train/store"
)

// storeStats are the per-channel mean and standard deviation of the
// images' values, from the sums their stores recorded when decoding them.
func storeStats(imgs []*store.Image) (mean, std [3]float64) {
	var sum, sq [3]float64
	var count float64
	for _, m := range imgs {
		for c := range 3 {
			sum[c] += m.Sum[c]
			sq[c] += m.SumSq[c]
		}
		count += float64(m.Width * m.Height)
	}
	return meanStd(sum, sq, count)
}

// meanStd is the mean and (population) standard deviation of count values
// with these sums, the deviation floored at 1e-6.
func meanStd(sum, sq [3]float64, count float64) (mean, std [3]float64) {
	for c := range 3 {
		mean[c] = sum[c] / count
		std[c] = math.Sqrt(max(sq[c]/count-mean[c]*mean[c], 1e-12))
	}
	return mean, std
}
