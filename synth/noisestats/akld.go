package noisestats

import (
	"fmt"
	"math"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/synth/metrics"
)

// akldKernel is OpenCV's getGaussianKernel(7, -1), the window DANet's
// estimate_sigma_gauss blurs with. For odd sizes up to 7 and sigma <= 0
// OpenCV returns a fixed table, [1, 3.5, 7, 9, 7, 3.5, 1]/32, not a sampled
// Gaussian of the σ = 1.4 its formula would give (cv2.GaussianBlur with
// ksize 7 and sigma 0 uses the sampled one, so it is not the same blur).
var akldKernel = [...]float64{1.0 / 32, 3.5 / 32, 7.0 / 32, 9.0 / 32, 7.0 / 32, 3.5 / 32, 1.0 / 32}

// AKLD constants from DANet (utils.estimate_sigma_gauss, kl_gauss_zero_center).
const (
	// akldRadius is the padding on each side: (7 − 1) / 2.
	akldRadius = len(akldKernel) / 2
	// akldVarFloor is the floor of every local variance, so that a patch
	// of zero noise does not divide by zero.
	akldVarFloor = 1e-10
	// akldRatioMin and akldRatioMax clamp the variance ratio synthetic/real.
	akldRatioMin, akldRatioMax = 0.1, 10
)

// LocalVariance returns the local variance of one channel's noise plane
// (w×h, row-major) as DANet estimates it: the square of the noise blurred
// by the 7×7 window outer(k, k) of k = getGaussianKernel(7, −1), with
// reflect-101 borders ([metrics.Reflect101], DANet's padding), floored at
// 1e-10. The window is separable, so it is applied as two 1-D passes
// (equal to the 2-D convolution up to rounding).
// It panics if w or h is 3 or less (DANet's padding of 3 needs 4 pixels).
func LocalVariance(plane []float32, w, h int) []float64 {
	if w <= akldRadius || h <= akldRadius || len(plane) != w*h {
		panic(fmt.Sprintf("noisestats.LocalVariance: plane of %d values as %dx%d (need at least %dx%d)", len(plane), w, h, akldRadius+1, akldRadius+1))
	}
	sq := make([]float64, len(plane))
	for i, v := range plane {
		sq[i] = float64(v) * float64(v)
	}
	rows := make([]float64, len(plane))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var s float64
			for k, c := range akldKernel {
				s += c * sq[y*w+metrics.Reflect101(x+k-akldRadius, w)]
			}
			rows[y*w+x] = s
		}
	}
	out := sq // reused: every value of sq is consumed by rows already
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var s float64
			for k, c := range akldKernel {
				s += c * rows[metrics.Reflect101(y+k-akldRadius, h)*w+x]
			}
			out[y*w+x] = max(s, akldVarFloor)
		}
	}
	return out
}

// AKLD is DANet's average KL divergence between the real and the
// synthetic noise of one image, each modelled per pixel and channel as a
// zero-mean Gaussian with the local variance of [LocalVariance]:
// 0.5·mean(ln(1/r) + r − 1) with r = v_synth/v_real clamped to [0.1, 10],
// the mean over all channels and pixels. It is KL(synthetic‖real) of the
// two Gaussians (DANet's kl_gauss_zero_center(sigma_fake, sigma_real)).
// The noise images (degraded − clean, on the [0,1] scale) must have the
// same size, at least 4×4.
func AKLD(realNoise, synthNoise *images.Image) (float64, error) {
	if realNoise.W != synthNoise.W || realNoise.H != synthNoise.H {
		return math.NaN(), fmt.Errorf("noisestats: AKLD of a %dx%d real noise and a %dx%d synthetic one", realNoise.W, realNoise.H, synthNoise.W, synthNoise.H)
	}
	w, h := realNoise.W, realNoise.H
	if w <= akldRadius || h <= akldRadius {
		return math.NaN(), fmt.Errorf("noisestats: AKLD of a %dx%d image: DANet's 7×7 window with reflect padding needs at least %dx%d", w, h, akldRadius+1, akldRadius+1)
	}
	var sum float64
	for c := 0; c < Channels; c++ {
		vr := LocalVariance(realNoise.Plane(c), w, h)
		vs := LocalVariance(synthNoise.Plane(c), w, h)
		for i := range vr {
			r := min(max(vs[i]/vr[i], akldRatioMin), akldRatioMax)
			sum += math.Log(1/r) + r - 1
		}
	}
	return 0.5 * sum / float64(Channels*w*h), nil
}
