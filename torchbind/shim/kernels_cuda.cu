// kernels_cuda.cu - CUDA kernels of the fused sampling and KL (launchers in
// kernels_cuda.h, semantics in kernels.h). No libtorch: raw pointers, sizes
// and a stream.
//
// Sampling runs one thread per column pair (2*xp, 2*xp+1) of a row, the unit
// in which philox.h's Box-Muller yields its two normals; the noise comes out
// bit-identical to the CPU's because philox.h does its double arithmetic
// through __dadd_rn/__dmul_rn/... (never contracted into FMAs). The rest
// (exp, the products) is ordinary device arithmetic: equal to the CPU's to
// rounding, not to the bit. KL sums go block by block in a fixed order, so
// they are deterministic too.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <type_traits>

#include "adam_math.h"
#include "kernels_cuda.h"
#include "philox.h"

namespace {

// Half and bfloat16 convert through float, as on the CPU (c10::Half etc.).
__device__ __forceinline__ double ld(float v) { return v; }
__device__ __forceinline__ double ld(double v) { return v; }
__device__ __forceinline__ double ld(__half v) { return __half2float(v); }
__device__ __forceinline__ double ld(__nv_bfloat16 v) { return __bfloat162float(v); }
template <typename T>
__device__ __forceinline__ T st(double v);
template <>
__device__ __forceinline__ float st<float>(double v) {
  return __double2float_rn(v);
}
template <>
__device__ __forceinline__ double st<double>(double v) {
  return v;
}
template <>
__device__ __forceinline__ __half st<__half>(double v) {
  return __float2half_rn(__double2float_rn(v));
}
template <>
__device__ __forceinline__ __nv_bfloat16 st<__nv_bfloat16>(double v) {
  return __float2bfloat16_rn(__double2float_rn(v));
}

const int kThreads = 256;

int blocks_for(int64_t work) {
  int64_t b = (work + kThreads - 1) / kThreads;
  return (int)(b < 1 ? 1 : b > (1 << 20) ? (1 << 20) : b);  // grid-stride loops cover the rest
}

// Where thread t's column pair lies: row (n, c, y), pair index xp (global),
// local column xl of its even member (-1 when the tile starts at an odd
// global column).
struct PairAt {
  int64_t n, c, y, xp, xl;
};
__device__ __forceinline__ PairAt pair_at(int64_t t, int64_t np, const lvk_geom &g,
                                          const lvk_noise &nz) {
  PairAt p;
  int64_t row = t / np, j = t % np;
  p.y = row % g.h;
  p.c = row / g.h % g.c;
  p.n = row / (g.h * g.c);
  int64_t odd = nz.origin[3] & 1;
  p.xp = (nz.origin[3] - odd) / 2 + j;
  p.xl = 2 * j - odd;
  return p;
}
__device__ __forceinline__ uint64_t key_of(const lvk_noise &nz) {
  return nz.stream_add ? lv_noise_key(nz.seed, nz.stream + (uint64_t)*nz.stream_add) : nz.key;
}
__device__ __forceinline__ void draw(const lvk_noise &nz, const PairAt &p, double e[2]) {
  lv_normal_pair(key_of(nz), (uint32_t)(p.n + nz.origin[0]), (uint32_t)(p.c + nz.origin[1]),
                 (uint32_t)(p.y + nz.origin[2]), (uint32_t)p.xp, &e[0], &e[1]);
}

int64_t pairs_per_row(const lvk_geom &g, const lvk_noise &nz) {
  return (g.w + (nz.origin[3] & 1) + 1) / 2;
}

template <typename T>
__global__ void normal_k(T *out, lvk_geom g, lvk_noise nz, int64_t np, int64_t total) {
  for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < total;
       t += (int64_t)gridDim.x * blockDim.x) {
    PairAt p = pair_at(t, np, g, nz);
    double e[2];
    draw(nz, p, e);
    for (int k = 0; k < 2; k++) {
      int64_t x = p.xl + k;
      if (x >= 0 && x < g.w) out[p.n * g.sn + p.c * g.sc + p.y * g.sh + x * g.sw] = st<T>(e[k]);
    }
  }
}

