package noisestats

import "math"

// binIndex is the intensity bin of v among bins equal bins over [0,1];
// values below 0 go to bin 0, values from 1 up to bin bins−1.
func binIndex(v float64, bins int) int {
	if !(v > 0) {
		return 0
	}
	b := int(v * float64(bins))
	if b >= bins {
		b = bins - 1
	}
	return b
}

// BinEdges returns the bins+1 edges i/bins, i = 0..bins, of the clean
// intensity bins.
func BinEdges(bins int) []float64 {
	e := make([]float64, bins+1)
	for i := range e {
		e[i] = float64(i) / float64(bins)
	}
	return e
}

// moments accumulates the count, sum and sum of squares of a sample.
type moments struct {
	n       int64
	sum, sq float64
}

func (m *moments) add(v float64) {
	m.n++
	m.sum += v
	m.sq += v * v
}

func (m *moments) merge(o moments) {
	m.n += o.n
	m.sum += o.sum
	m.sq += o.sq
}

func (m moments) mean() float64 {
	if m.n == 0 {
		return math.NaN()
	}
	return m.sum / float64(m.n)
}

// std is the sample standard deviation (n−1 denominator), NaN below two
// values.
func (m moments) std() float64 {
	if m.n < 2 {
		return math.NaN()
	}
	mu := m.sum / float64(m.n)
	v := (m.sq - mu*m.sum) / float64(m.n-1)
	if v < 0 { // rounding
		v = 0
	}
	return math.Sqrt(v)
}

// BinnedStd returns, for each of bins equal bins of the clean intensity
// over [0,1], the sample standard deviation (n−1 denominator) of the noise
// values whose clean value falls in the bin, and the number of values in
// it. Noise keeps its units (multiply by 255 for the 0–255 scale; the
// [Accumulator] does). A bin with fewer than two values has std NaN. It
// panics if the slices differ in length or bins < 1.
func BinnedStd(noise, clean []float32, bins int) (std []float64, count []int64) {
	if len(noise) != len(clean) || bins < 1 {
		panic("noisestats.BinnedStd: noise and clean differ in length, or bins < 1")
	}
	m := make([]moments, bins)
	for i, n := range noise {
		m[binIndex(float64(clean[i]), bins)].add(float64(n))
	}
	std, count = make([]float64, bins), make([]int64, bins)
	for b := range m {
		std[b], count[b] = m[b].std(), m[b].n
	}
	return std, count
}
