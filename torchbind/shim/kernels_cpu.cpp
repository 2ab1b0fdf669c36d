// kernels_cpu.cpp - the CPU math of the fused kernels (kernels_internal.h
// says how the kernels are split; kernels.h what they compute).
//
// CPU layout of the work: sampling goes row by row (n, c, y: W elements),
// the KL chunk by chunk of each sample, rows/chunks spread over libtorch's
// intra-op thread count (par_for below). Each row or chunk is loaded into double buffers, a
// dtype-independent core computes in double, and the results are stored
// back in the tensor's dtype. The cores are built three times (AVX-512, AVX2,
// x86-64 baseline; picked once at load time by target_clones): they are
// written branch-free, with their own exp, so that g++ vectorizes them.

// The noise must be bit-identical to the CUDA kernels' (philox.h): every
// double operation has to stay one IEEE operation. g++ contracts a*b+c into
// an FMA in C++ whenever the target has FMA (-std=c++17 does not stop it, and
// the AVX-512 clone has FMA), hence fp-contract=off for this whole file (set
// before any include, so that every function here shares the option), on top
// of the Makefile's -ffp-contract=off for the whole shim.
// no-math-errno lets sqrt vectorize; the dynamic cost model lets loops of
// run-time length vectorize at -O2 (the default model forbids epilogues).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off", "no-math-errno", "vect-cost-model=dynamic")
#endif

#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <exception>
#include <thread>
#include <type_traits>
#include <vector>

#include "common.h"
#include "kernels_internal.h"
#include "philox.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define LV_SIMD __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LV_SIMD
#endif
// Helpers of the cores must be inlined into each clone to vectorize there.
#if defined(__GNUC__)
#define LV_INLINE inline __attribute__((always_inline))
#else
#define LV_INLINE inline
#endif