template <typename T>
__global__ void reparam_fwd_k(const T *mu, const T *ls, const double *scale, const T *eps, T *out,
                              lvk_geom g, lvk_noise nz, int64_t np, int64_t total) {
  for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < total;
       t += (int64_t)gridDim.x * blockDim.x) {
    PairAt p = pair_at(t, np, g, nz);
    double m = scale ? scale[p.n] : 1.0;
    double e[2] = {0.0, 0.0};
    if (!eps && m != 0) draw(nz, p, e);
    for (int k = 0; k < 2; k++) {
      int64_t x = p.xl + k;
      if (x < 0 || x >= g.w) continue;
      int64_t off = p.n * g.sn + p.c * g.sc + p.y * g.sh + x * g.sw;
      if (m == 0) {  // masked: exactly zero, no draws
        out[off] = st<T>(0.0);
        continue;
      }
      double ev = eps ? ld(eps[off]) : ld(st<T>(e[k]));  // noise rounded to T, as lv_normal
      double mv = mu ? ld(mu[off]) : 0.0, lv = ls ? ld(ls[off]) : 0.0;
      out[off] = st<T>((mv + exp(lv) * ev) * m);
    }
  }
}

template <typename T>
__global__ void reparam_bwd_k(const T *grad, const T *mu, const T *ls, const double *scale,
                              const T *eps, T *dmu, T *dls, T *deps, double *dscale, lvk_geom g,
                              lvk_noise nz, int64_t np, int64_t total) {
  for (int64_t t = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < total;
       t += (int64_t)gridDim.x * blockDim.x) {
    PairAt p = pair_at(t, np, g, nz);
    double m = scale ? scale[p.n] : 1.0;
    bool live = m != 0 || dscale;
    double e[2] = {0.0, 0.0};
    if (!eps && live) draw(nz, p, e);
    for (int k = 0; k < 2; k++) {
      int64_t x = p.xl + k;
      if (x < 0 || x >= g.w) continue;
      int64_t off = p.n * g.sn + p.c * g.sc + p.y * g.sh + x * g.sw;
      if (!live) {
        if (dmu) dmu[off] = st<T>(0.0);
        if (dls) dls[off] = st<T>(0.0);
        if (deps) deps[off] = st<T>(0.0);
        continue;
      }
      double ev = eps ? ld(eps[off]) : ld(st<T>(e[k]));
      double gv = ld(grad[off]), s = exp(ls ? ld(ls[off]) : 0.0), gm = gv * m;
      if (dmu) dmu[off] = st<T>(gm);
      if (deps) deps[off] = st<T>(gm * s);
      if (dls) dls[off] = st<T>(gm * s * ev);
      if (dscale) dscale[off] = gv * ((mu ? ld(mu[off]) : 0.0) + s * ev);
    }
  }
}

// kl = 1/2 (e^{2u} - 1 - 2u) + 1/2 d^2 e^{-2 lp}, u = lq - lp, d = mq - mp
__device__ __forceinline__ double kl_el(double mq, double lq, double mp, double lp) {
  double u = lq - lp, d = mq - mp;
  return 0.5 * ((exp(2.0 * u) - 1.0 - 2.0 * u) + d * d * exp(-2.0 * lp));
}

