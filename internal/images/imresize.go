package images

import (
	"fmt"
	"math"

	"github.com/ludvae/ludvae/internal/job"
)

// Imresize resizes m by scale with MATLAB's imresize bicubic method and
// antialiasing, as KAIR's imresize_np(img, scale, antialiasing=True):
// output size ceil(W*scale) × ceil(H*scale); the cubic kernel with a = -0.5;
// when downscaling the kernel is widened by 1/scale (antialiasing); the
// image is extended by symmetric (edge-repeating) reflection; rows are
// resized first, then columns. Weights are computed and applied in float64
// and the result is rounded to float32 without clamping, so bicubic
// overshoot can leave [0,1] as it does in KAIR.
//
// KAIR's reference vectors (testdata/reference) were computed from the
// uint8 crop divided by 255; Imresize agrees with them to about 1e-7.
// It panics if scale is not a positive finite number.
func Imresize(m *Image, scale float64) *Image {
	if !(scale > 0) || math.IsInf(scale, 1) {
		panic(fmt.Sprintf("images.Imresize: invalid scale %v", scale))
	}
	outW := int(math.Ceil(float64(m.W) * scale))
	outH := int(math.Ceil(float64(m.H) * scale))
	out := New(outW, outH)
	if m.W == 0 || m.H == 0 || outW == 0 || outH == 0 {
		return out
	}
	rows := resizeWeights(m.H, outH, scale)
	cols := resizeWeights(m.W, outW, scale)

	// Pass 1 (rows): tmp[c][i][x] = Σ_k rows.w[i][k] * src[c][rows.idx[i][k]][x].
	// Pass 2 (columns): out[c][i][j] = Σ_k cols.w[j][k] * tmp[c][i][cols.idx[j][k]].
	// Work is split into (channel, block of output rows) jobs.
	const block = 16
	nb := (outH + block - 1) / block
	jobs := Channels * nb
	workers := min(job.Workers(0), jobs)
	tmps, accs := make([][]float64, workers), make([][]float64, workers)
	for w := range workers {
		tmps[w], accs[w] = make([]float64, block*m.W), make([]float64, m.W)
	}
	job.ForEach(jobs, workers, func(w, j int) error {
		tmp, acc := tmps[w], accs[w]
		c, b := j/nb, j%nb
		src, dst := m.Plane(c), out.Plane(c)
		i0, i1 := b*block, min((b+1)*block, outH)
		for i := i0; i < i1; i++ {
			clear(acc)
			for k, w := range rows.w[i] {
				r := src[rows.idx[i][k]*m.W : (rows.idx[i][k]+1)*m.W]
				for x, v := range r {
					acc[x] += w * float64(v)
				}
			}
			copy(tmp[(i-i0)*m.W:], acc)
		}
		for i := i0; i < i1; i++ {
			t := tmp[(i-i0)*m.W : (i-i0+1)*m.W]
			d := dst[i*outW : (i+1)*outW]
			for jx := range d {
				var s float64
				if cols.contiguous[jx] {
					seg := t[cols.idx[jx][0] : cols.idx[jx][0]+len(cols.w[jx])]
					for k, w := range cols.w[jx] {
						s += w * seg[k]
					}
				} else {
					for k, w := range cols.w[jx] {
						s += w * t[cols.idx[jx][k]]
					}
				}
				d[jx] = float32(s)
			}
		}
		return nil
	})
	return out
}

// axisWeights holds, for every output index along one axis, the input
// indices it reads (already reflected into range) and their weights.
type axisWeights struct {
	idx        [][]int
	w          [][]float64
	contiguous []bool // idx[j] is idx[j][0], idx[j][0]+1, ...
}

// cubic is MATLAB's bicubic kernel (a = -0.5).
func cubic(x float64) float64 {
	ax := math.Abs(x)
	ax2, ax3 := ax*ax, ax*ax*ax
	switch {
	case ax <= 1:
		return 1.5*ax3 - 2.5*ax2 + 1
	case ax <= 2:
		return -0.5*ax3 + 2.5*ax2 - 4*ax + 2
	}
	return 0
}

// resizeWeights is KAIR's calculate_weights_indices for the cubic kernel
// (width 4) with antialiasing, in float64. Taps with zero weight at either
// end are dropped (KAIR drops a whole zero column; zeros add nothing) and
// indices outside [0, in) are reflected symmetrically (-1 → 0, in → in-1),
// which is what KAIR's symmetric padding does.
func resizeWeights(in, out int, scale float64) axisWeights {
	kernelWidth := 4.0
	aa := scale < 1
	if aa {
		kernelWidth /= scale
	}
	p := int(math.Ceil(kernelWidth)) + 2
	aw := axisWeights{idx: make([][]int, out), w: make([][]float64, out), contiguous: make([]bool, out)}
	for j := 0; j < out; j++ {
		// 1-based output coordinate mapped to the 1-based input coordinate.
		u := float64(j+1)/scale + 0.5*(1-1/scale)
		left := math.Floor(u - kernelWidth/2)
		w := make([]float64, p)
		var sum float64
		for k := range w {
			d := u - (left + float64(k))
			if aa {
				w[k] = scale * cubic(d*scale)
			} else {
				w[k] = cubic(d)
			}
			sum += w[k]
		}
		lo, hi := 0, p
		for lo < hi && w[lo] == 0 {
			lo++
		}
		for hi > lo && w[hi-1] == 0 {
			hi--
		}
		ws := w[lo:hi]
		idx := make([]int, len(ws))
		contiguous := true
		for k := range ws {
			ws[k] /= sum
			idx[k] = reflect(int(left)+lo+k-1, in)
			if k > 0 && idx[k] != idx[k-1]+1 {
				contiguous = false
			}
		}
		aw.idx[j], aw.w[j], aw.contiguous[j] = idx, ws, contiguous
	}
	return aw
}

// reflect maps a 0-based index into [0, n) by symmetric reflection about
// the edges (the edge sample repeated: -1 → 0, n → n-1), repeating for
// indices more than n outside.
func reflect(i, n int) int {
	period := 2 * n
	i %= period
	if i < 0 {
		i += period
	}
	if i >= n {
		i = period - 1 - i
	}
	return i
}

// Downscale8 is the super-resolution low-resolution image of m: MATLAB
// bicubic by 1/factor, then clipped and rounded to 8 bits, as the authors'
// LR training images are (DeFlow's downscaled 8-bit PNGs, read by KAIR).
func Downscale8(m *Image, factor int) *Image {
	lr := Imresize(m, 1/float64(factor))
	RoundTo8Bit(lr)
	return lr
}

// DownscaleTaps are the weights Imresize gives every output pixel when it
// shrinks by an integer factor (they repeat with the output position):
// output j = Σ_k w[k]·in[reflect(j·factor + first + k)], 0-based.
func DownscaleTaps(factor int) (w []float64, first int) {
	n := 8 * factor
	aw := resizeWeights(n, n/factor, 1/float64(factor))
	const j = 4 // an output pixel whose taps are all inside
	if !aw.contiguous[j] {
		panic("images.DownscaleTaps: interior taps are not contiguous")
	}
	return aw.w[j], aw.idx[j][0] - j*factor
}
