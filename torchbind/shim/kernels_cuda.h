/*
 * kernels_cuda.h - launchers of the fused kernels' CUDA code (kernels_cuda.cu).
 * Raw device pointers, sizes and a stream only: no libtorch here, so the .cu
 * file compiles with nvcc alone. kernels_autograd.cpp allocates and calls
 * these (kernels_abi.cpp has checked the arguments); semantics are those of
 * kernels.h.
 *
 * Element (n, c, y, x) of every 4-D array is at n*sn + c*sc + y*sh + x*sw
 * (in elements). KL arrays are flat: sample n is [n*per, (n+1)*per).
 * dtype: LVK_* (equal to ludvae.h's LV_F32..LV_BF16). Optional inputs and
 * outputs are NULL. Each launcher returns cudaGetLastError() after launch.
 */
#ifndef LUDVAE_KERNELS_CUDA_H
#define LUDVAE_KERNELS_CUDA_H

#include <cuda_runtime_api.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { LVK_F32 = 0, LVK_F64 = 1, LVK_F16 = 2, LVK_BF16 = 3 };

typedef struct {
  int64_t n, c, h, w;     /* sizes */
  int64_t sn, sc, sh, sw; /* strides in elements */
} lvk_geom;

typedef struct {
  uint64_t key;      /* lv_noise_key(seed, stream) when stream_add is NULL */
  int64_t origin[4]; /* global (n, c, y, x) of element [0, 0, 0, 0] */
  /* Non-NULL: the key is lv_noise_key(seed, stream + *stream_add), read on
   * the device when the kernel runs (a CUDA graph replays with new noise). */
  uint64_t seed, stream;
  const int64_t *stream_add;
} lvk_noise;

/* out = eps */
cudaError_t lvk_normal(int dtype, void *out, lvk_geom g, lvk_noise nz, cudaStream_t s);

/* out = (mu + exp(ls) * eps) * scale[n]; eps NULL = drawn */
cudaError_t lvk_reparam_fwd(int dtype, const void *mu, const void *ls, const double *scale,
                            const void *eps, void *out, lvk_geom g, lvk_noise nz, cudaStream_t s);

/* dmu = g*s, dls = g*s*sigma*eps, deps = g*s*sigma; dscale_elems (double, same
 * offsets as the 4-D arrays) = g*(mu + sigma*eps), summed per sample by the
 * caller. */
cudaError_t lvk_reparam_bwd(int dtype, const void *grad, const void *mu, const void *ls,
                            const double *scale, const void *eps, void *dmu, void *dls, void *deps,
                            double *dscale_elems, lvk_geom g, lvk_noise nz, cudaStream_t s);

/* partial[n*chunks + k] = sum of kl over elements [k*LVK_KL_CHUNK, ...) of
 * sample n, chunks = ceil(per / LVK_KL_CHUNK); fixed order (deterministic). */
#define LVK_KL_CHUNK 4096
cudaError_t lvk_kl_fwd(int dtype, const void *mq, const void *lq, const void *mp, const void *lp,
                       int64_t n, int64_t per, double *partial, cudaStream_t s);

/* d kl / d input times w[n] (double, on the device) */
cudaError_t lvk_kl_bwd(int dtype, const void *mq, const void *lq, const void *mp, const void *lp,
                       const double *w, void *dmq, void *dlq, void *dmp, void *dlp, int64_t n,
                       int64_t per, cudaStream_t s);

/* One Adam update of float32 tensors, in groups of LVK_ADAM_GROUP per launch.
 * p, g, m, v[i]: n[i] elements each, laid out alike. scalars (device, double):
 * {lr, step}, step already incremented. loss (device float, or NULL): when
 * it is not finite nothing is updated. Every gradient is set to zero either
 * way, ready for the next backward to accumulate into. Per element, in
 * float, the operations of torch's multi-tensor Adam:
 *   g += wd p; m = lerp(m, g, 1 - beta1); v = v beta2 + (1 - beta2) g g;
 *   p += -lr / (1 - beta1^step) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps) */
#define LVK_ADAM_GROUP 32
cudaError_t lvk_adam(float *const *p, float *const *g, float *const *m, float *const *v,
                     const int64_t *n, int count, const double *scalars, const float *loss,
                     double beta1, double beta2, double eps, double wd, cudaStream_t s);

#ifdef __cplusplus
}
#endif

#endif
