package noisestats

import "math"

// pearson accumulates the sums behind a Pearson correlation of pairs (a, b).
type pearson struct {
	n                     float64
	sa, sb, saa, sbb, sab float64
}

func (p *pearson) add(a, b float64) {
	p.n++
	p.sa += a
	p.sb += b
	p.saa += a * a
	p.sbb += b * b
	p.sab += a * b
}

func (p *pearson) merge(o pearson) {
	p.n += o.n
	p.sa += o.sa
	p.sb += o.sb
	p.saa += o.saa
	p.sbb += o.sbb
	p.sab += o.sab
}

// value is the Pearson correlation, NaN with fewer than two pairs or a
// constant side.
func (p pearson) value() float64 {
	if p.n < 2 {
		return math.NaN()
	}
	cov := p.sab - p.sa*p.sb/p.n
	va := p.saa - p.sa*p.sa/p.n
	vb := p.sbb - p.sb*p.sb/p.n
	if !(va > 0 && vb > 0) {
		return math.NaN()
	}
	r := cov / math.Sqrt(va*vb)
	return max(-1, min(1, r))
}

// addLagged adds every pair (p[y][x], p[y+dy][x+dx]) of the w×h row-major
// plane p (dx, dy >= 0) to s, scaling values by scale.
func addLagged(s *pearson, p []float32, w, h, dx, dy int, scale float64) {
	for y := 0; y+dy < h; y++ {
		row, next := p[y*w:y*w+w], p[(y+dy)*w:(y+dy)*w+w]
		for x := 0; x+dx < w; x++ {
			s.add(scale*float64(row[x]), scale*float64(next[x+dx]))
		}
	}
}

// Correlation is the Pearson correlation over all pixel pairs of the w×h
// row-major plane p that are dx columns and dy rows apart: the pairs
// (p(x, y), p(x+dx, y+dy)) for dx, dy >= 0. It is NaN when there are fewer
// than two pairs or one side is constant, and it panics if len(p) != w*h
// or a lag is negative.
func Correlation(p []float32, w, h, dx, dy int) float64 {
	if len(p) != w*h || dx < 0 || dy < 0 {
		panic("noisestats.Correlation: plane is not w*h long, or a negative lag")
	}
	var s pearson
	addLagged(&s, p, w, h, dx, dy, 1)
	return s.value()
}