// One block per (sample, chunk): a fixed summation order.
template <typename T>
__global__ void kl_fwd_k(const T *mq, const T *lq, const T *mp, const T *lp, int64_t per,
                         int64_t chunks, double *partial) {
  __shared__ double sh[kThreads];
  int64_t n = blockIdx.x / chunks, k = blockIdx.x % chunks;
  int64_t lo = k * LVK_KL_CHUNK, hi = lo + LVK_KL_CHUNK < per ? lo + LVK_KL_CHUNK : per;
  int64_t begin = n * per + lo, end = n * per + hi;
  double s = 0;
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x)
    s += kl_el(ld(mq[i]), ld(lq[i]), mp ? ld(mp[i]) : 0.0, lp ? ld(lp[i]) : 0.0);
  sh[threadIdx.x] = s;
  __syncthreads();
  for (int h = blockDim.x / 2; h > 0; h /= 2) {
    if (threadIdx.x < h) sh[threadIdx.x] += sh[threadIdx.x + h];
    __syncthreads();
  }
  if (threadIdx.x == 0) partial[blockIdx.x] = sh[0];
}

template <typename T>
__global__ void kl_bwd_k(const T *mq, const T *lq, const T *mp, const T *lp, const double *w,
                         T *dmq, T *dlq, T *dmp, T *dlp, int64_t per, int64_t total) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
       i += (int64_t)gridDim.x * blockDim.x) {
    double wn = w[i / per];
    double lpv = lp ? ld(lp[i]) : 0.0;
    double u = ld(lq[i]) - lpv, d = ld(mq[i]) - (mp ? ld(mp[i]) : 0.0);
    double a = exp(2.0 * u), b = exp(-2.0 * lpv), q = wn * d * b;
    if (dmq) dmq[i] = st<T>(q);
    if (dmp) dmp[i] = st<T>(-q);
    if (dlq) dlq[i] = st<T>(wn * (a - 1.0));
    if (dlp) dlp[i] = st<T>(wn * ((1.0 - a) - d * d * b));
  }
}

// ---------------------------------------------------------------- Adam

const int64_t kAdamChunk = 16 * 1024;  // elements per block

struct AdamGroup {
  float *p[LVK_ADAM_GROUP], *g[LVK_ADAM_GROUP], *m[LVK_ADAM_GROUP], *v[LVK_ADAM_GROUP];
  int64_t n[LVK_ADAM_GROUP];
  int64_t first[LVK_ADAM_GROUP + 1];  // the first block of each tensor; first[count] = grid
  int count;
};

// One block per chunk of a tensor; the update itself is adam_math.h's.
__global__ void adam_k(AdamGroup a, const double *scalars, const float *loss, double beta1,
                       double beta2, double eps, double wd) {
  int t = 0;
  while (t + 1 < a.count && a.first[t + 1] <= (int64_t)blockIdx.x) t++;
  int64_t lo = ((int64_t)blockIdx.x - a.first[t]) * kAdamChunk;
  int64_t hi = lo + kAdamChunk < a.n[t] ? lo + kAdamChunk : a.n[t];
  int ok = !loss || isfinite(*loss);
  lv_adam_consts c = lv_adam_at(scalars[0], scalars[1], beta1, beta2, eps, wd);
  for (int64_t i = lo + threadIdx.x; i < hi; i += blockDim.x)
    lv_adam_element(a.p[t], a.g[t], a.m[t], a.v[t], i, ok, &c);
}

template <typename T>
const T *c(const void *p) {
  return static_cast<const T *>(p);
}
template <typename T>
T *m(void *p) {
  return static_cast<T *>(p);
}