namespace lv {
namespace kern {
namespace {

// ------------------------------------------------------------- math cores

// exp for the vectorized cores: 2^k e^r with k = round(x / ln 2), |r| <= ln2/2
// (Cody-Waite split of ln 2), e^r by its Taylor series to r^13 (truncation
// < 1e-17), 2^k applied in two halves so that overflow gives inf and tiny
// results go through the subnormals. About 1 ulp; no branches, no libm.
LV_INLINE double vexp(double x) {
  // clamp to [-746, 710] (NaN passes) by bit masks: written with ?: g++
  // threads the constant branches apart and the loop no longer vectorizes
  uint64_t lo = -(uint64_t)(x < -746.0), hi = -(uint64_t)(x > 710.0);
  double xc =
      lv_bitsd((lv_dbits(x) & ~(lo | hi)) | (lv_dbits(-746.0) & lo) | (lv_dbits(710.0) & hi));
  double kd = xc * 0x1.71547652b82fep0 + 0x1.8p52;  // round(x / ln 2) + 1.5 * 2^52
  int64_t k = (int64_t)(lv_dbits(kd) & 0xFFFFFFFFFFFFFull) - (1ll << 51);
  kd -= 0x1.8p52;
  double r = (xc - kd * 0x1.62e42feep-1) - kd * 0x1.a39ef35793c76p-33;
  double p = 0x1.6124613a86d09p-33;   // 1/13!
  p = p * r + 0x1.1eed8eff8d898p-29;  // 1/12!
  p = p * r + 0x1.ae64567f544e4p-26;  // 1/11!
  p = p * r + 0x1.27e4fb7789f5cp-22;  // 1/10!
  p = p * r + 0x1.71de3a556c734p-19;  // 1/9!
  p = p * r + 0x1.a01a01a01a01ap-16;  // 1/8!
  p = p * r + 0x1.a01a01a01a01ap-13;  // 1/7!
  p = p * r + 0x1.6c16c16c16c17p-10;  // 1/6!
  p = p * r + 0x1.1111111111111p-7;   // 1/5!
  p = p * r + 0x1.5555555555555p-5;   // 1/4!
  p = p * r + 0x1.5555555555555p-3;   // 1/3!
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  int64_t k1 = ((k + 2048) >> 1) - 1024, k2 = k - k1;  // floor(k/2), k in [-1076, 1024]
  return p * lv_bitsd((uint64_t)(k1 + 1023) << 52) * lv_bitsd((uint64_t)(k2 + 1023) << 52);
}

enum { NB = 16 };  // normal pairs per vectorized block

// NB pairs at consecutive pair columns xp0, xp0+1, ...: lv_normal_pair with
// the lanes in arrays so that every stage vectorizes. Same operations in the
// same order (integer-to-double conversions through exact bit tricks), so
// the same bits as lv_normal_pair: z[2i], z[2i+1] for column pair xp0+i.
LV_INLINE void normal_block(uint64_t key, uint32_t n, uint32_t c, uint32_t y, uint32_t xp0,
                            double *z) {
  uint32_t w0[NB], w1[NB], w2[NB], w3[NB];
  const uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
  for (int i = 0; i < NB; i++) {
    uint32_t x0 = xp0 + (uint32_t)i, x1 = y, x2 = c, x3 = n;
#pragma GCC unroll 10
    for (uint32_t r = 0; r < 10; r++) {
      uint64_t p0 = (uint64_t)0xD2511F53u * x0;
      uint64_t p1 = (uint64_t)0xCD9E8D57u * x2;
      x0 = (uint32_t)(p1 >> 32) ^ x1 ^ (k0 + r * 0x9E3779B9u);
      x2 = (uint32_t)(p0 >> 32) ^ x3 ^ (k1 + r * 0xBB67AE85u);
      x1 = (uint32_t)p1;
      x3 = (uint32_t)p0;
    }
    w0[i] = x0, w1[i] = x1, w2[i] = x2, w3[i] = x3;
  }
  double rad[NB], z0[NB], z1[NB];
  for (int i = 0; i < NB; i++) {  // lv_neg2log_u52
    uint64_t m = (((uint64_t)w0[i] << 20) | (w1[i] >> 12)) + 1;
    double d = lv_dsub(lv_bitsd(0x4330000000000000ull + m), 0x1p52);  // (double)m
    uint64_t bits = lv_dbits(d);
    uint64_t ek = (bits >> 52) - 51;  // (e - 52) + 1024, e the exponent of m
    double f = lv_bitsd((bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull);
    uint64_t big = -(uint64_t)(f > 0x1.6a09e667f3bcdp+0);
    f = lv_bitsd(lv_dbits(f) - (big & (1ull << 52)));                         // f / 2, exactly
    ek -= big;                                                                // e + 1
    double e = lv_dsub(lv_bitsd(0x4330000000000000ull | ek), 0x1p52 + 1024);  // e - 52
    double s = lv_ddiv(lv_dsub(f, 1.0), lv_dadd(f, 1.0));
    double w = lv_dmul(s, s);
    double p = 0x1.af286bca1af28p-5;
    p = lv_dadd(lv_dmul(p, w), 0x1.e1e1e1e1e1e1ep-5);
    p = lv_dadd(lv_dmul(p, w), 0x1.1111111111111p-4);
    p = lv_dadd(lv_dmul(p, w), 0x1.3b13b13b13b14p-4);
    p = lv_dadd(lv_dmul(p, w), 0x1.745d1745d1746p-4);
    p = lv_dadd(lv_dmul(p, w), 0x1.c71c71c71c71cp-4);
    p = lv_dadd(lv_dmul(p, w), 0x1.2492492492492p-3);
    p = lv_dadd(lv_dmul(p, w), 0x1.999999999999ap-3);
    p = lv_dadd(lv_dmul(p, w), 0x1.5555555555555p-2);
    double s2 = lv_dmul(s, 2.0);
    double logf = lv_dadd(s2, lv_dmul(lv_dmul(s2, w), p));
    rad[i] = lv_dmul(lv_dadd(lv_dmul(e, 0x1.62e42fefa39efp-1), logf), -2.0);
  }
  for (int i = 0; i < NB; i++) rad[i] = lv_dsqrt(rad[i]);
  for (int i = 0; i < NB; i++) {  // the angle, as in lv_normal_pair
    uint64_t b = ((uint64_t)w2[i] << 21) | (w3[i] >> 11);
    uint64_t oct = b >> 50, rem = b & ((1ull << 50) - 1);
    uint64_t odd = -(oct & 1);
    rem = (rem & ~odd) | (((1ull << 50) - rem) & odd);
    double phi =
        lv_dmul(lv_dsub(lv_bitsd(0x4330000000000000ull + rem), 0x1p52), 0x1.921fb54442d18p-51);
    double s, co;
    lv_sincos_octant(phi, &s, &co);
    uint64_t sb = lv_dbits(s), cb = lv_dbits(co);
    uint64_t swap = -(((oct + 1) >> 1) & 1);
    uint64_t cv = (sb & swap) | (cb & ~swap), sv = (cb & swap) | (sb & ~swap);
    cv ^= (((oct + 2) >> 2) & 1) << 63;
    sv ^= ((oct >> 2) & 1) << 63;
    z0[i] = lv_dmul(rad[i], lv_bitsd(cv));
    z1[i] = lv_dmul(rad[i], lv_bitsd(sv));
  }
  for (int i = 0; i < NB; i++) z[2 * i] = z0[i], z[2 * i + 1] = z1[i];
}

// np column pairs from xp0 on at (n, c, y) into z[0 .. 2*np).
LV_SIMD void normal_pairs(uint64_t key, uint32_t n, uint32_t c, uint32_t y, uint32_t xp0,
                          int64_t np, double *z) {
  int64_t i = 0;
  for (; i + NB <= np; i += NB) normal_block(key, n, c, y, xp0 + (uint32_t)i, z + 2 * i);
  for (; i < np; i++) lv_normal_pair(key, n, c, y, xp0 + (uint32_t)i, z + 2 * i, z + 2 * i + 1);
}

// The normals of row (n, c, y) at global columns x0 .. x0+w-1 (all global
// coordinates); buf holds w + 2 doubles. Returns where column x0 landed.
const double *normal_row(uint64_t key, int64_t n, int64_t c, int64_t y, int64_t x0, int64_t w,
                         double *buf) {
  int64_t odd = x0 & 1;  // two's complement: parity of negative x0 too
  normal_pairs(key, (uint32_t)n, (uint32_t)c, (uint32_t)y, (uint32_t)((x0 - odd) / 2),
               (w + odd + 1) / 2, buf);
  return buf + odd;
}

LV_SIMD void reparam_core(const double *__restrict__ mu, const double *__restrict__ ls,
                          const double *__restrict__ eps, double m, double *__restrict__ out,
                          int64_t len) {
  for (int64_t i = 0; i < len; i++) out[i] = (mu[i] + vexp(ls[i]) * eps[i]) * m;
}

// t = g*(mu + sigma*eps) feeds the gradient of the scale.
LV_SIMD void reparam_bwd_core(const double *__restrict__ g, const double *__restrict__ mu,
                              const double *__restrict__ ls, const double *__restrict__ eps,
                              double m, double *__restrict__ dmu, double *__restrict__ dls,
                              double *__restrict__ deps, double *__restrict__ t, int64_t len) {
  for (int64_t i = 0; i < len; i++) {
    double s = vexp(ls[i]), gm = g[i] * m;
    dmu[i] = gm;
    deps[i] = gm * s;
    dls[i] = gm * s * eps[i];
    t[i] = g[i] * (mu[i] + s * eps[i]);
  }
}

// kl = 1/2 (e^{2u} - 1 - 2u) + 1/2 d^2 e^{-2 lp} with u = lq - lp, d = mq - mp:
// the formula of kernels.h rearranged (equal in exact arithmetic). It stays
// finite where e^{2 lq} alone would overflow; in double its cancellation
// near q = p costs ~1e-16 absolute, far below float32's resolution.
LV_SIMD void kl_core(const double *__restrict__ mq, const double *__restrict__ lq,
                     const double *__restrict__ mp, const double *__restrict__ lp,
                     double *__restrict__ out, int64_t len) {
  for (int64_t i = 0; i < len; i++) {
    double u = lq[i] - lp[i], d = mq[i] - mp[i];
    out[i] = 0.5 * ((vexp(2.0 * u) - 1.0 - 2.0 * u) + d * d * vexp(-2.0 * lp[i]));
  }
}

LV_SIMD void kl_core_std(const double *__restrict__ mq, const double *__restrict__ lq,
                         double *__restrict__ out, int64_t len) {
  for (int64_t i = 0; i < len; i++)
    out[i] = 0.5 * ((vexp(2.0 * lq[i]) - 1.0 - 2.0 * lq[i]) + mq[i] * mq[i]);
}

// d kl: d/dmq = d e^{-2lp}, d/dlq = e^{2u} - 1, d/dmp = -d/dmq,
// d/dlp = 1 - e^{2u} - d^2 e^{-2lp}; all times w.
LV_SIMD void kl_bwd_core(const double *__restrict__ mq, const double *__restrict__ lq,
                         const double *__restrict__ mp, const double *__restrict__ lp, double w,
                         double *__restrict__ dmq, double *__restrict__ dlq,
                         double *__restrict__ dmp, double *__restrict__ dlp, int64_t len) {
  for (int64_t i = 0; i < len; i++) {
    double u = lq[i] - lp[i], d = mq[i] - mp[i];
    double a = vexp(2.0 * u), b = vexp(-2.0 * lp[i]);
    double q = w * d * b;
    dmq[i] = q;
    dmp[i] = -q;
    dlq[i] = w * (a - 1.0);
    dlp[i] = w * ((1.0 - a) - d * d * b);
  }
}

LV_SIMD void kl_bwd_core_std(const double *__restrict__ mq, const double *__restrict__ lq, double w,
                             double *__restrict__ dmq, double *__restrict__ dlq, int64_t len) {
  for (int64_t i = 0; i < len; i++) {
    dmq[i] = w * mq[i];
    dlq[i] = w * (vexp(2.0 * lq[i]) - 1.0);
  }
}

// Sum in eight interleaved lanes combined pairwise: the same order whether
// or not the compiler vectorizes it, so results never depend on the CPU.
double lane_sum(const double *v, int64_t len) {
  double a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= len; i += 8)
    for (int j = 0; j < 8; j++) a[j] += v[i + j];
  for (int j = 0; i < len; i++, j++) a[j] += v[i];
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

// ------------------------------------------------- dtype and layout helpers

// Half and BFloat16 go through float: the CUDA code converts the same way.
template <typename T>
inline double ld(T v) {
  return static_cast<double>(static_cast<at::opmath_type<T>>(v));
}
template <typename T>
inline T st(double v) {
  return static_cast<T>(static_cast<at::opmath_type<T>>(v));
}
template <typename T>
void load(const T *p, int64_t stride, int64_t len, double *out) {
  for (int64_t i = 0; i < len; i++) out[i] = ld(p[i * stride]);
}
template <typename T>
void store(const double *v, T *p, int64_t stride, int64_t len) {
  for (int64_t i = 0; i < len; i++) p[i * stride] = st<T>(v[i]);
}
template <typename T>
void store_zero(T *p, int64_t stride, int64_t len) {
  for (int64_t i = 0; i < len; i++) p[i * stride] = T(0);
}
// The kernels use the noise rounded to the tensor's dtype: exactly lv_normal's.
template <typename T>
void round_to(double *v, int64_t len) {
  if (!std::is_same<T, double>::value)
    for (int64_t i = 0; i < len; i++) v[i] = ld(st<T>(v[i]));
}
template <typename T>
const T *cptr(const at::Tensor &t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}
template <typename T>
T *mptr(const at::Tensor &t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

// ------------------------------------------------------------ CPU kernels

int64_t row_grain(int64_t w) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(w, 1)); }

// Row is one row (n, c, y) of a geometry: its W elements start at off.
struct Row {
  int64_t r, n, c, y, off;
};

// for_rows calls f(row, buf) for every row of g, the rows split across
// threads. buf is nbuf blocks of W + 2 doubles per thread, zeroed once:
// an input that is NULL is never loaded, so its block stays the zeros that
// stand for it. The normal, reparameterization forward and backward kernels
// differ only in what they do with a row.
template <class F>
void for_rows(const Geo &g, int nbuf, const F &f) {
  par_for(0, g.n * g.c * g.h, row_grain(g.w), [&](int64_t r0, int64_t r1) {
    std::vector<double> buf(nbuf * (g.w + 2), 0.0);
    for (int64_t r = r0; r < r1; r++) {
      Row row{r, r / (g.c * g.h), r / g.h % g.c, r % g.h, 0};
      row.off = row.n * g.sn + row.c * g.sc + row.y * g.sh;
      f(row, buf.data());
    }
  });
}

// row_noise is the counter noise of a row, drawn into be.
const double *row_noise(const Row &row, const Geo &g, const Noise &nz, double *be) {
  return normal_row(nz.key, row.n + nz.o[0], row.c + nz.o[1], row.y + nz.o[2], nz.o[3], g.w, be);
}

// row_eps is a row's eps: eps's values loaded into be, or the counter noise
// drawn there and rounded to T (the values lv_normal gives for T).
template <typename T>
const double *row_eps(const T *eps, const Row &row, const Geo &g, const Noise &nz, double *be) {
  if (eps) {
    load(eps + row.off, g.sw, g.w, be);
    return be;
  }
  double *d = const_cast<double *>(row_noise(row, g, nz, be));
  round_to<T>(d, g.w);
  return d;
}

template <typename T>
void normal_rows(T *out, const Geo &g, const Noise &nz) {
  for_rows(g, 1, [&](const Row &row, double *buf) {
    store(row_noise(row, g, nz, buf), out + row.off, g.sw, g.w);
  });
}

template <typename T>
void reparam_fwd_rows(const T *mu, const T *ls, const double *scale, const T *eps, T *out,
                     const Geo &g, const Noise &nz) {
  const int64_t W = g.w, B = W + 2;
  for_rows(g, 4, [&](const Row &row, double *buf) {
    double *bm = buf, *bl = bm + B, *be = bl + B, *bo = be + B;
    double m = scale ? scale[row.n] : 1.0;
    if (m == 0) {  // masked: exactly zero, no draws
      store_zero(out + row.off, g.sw, W);
      return;
    }
    if (mu) load(mu + row.off, g.sw, W, bm);
    if (ls) load(ls + row.off, g.sw, W, bl);
    reparam_core(bm, bl, row_eps(eps, row, g, nz, be), m, bo, W);
    store(bo, out + row.off, g.sw, W);
  });
}

// srow (rows doubles, may be NULL): per-row sums of g*(mu + sigma*eps).
template <typename T>
void reparam_bwd_rows(const T *gr, const T *mu, const T *ls, const double *scale, const T *eps,
                     T *dmu, T *dls, T *deps, double *srow, const Geo &g, const Noise &nz) {
  const int64_t W = g.w, B = W + 2;
  for_rows(g, 8, [&](const Row &row, double *buf) {
    double *bg = buf, *bm = bg + B, *bl = bm + B, *be = bl + B, *o1 = be + B, *o2 = o1 + B,
           *o3 = o2 + B, *ot = o3 + B;
    const int64_t off = row.off;
    double m = scale ? scale[row.n] : 1.0;
    if (m == 0 && !srow) {
      if (dmu) store_zero(dmu + off, g.sw, W);
      if (dls) store_zero(dls + off, g.sw, W);
      if (deps) store_zero(deps + off, g.sw, W);
      return;
    }
    load(gr + off, g.sw, W, bg);
    if (mu && srow) load(mu + off, g.sw, W, bm);
    if (ls) load(ls + off, g.sw, W, bl);
    reparam_bwd_core(bg, bm, bl, row_eps(eps, row, g, nz, be), m, o1, o2, o3, ot, W);
    if (dmu) store(o1, dmu + off, g.sw, W);
    if (dls) store(o2, dls + off, g.sw, W);
    if (deps) store(o3, deps + off, g.sw, W);
    if (srow) srow[row.r] = lane_sum(ot, W);
  });
}

// KLChunk is chunk t of sample n: len elements from off, with q's mean and
// log-sigma loaded into mq and lq, p's into mp and lp (zeros where NULL),
// and scratch for the results.
struct KLChunk {
  int64_t n, t, off, len;
  double *mq, *lq, *mp, *lp, *out;
};

// for_kl_chunks calls f(chunk) for every chunk of KL_CHUNK elements of each
// of the N samples of P elements, split across threads: the KL's sums run
// over the chunks in a fixed order whatever the thread count. out is
// nout blocks of KL_CHUNK doubles.
template <typename T, class F>
void for_kl_chunks(const T *mq, const T *lq, const T *mp, const T *lp, int64_t N, int64_t P,
                   int nout, const F &f) {
  const int64_t chunks = (P + KL_CHUNK - 1) / KL_CHUNK;
  par_for(0, N * chunks, 4, [&](int64_t t0, int64_t t1) {
    std::vector<double> buf((4 + nout) * KL_CHUNK, 0.0);
    double *b = buf.data();
    KLChunk k{0, 0, 0, 0, b, b + KL_CHUNK, b + 2 * KL_CHUNK, b + 3 * KL_CHUNK, b + 4 * KL_CHUNK};
    for (int64_t t = t0; t < t1; t++) {
      k.n = t / chunks, k.t = t;
      k.off = k.n * P + t % chunks * KL_CHUNK;
      k.len = std::min(KL_CHUNK, P - t % chunks * KL_CHUNK);
      load(mq + k.off, 1, k.len, k.mq);
      load(lq + k.off, 1, k.len, k.lq);
      if (mp) load(mp + k.off, 1, k.len, k.mp);
      if (lp) load(lp + k.off, 1, k.len, k.lp);
      f(k);
    }
  });
}

// partial[n*chunks + k]: the KL summed over chunk k of sample n.
template <typename T>
void kl_fwd_chunks(const T *mq, const T *lq, const T *mp, const T *lp, int64_t N, int64_t P,
                double *partial) {
  const bool std_prior = !mp && !lp;
  for_kl_chunks(mq, lq, mp, lp, N, P, 1, [&](const KLChunk &k) {
    if (std_prior) {
      kl_core_std(k.mq, k.lq, k.out, k.len);
    } else {
      kl_core(k.mq, k.lq, k.mp, k.lp, k.out, k.len);
    }
    partial[k.t] = lane_sum(k.out, k.len);
  });
}

template <typename T>
void kl_bwd_chunks(const T *mq, const T *lq, const T *mp, const T *lp, const double *w, T *dmq, T *dlq,
                T *dmp, T *dlp, int64_t N, int64_t P) {
  const bool std_prior = !mp && !lp;
  for_kl_chunks(mq, lq, mp, lp, N, P, 4, [&](const KLChunk &k) {
    double *o1 = k.out, *o2 = o1 + KL_CHUNK, *o3 = o2 + KL_CHUNK, *o4 = o3 + KL_CHUNK;
    if (std_prior) {
      kl_bwd_core_std(k.mq, k.lq, w[k.n], o1, o2, k.len);
    } else {
      kl_bwd_core(k.mq, k.lq, k.mp, k.lp, w[k.n], o1, o2, o3, o4, k.len);
    }
    if (dmq) store(o1, dmq + k.off, 1, k.len);
    if (dlq) store(o2, dlq + k.off, 1, k.len);
    if (dmp) store(o3, dmp + k.off, 1, k.len);
    if (dlp) store(o4, dlp + k.off, 1, k.len);
  });
}

}  // namespace

Geo geo_of(at::IntArrayRef s, bool cl) {
  Geo g{s[0], s[1], s[2], s[3], 0, 0, 0, 0};
  if (cl) {
    g.sc = 1, g.sw = g.c, g.sh = g.w * g.c, g.sn = g.h * g.sh;
  } else {
    g.sw = 1, g.sh = g.w, g.sc = g.h * g.w, g.sn = g.c * g.sc;
  }
  return g;
}

// ------------------------------------------------------ dtype dispatching

void normal_cpu(const at::Tensor &out, const Geo &g, const Noise &nz) {
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, out.scalar_type(), "lv_normal",
                                  [&] { normal_rows<scalar_t>(out.data_ptr<scalar_t>(), g, nz); });
}

void reparam_fwd_cpu(const at::Tensor &mu, const at::Tensor &ls, const at::Tensor &sd,
                     const at::Tensor &eps, const at::Tensor &out, const Geo &g, const Noise &nz) {
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, out.scalar_type(), "lv_reparam", [&] {
    reparam_fwd_rows<scalar_t>(cptr<scalar_t>(mu), cptr<scalar_t>(ls), cptr<double>(sd),
                               cptr<scalar_t>(eps), out.data_ptr<scalar_t>(), g, nz);
  });
}

