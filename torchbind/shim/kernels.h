/*
 * kernels.h - the fused kernels of LUD-VAE (included at the end of ludvae.h;
 * same conventions: lv_err results, out-parameters, NULL = undefined tensor).
 *
 * Both are autograd functions with their own first-order backward (a
 * backward with create_graph fails with an error rather than silently
 * dropping second-order terms). Tensors of one call must share dtype
 * (float32, float64, float16, bfloat16) and device; CUDA kernels run where
 * the shim was built with CUDA. 4-D tensors may be NCHW-contiguous or
 * channels-last (anything else is copied to NCHW); outputs follow the layout
 * of the first tensor given. Internally every element is computed in double.
 *
 * ---- Reparameterized sampling (docs/design.md section 2.2) ----
 *   z = (mu + exp(log_sigma) * eps) * scale[n]
 * mu, log_sigma, eps: [N, C, H, W]; NULL mu = 0, NULL log_sigma = 0 (sigma 1),
 * but at least one of the three must be given (it fixes the shape).
 * scale: N values (the per-sample mask, possibly times a temperature); NULL =
 * ones. Samples whose scale is 0 are exactly 0 and cost no noise draws.
 * eps NULL: eps is drawn from the counter-based generator of philox.h at
 * global coordinates (n + origin[0], c + origin[1], y + origin[2],
 * x + origin[3]) under (seed, stream), rounded to the tensor's dtype; a tile
 * with origin (0, 0, y0, x0) draws exactly what the whole image draws there,
 * and CPU and CUDA draw the same bits. origin NULL = zeros.
 * Backward: d mu = g*s, d log_sigma = g*s*sigma*eps, d eps = g*s*sigma,
 * d scale[n] = sum g*(mu + sigma*eps). A drawn eps is not stored: the
 * backward draws it again.
 */
#ifndef LUDVAE_KERNELS_H
#define LUDVAE_KERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

lv_err lv_reparam(lv_tensor mu, lv_tensor log_sigma, lv_tensor scale, lv_tensor eps, uint64_t seed,
                  uint64_t stream, const int64_t *origin, lv_tensor stream_add, lv_tensor *out);

/* The eps that lv_reparam draws for a 4-D tensor of this shape, dtype and
 * device (no autograd). */
lv_err lv_normal(const int64_t *shape, int ndim, int dtype, int dev_type, int dev_index,
                 uint64_t seed, uint64_t stream, const int64_t *origin, lv_tensor stream_add,
                 lv_tensor *out);

/* ---- Gaussian KL between diagonal Gaussians given by log-sigmas ----
 *   kl = -1/2 + ls_p - ls_q + (exp(2 ls_q) + (mu_q - mu_p)^2) / (2 exp(2 ls_p))
 * mu_q, ls_q: [N, ...]; mu_p, ls_p: same shape, NULL = 0 (both NULL: the
 * standard normal prior). mask: N values, NULL = ones.
 * out_per_sample[n] = mask[n] * sum of kl over sample n ([N]);
 * out_total = sum of out_per_sample (0-dim). Both come back in the
 * inputs' dtype, except float32 for float16/bfloat16 inputs. Sums are accumulated in double
 * in a fixed order (deterministic for any thread count). Either out pointer
 * may be NULL when that result is not wanted. Gradients flow to all five
 * inputs from both outputs. */
lv_err lv_gauss_kl(lv_tensor mu_q, lv_tensor ls_q, lv_tensor mu_p, lv_tensor ls_p, lv_tensor mask,
                   lv_tensor *out_total, lv_tensor *out_per_sample);

#ifdef __cplusplus
}
#endif

#endif