// Calls f with a null pointer of the element type of dtype.
template <typename F>
cudaError_t dispatch(int dtype, F f) {
  switch (dtype) {
    case LVK_F32:
      f((float *)nullptr);
      break;
    case LVK_F64:
      f((double *)nullptr);
      break;
    case LVK_F16:
      f((__half *)nullptr);
      break;
    case LVK_BF16:
      f((__nv_bfloat16 *)nullptr);
      break;
    default:
      return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

}  // namespace

extern "C" {

cudaError_t lvk_normal(int dtype, void *out, lvk_geom g, lvk_noise nz, cudaStream_t s) {
  int64_t np = pairs_per_row(g, nz), total = g.n * g.c * g.h * np;
  return dispatch(dtype, [&](auto *tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    normal_k<T><<<blocks_for(total), kThreads, 0, s>>>(m<T>(out), g, nz, np, total);
  });
}

cudaError_t lvk_reparam_fwd(int dtype, const void *mu, const void *ls, const double *scale,
                            const void *eps, void *out, lvk_geom g, lvk_noise nz, cudaStream_t s) {
  int64_t np = pairs_per_row(g, nz), total = g.n * g.c * g.h * np;
  return dispatch(dtype, [&](auto *tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    reparam_fwd_k<T><<<blocks_for(total), kThreads, 0, s>>>(c<T>(mu), c<T>(ls), scale, c<T>(eps),
                                                            m<T>(out), g, nz, np, total);
  });
}

cudaError_t lvk_reparam_bwd(int dtype, const void *grad, const void *mu, const void *ls,
                            const double *scale, const void *eps, void *dmu, void *dls, void *deps,
                            double *dscale_elems, lvk_geom g, lvk_noise nz, cudaStream_t s) {
  int64_t np = pairs_per_row(g, nz), total = g.n * g.c * g.h * np;
  return dispatch(dtype, [&](auto *tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    reparam_bwd_k<T><<<blocks_for(total), kThreads, 0, s>>>(
        c<T>(grad), c<T>(mu), c<T>(ls), scale, c<T>(eps), m<T>(dmu), m<T>(dls), m<T>(deps),
        dscale_elems, g, nz, np, total);
  });
}

cudaError_t lvk_adam(float *const *p, float *const *g, float *const *m, float *const *v,
                     const int64_t *n, int count, const double *scalars, const float *loss,
                     double beta1, double beta2, double eps, double wd, cudaStream_t s) {
  for (int i = 0; i < count;) {
    AdamGroup a;
    a.count = 0;
    int64_t blocks = 0;
    for (; i < count && a.count < LVK_ADAM_GROUP; i++) {
      if (n[i] == 0) continue;
      int k = a.count++;
      a.p[k] = p[i], a.g[k] = g[i], a.m[k] = m[i], a.v[k] = v[i], a.n[k] = n[i];
      a.first[k] = blocks;
      blocks += (n[i] + kAdamChunk - 1) / kAdamChunk;
    }
    if (a.count == 0) continue;
    if (blocks > 0x7fffffff) return cudaErrorInvalidValue;
    a.first[a.count] = blocks;
    adam_k<<<(unsigned)blocks, kThreads, 0, s>>>(a, scalars, loss, beta1, beta2, eps, wd);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return e;
  }
  return cudaSuccess;
}

cudaError_t lvk_kl_fwd(int dtype, const void *mq, const void *lq, const void *mp, const void *lp,
                       int64_t n, int64_t per, double *partial, cudaStream_t s) {
  int64_t chunks = (per + LVK_KL_CHUNK - 1) / LVK_KL_CHUNK;
  if (n * chunks == 0) return cudaSuccess;  // a grid of no blocks is an error
  if (n * chunks > 0x7fffffff) return cudaErrorInvalidValue;
  return dispatch(dtype, [&](auto *tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    kl_fwd_k<T><<<(unsigned)(n * chunks), kThreads, 0, s>>>(c<T>(mq), c<T>(lq), c<T>(mp), c<T>(lp),
                                                            per, chunks, partial);
  });
}

cudaError_t lvk_kl_bwd(int dtype, const void *mq, const void *lq, const void *mp, const void *lp,
                       const double *w, void *dmq, void *dlq, void *dmp, void *dlp, int64_t n,
                       int64_t per, cudaStream_t s) {
  int64_t total = n * per;
  return dispatch(dtype, [&](auto *tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    kl_bwd_k<T><<<blocks_for(total), kThreads, 0, s>>>(c<T>(mq), c<T>(lq), c<T>(mp), c<T>(lp), w,
                                                       m<T>(dmq), m<T>(dlq), m<T>(dmp), m<T>(dlp),
                                                       per, total);
  });
}

}  // extern "C"