void reparam_bwd_cpu(const at::Tensor &gr, const at::Tensor &mu, const at::Tensor &ls,
                     const at::Tensor &sd, const at::Tensor &eps, const at::Tensor &dmu,
                     const at::Tensor &dls, const at::Tensor &deps, double *srow, const Geo &g,
                     const Noise &nz) {
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, gr.scalar_type(), "lv_reparam", [&] {
    reparam_bwd_rows<scalar_t>(gr.data_ptr<scalar_t>(), cptr<scalar_t>(mu), cptr<scalar_t>(ls),
                               cptr<double>(sd), cptr<scalar_t>(eps), mptr<scalar_t>(dmu),
                               mptr<scalar_t>(dls), mptr<scalar_t>(deps), srow, g, nz);
  });
}

void kl_fwd_cpu(const at::Tensor &mq, const at::Tensor &lq, const at::Tensor &mp,
                const at::Tensor &lp, int64_t N, int64_t P, double *partial) {
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, mq.scalar_type(), "lv_gauss_kl", [&] {
    kl_fwd_chunks<scalar_t>(mq.data_ptr<scalar_t>(), lq.data_ptr<scalar_t>(), cptr<scalar_t>(mp),
                            cptr<scalar_t>(lp), N, P, partial);
  });
}

void kl_bwd_cpu(const at::Tensor &mq, const at::Tensor &lq, const at::Tensor &mp,
                const at::Tensor &lp, const double *w, const at::Tensor &dmq,
                const at::Tensor &dlq, const at::Tensor &dmp, const at::Tensor &dlp, int64_t N,
                int64_t P) {
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, mq.scalar_type(), "lv_gauss_kl", [&] {
    kl_bwd_chunks<scalar_t>(mq.data_ptr<scalar_t>(), lq.data_ptr<scalar_t>(), cptr<scalar_t>(mp),
                            cptr<scalar_t>(lp), w, mptr<scalar_t>(dmq), mptr<scalar_t>(dlq),
                            mptr<scalar_t>(dmp), mptr<scalar_t>(dlp), N, P);
  });
}

}  // namespace kern
}  // namespace lv
