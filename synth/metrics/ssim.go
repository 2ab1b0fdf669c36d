package metrics

import (
	"math"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/job"
)

// SSIMWindow is the side of SSIM's window: a measured region (after the
// border) narrower or lower than this has no SSIM.
const SSIMWindow = 11

// window is the SSIM window's 1-D factor: cv2.getGaussianKernel(11, 1.5),
// computed as OpenCV does (exp(-x²/(2σ²)) for x = -5..5, each multiplied by
// the reciprocal of their sum). KAIR's window is its outer product.
var window = gaussianKernel(SSIMWindow, 1.5)

func gaussianKernel(n int, sigma float64) []float64 {
	k := make([]float64, n)
	scale2X := -0.5 / (sigma * sigma)
	var sum float64
	for i := range k {
		x := float64(i) - float64(n-1)*0.5
		k[i] = math.Exp(scale2X * x * x)
		sum += k[i]
	}
	sum = 1 / sum
	for i := range k {
		k[i] *= sum
	}
	return k
}

// SSIM constants of KAIR's ssim() for the 0–255 scale.
const (
	C1 = (0.01 * 255) * (0.01 * 255)
	C2 = (0.03 * 255) * (0.03 * 255)
)

// SSIM is KAIR's calculate_ssim(img1, img2, border) on HWC images on the
// 0–255 scale: with the border cropped from each side, the mean over
// channels of the single-channel SSIM, each the mean of the SSIM map over
// the 'valid' region of an 11×11 Gaussian window (σ = 1.5; cv2.filter2D
// with the result cut to [5:-5, 5:-5]) with C1 = (0.01·255)² and
// C2 = (0.03·255)². c = 1 is KAIR's grey (2-D) path. The window is
// applied separably in float64. A region smaller than 11×11 after the
// border gives NaN (KAIR's mean of an empty map). It panics if a or b is
// not h*w*c long or border is negative.
func SSIM(a, b []float64, h, w, c, border int) float64 {
	checkShape("SSIM", len(a), len(b), h, w, c, border)
	return ssimChannels(h, w, c, border, func(i int) (float64, float64) { return a[i], b[i] })
}

// SSIMUint8 is SSIM on uint8 HWC images (KAIR's usual input).
func SSIMUint8(a, b []uint8, h, w, c, border int) float64 {
	checkShape("SSIMUint8", len(a), len(b), h, w, c, border)
	return ssimChannels(h, w, c, border, func(i int) (float64, float64) { return float64(a[i]), float64(b[i]) })
}

// SSIMImage is SSIM between two RGB images after quantizing both to uint8
// as KAIR does before measuring (images.ToUint8). Differently sized images
// are an error.
func SSIMImage(a, b *images.Image, border int) (float64, error) {
	if err := sameSize(a, b, border); err != nil {
		return 0, err
	}
	return SSIMUint8(images.ToUint8(a), images.ToUint8(b), a.H, a.W, images.Channels, border), nil
}

// ssimChannels extracts each channel of the cropped region into planes and
// averages their SSIM, one goroutine per channel.
func ssimChannels(h, w, c, border int, at func(i int) (float64, float64)) float64 {
	ch, cw := h-2*border, w-2*border
	if ch < len(window) || cw < len(window) {
		return math.NaN()
	}
	vals := make([]float64, c)
	job.ForEach(c, c, func(_, k int) error {
		x := make([]float64, ch*cw)
		y := make([]float64, ch*cw)
		for r := 0; r < ch; r++ {
			for col := 0; col < cw; col++ {
				x[r*cw+col], y[r*cw+col] = at(((r+border)*w+col+border)*c + k)
			}
		}
		vals[k] = ssimPlane(x, y, ch, cw)
		return nil
	})
	var sum float64
	for _, v := range vals {
		sum += v
	}
	return sum / float64(c)
}

// ssimPlane is KAIR's ssim() on two h×w planes (h, w ≥ 11).
func ssimPlane(x, y []float64, h, w int) float64 {
	n := len(window)
	oh, ow := h-n+1, w-n+1
	xx := make([]float64, len(x))
	yy := make([]float64, len(x))
	xy := make([]float64, len(x))
	for i := range x {
		xx[i], yy[i], xy[i] = x[i]*x[i], y[i]*y[i], x[i]*y[i]
	}
	tmp := make([]float64, oh*w)
	mu1 := filterValid(x, h, w, tmp)
	mu2 := filterValid(y, h, w, tmp)
	sxx := filterValid(xx, h, w, tmp)
	syy := filterValid(yy, h, w, tmp)
	sxy := filterValid(xy, h, w, tmp)
	var sum float64
	for i := 0; i < oh*ow; i++ {
		m1, m2 := mu1[i], mu2[i]
		m1sq, m2sq, m12 := m1*m1, m2*m2, m1*m2
		s1, s2, s12 := sxx[i]-m1sq, syy[i]-m2sq, sxy[i]-m12
		sum += ((2*m12 + C1) * (2*s12 + C2)) / ((m1sq + m2sq + C1) * (s1 + s2 + C2))
	}
	return sum / float64(oh*ow)
}

// filterValid correlates the h×w plane p with window⊗window and returns
// the (h-10)×(w-10) 'valid' part, filtering columns then rows; tmp holds
// at least (h-10)*w values.
func filterValid(p []float64, h, w int, tmp []float64) []float64 {
	k := window
	n := len(k)
	oh, ow := h-n+1, w-n+1
	tmp = tmp[:oh*w]
	for r := 0; r < oh; r++ {
		row := tmp[r*w : (r+1)*w]
		clear(row)
		for t, kt := range k {
			src := p[(r+t)*w : (r+t+1)*w]
			for col, v := range src {
				row[col] += kt * v
			}
		}
	}
	out := make([]float64, oh*ow)
	for r := 0; r < oh; r++ {
		row := tmp[r*w : (r+1)*w]
		o := out[r*ow : (r+1)*ow]
		for col := range o {
			seg := row[col : col+n]
			var s float64
			for t, kt := range k {
				s += kt * seg[t]
			}
			o[col] = s
		}
	}
	return out
}
