package metrics

import (
	"fmt"
	"math"

	"github.com/ludvae/ludvae/internal/images"
)

// GaussianKernel returns OpenCV's getGaussianKernel(2·⌈3σ⌉+1, σ) for σ > 0:
// exp(−x²/(2σ²)) sampled at the integers −r…r and normalized to sum 1.
func GaussianKernel(sigma float64) []float64 {
	r := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*r+1)
	var sum float64
	for i := range k {
		x := float64(i - r)
		k[i] = math.Exp(-x * x / (2 * sigma * sigma))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	return k
}

// LowPass returns m blurred per channel by the Gaussian of std sigma pixels
// (the window of [GaussianKernel]) with mirrored borders that do not repeat
// the edge pixel (OpenCV's BORDER_REFLECT_101): cv2.GaussianBlur(m, (k, k),
// sigma, borderType=cv2.BORDER_REFLECT_101). Comparing low passes of two
// images compares their content and colours while ignoring their noise:
// a synthetic degradation that blurs or tints the clean image shows there,
// its noise (mostly) does not. It returns an error when the window is wider
// than the image (the mirror would fold more than once).
func LowPass(m *images.Image, sigma float64) (*images.Image, error) {
	if !(sigma > 0) || math.IsInf(sigma, 0) {
		return nil, fmt.Errorf("low-pass σ %g: must be finite and > 0", sigma)
	}
	// The window is checked against the image before it is made: a huge
	// σ must not allocate its kernel first.
	if r := math.Ceil(3 * sigma); r >= float64(m.W) || r >= float64(m.H) {
		return nil, fmt.Errorf("low-pass σ %g needs a window of %.0f pixels; the image is %dx%d", sigma, 2*r+1, m.W, m.H)
	}
	k := GaussianKernel(sigma)
	r := len(k) / 2
	out := images.New(m.W, m.H)
	rows := make([]float64, m.W*m.H)
	for c := 0; c < images.Channels; c++ {
		src, dst := m.Plane(c), out.Plane(c)
		for y := 0; y < m.H; y++ {
			for x := 0; x < m.W; x++ {
				var s float64
				for i, w := range k {
					s += w * float64(src[y*m.W+Reflect101(x+i-r, m.W)])
				}
				rows[y*m.W+x] = s
			}
		}
		for y := 0; y < m.H; y++ {
			for x := 0; x < m.W; x++ {
				var s float64
				for i, w := range k {
					s += w * rows[Reflect101(y+i-r, m.H)*m.W+x]
				}
				dst[y*m.W+x] = float32(s)
			}
		}
	}
	return out, nil
}

// Reflect101 maps an index less than n outside [0, n) back inside by
// reflection about the edge pixel without repeating it (…c b | a b c … —
// OpenCV's BORDER_REFLECT_101, PyTorch's F.pad mode "reflect").
func Reflect101(i, n int) int {
	switch {
	case i < 0:
		return -i
	case i >= n:
		return 2*(n-1) - i
	}
	return i
}
