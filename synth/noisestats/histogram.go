package noisestats

import "math"

// histIndex is the bin of v among the 2k+1 bins of width step centred on
// −k·step … k·step, clamped to the edge bins.
func histIndex(v, step float64, k int) int {
	f := math.Floor(v/step + 0.5)
	switch {
	case f != f: // NaN: count it in the middle rather than lose it silently
		return k
	case f <= -float64(k):
		return 0
	case f >= float64(k):
		return 2 * k
	}
	return int(f) + k
}

// Histogram counts values in 2·round(limit/step)+1 bins of width step
// centred on the multiples of step from −limit to limit; values beyond the
// outermost bins are counted in them. It panics if step <= 0 or limit < 0.
func Histogram(values []float64, limit, step float64) []int64 {
	if !(step > 0) || !(limit >= 0) {
		panic("noisestats.Histogram: need step > 0 and limit >= 0")
	}
	k := int(math.Round(limit / step))
	h := make([]int64, 2*k+1)
	for _, v := range values {
		h[histIndex(v, step, k)]++
	}
	return h
}

// KL is the Kullback–Leibler divergence KL(P‖Q) in nats between the
// histograms p and q (counts over the same bins): Σ P_i·ln(P_i/Q_i) with
// P_i = (p_i/Σp + eps) / (1 + B·eps) for B bins, and Q likewise, so that a
// bin that is empty in q but not in p costs a large finite amount instead
// of +Inf. Identical histograms give 0. It is NaN if either histogram is
// empty, and it panics if their lengths differ.
func KL(p, q []int64, eps float64) float64 {
	if len(p) != len(q) {
		panic("noisestats.KL: histograms of different lengths")
	}
	var np, nq float64
	for i := range p {
		np += float64(p[i])
		nq += float64(q[i])
	}
	if np == 0 || nq == 0 {
		return math.NaN()
	}
	norm := 1 + float64(len(p))*eps
	var kl float64
	for i := range p {
		pi := (float64(p[i])/np + eps) / norm
		qi := (float64(q[i])/nq + eps) / norm
		if pi > 0 {
			kl += pi * math.Log(pi/qi)
		}
	}
	return max(kl, 0)
}
