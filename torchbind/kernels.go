package torchbind

// #include "ludvae.h"
import "C"

import (
	"runtime"
	"unsafe"
)

// NoiseKey selects counter-based noise (shim/philox.h): the noise at an
// element is a pure function of (Seed, Stream) and the element's global
// coordinates (n, c, y, x) = its index in the tensor plus Origin. So a tile
// drawn with Origin (0, 0, y0, x0) holds exactly the noise the whole image
// holds there, a backward pass can draw the noise again instead of storing
// it, and CPU and CUDA draw the same bits.
type NoiseKey struct {
	Seed, Stream uint64
	Origin       [4]int64
	// StreamAdd, when not nil, is one int64 on the data's device added to
	// Stream when the kernel runs (the backward reads it again): a CUDA graph
	// recorded with it draws new noise on each replay once the value changes.
	StreamAdd *Tensor
}

func (k *NoiseKey) origin() *C.int64_t { return (*C.int64_t)(unsafe.Pointer(&k.Origin[0])) }

// Reparameterize returns z = (mu + exp(logSigma)·eps)·scale[n], the
// reparameterized sample of docs/design.md §2.2, as one fused autograd operation.
// mu, logSigma and eps are [N, C, H, W]; nil mu means 0, nil logSigma means
// σ = 1, and at least one of the three must be given. scale holds N values
// (the per-sample mask, times a temperature where wanted); nil means ones;
// samples with scale 0 come out exactly 0 and draw nothing. A nil eps is
// drawn from key (see Normal); the backward draws it again rather than
// keeping it. Gradients flow to mu, logSigma, scale and an explicit eps.
func Reparameterize(mu, logSigma, scale, eps *Tensor, key NoiseKey) *Tensor {
	var out C.lv_tensor
	check("reparameterize", C.lv_reparam(mu.ptr(), logSigma.ptr(), scale.ptr(), eps.ptr(),
		C.uint64_t(key.Seed), C.uint64_t(key.Stream), key.origin(), key.StreamAdd.ptr(), &out))
	runtime.KeepAlive(mu)
	runtime.KeepAlive(logSigma)
	runtime.KeepAlive(scale)
	runtime.KeepAlive(eps)
	runtime.KeepAlive(key.StreamAdd)
	return wrap(out)
}

// Normal returns the standard normal noise that Reparameterize draws for a
// [N, C, H, W] tensor of this dtype and device under key, rounded to the
// dtype (Reparameterize uses exactly these values). No autograd.
func Normal(shape []int64, o Options, key NoiseKey) *Tensor {
	var out C.lv_tensor
	check("normal", C.lv_normal(cints(shape), C.int(len(shape)), C.int(o.DType),
		C.int(o.Device.Type), C.int(o.Device.Index), C.uint64_t(key.Seed), C.uint64_t(key.Stream),
		key.origin(), key.StreamAdd.ptr(), &out))
	runtime.KeepAlive(key.StreamAdd)
	return wrap(out)
}

// GaussianKL returns the KL divergence of docs/design.md §2.2 between the diagonal
// Gaussians q = N(muQ, exp(lsQ)²) and p = N(muP, exp(lsP)²), elementwise
//
//	−½ + lsP − lsQ + (e^{2·lsQ} + (muQ − muP)²) / (2·e^{2·lsP}),
//
// summed over each sample and multiplied by mask[n]: perSample is [N], total
// (0-dim) their sum. muQ and lsQ are [N, ...]; nil muP or lsP means 0 (both
// nil: the standard normal prior); nil mask means ones. Sums are accumulated
// in double in a fixed order, so results do not depend on the thread count.
// Gradients flow from both results to all five inputs.
func GaussianKL(muQ, lsQ, muP, lsP, mask *Tensor) (total, perSample *Tensor) {
	var t, p C.lv_tensor
	check("gaussian kl", C.lv_gauss_kl(muQ.ptr(), lsQ.ptr(), muP.ptr(), lsP.ptr(), mask.ptr(), &t, &p))
	runtime.KeepAlive(muQ)
	runtime.KeepAlive(lsQ)
	runtime.KeepAlive(muP)
	runtime.KeepAlive(lsP)
	runtime.KeepAlive(mask)
	return wrap(t), wrap(p)
}
