/*
 * philox.h - the counter-based standard-normal generator of ludvae's fused
 * sampling kernels. Header-only, no libtorch: the same code compiles for the
 * host (kernels_cpu.cpp) and for CUDA devices (kernels_cuda.cu), and both must
 * draw bit-identical values.
 *
 * The value at a point is a pure function of (seed, stream) and the element's
 * global coordinates (n, c, y, x):
 *
 *   key     = lv_noise_key(seed, stream): splitmix64(seed) ^
 *             splitmix64(splitmix64(stream) ^ 0xD1B54A32D192ED03). For a fixed
 *             stream distinct seeds give distinct keys (splitmix64 is a
 *             bijection), and likewise distinct streams for a fixed seed.
 *   counter = (x >> 1, y, c, n), each word the coordinate mod 2^32.
 *   bits    = Philox4x32-10(counter, key) (Salmon et al., SC'11; Random123's
 *             known-answer vectors are checked by the tests).
 *   a       = the top 52 of bits[0..1]; u = (a + 1) / 2^52, in (0, 1] so
 *             log u is finite; r = sqrt(-2 log u).
 *   b       = the top 53 of bits[2..3]; angle = 2*pi * b / 2^53, reduced to an
 *             octant exactly in integers; cos and sin by polynomials on
 *             [0, pi/4].
 *   value   = r cos(angle) for even x, r sin(angle) for odd x (Box-Muller:
 *             one Philox call yields the two normals of a pair of columns).
 *
 * Bit-identity between host and device holds by construction: every floating
 * operation below is one IEEE-754 double operation (+ - * / sqrt, round to
 * nearest; conversions of integers below 2^53 are exact) executed in a fixed
 * order, with our own polynomials instead of libm. Two things could break
 * it, and both are excluded:
 *   - contraction of a*b+c into an FMA: on the device every operation goes
 *     through __dadd_rn/__dmul_rn/..., which nvcc never contracts; on the host
 *     the shim is compiled with -ffp-contract=off (Makefile; g++'s default
 *     for C++ is fast, which fuses wherever the target has FMA, as the
 *     AVX-512 clones in kernels_cpu.cpp do), kernels_cpu.cpp repeats it in
 *     a pragma, and clang is told by the pragma below.
 *   - x87 excess precision: x86-64 uses SSE2 for double.
 * The Go tests pin golden values so any build that breaks this is caught.
 *
 * Accuracy (against a correctly rounded r*cos/r*sin): a few ulp, well below
 * 1e-14 relative. Resolution: u has 52 bits, so |value| <= 8.49.
 */
#ifndef LUDVAE_PHILOX_H
#define LUDVAE_PHILOX_H

#include <stdint.h>
#include <string.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* Always inlined: the CPU kernels vectorize these inside functions built
 * for wider instruction sets than the default target. */
#if defined(__CUDACC__)
#define LV_HD __host__ __device__ __forceinline__
#elif defined(__GNUC__)
#define LV_HD inline __attribute__((always_inline))
#else
#define LV_HD inline
#endif

/* One IEEE operation each, never fused with its neighbours. */
LV_HD double lv_dadd(double a, double b) {
#ifdef __CUDA_ARCH__
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}
LV_HD double lv_dsub(double a, double b) {
#ifdef __CUDA_ARCH__
  return __dsub_rn(a, b);
#else
  return a - b;
#endif
}
LV_HD double lv_dmul(double a, double b) {
#ifdef __CUDA_ARCH__
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}
LV_HD double lv_ddiv(double a, double b) {
#ifdef __CUDA_ARCH__
  return __ddiv_rn(a, b);
#else
  return a / b;
#endif
}
LV_HD double lv_dsqrt(double a) {
#ifdef __CUDA_ARCH__
  return __dsqrt_rn(a);
#else
  return __builtin_sqrt(a); /* correctly rounded; a >= 0 here */
#endif
}
LV_HD uint64_t lv_dbits(double d) {
#ifdef __CUDA_ARCH__
  return (uint64_t)__double_as_longlong(d);
#else
  uint64_t u;
  memcpy(&u, &d, 8);
  return u;
#endif
}
LV_HD double lv_bitsd(uint64_t u) {
#ifdef __CUDA_ARCH__
  return __longlong_as_double((long long)u);
#else
  double d;
  memcpy(&d, &u, 8);
  return d;
#endif
}

LV_HD uint64_t lv_splitmix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* The Philox key of a (seed, stream) pair. */
LV_HD uint64_t lv_noise_key(uint64_t seed, uint64_t stream) {
  return lv_splitmix64(seed) ^ lv_splitmix64(lv_splitmix64(stream) ^ 0xD1B54A32D192ED03ull);
}

/* Philox4x32-10: ctr is replaced by the 128 output bits. */
LV_HD void lv_philox4x32_10(uint32_t ctr[4], uint64_t key) {
  uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
  for (int i = 0; i < 10; i++) {
    uint64_t p0 = (uint64_t)0xD2511F53u * ctr[0];
    uint64_t p1 = (uint64_t)0xCD9E8D57u * ctr[2];
    uint32_t c0 = (uint32_t)(p1 >> 32) ^ ctr[1] ^ k0;
    uint32_t c2 = (uint32_t)(p0 >> 32) ^ ctr[3] ^ k1;
    ctr[1] = (uint32_t)p1;
    ctr[3] = (uint32_t)p0;
    ctr[0] = c0;
    ctr[2] = c2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
}

/* -log(u) * 2 for u = m / 2^52, m in [1, 2^52]. m = f * 2^e with f in
 * [sqrt(1/2), sqrt(2)) taken from the exact double of m; log f = 2 atanh(s),
 * s = (f-1)/(f+1), |s| <= 0.1716, by its series to s^19 (error < 1e-16). */
LV_HD double lv_neg2log_u52(uint64_t m) {
  double d = (double)m; /* exact: m <= 2^52 */
  uint64_t bits = lv_dbits(d);
  int e = (int)(bits >> 52) - 1023;
  double f = lv_bitsd((bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull);
  if (f > 0x1.6a09e667f3bcdp+0) { /* sqrt(2) */
    f = lv_dmul(f, 0.5);
    e += 1;
  }
  double s = lv_ddiv(lv_dsub(f, 1.0), lv_dadd(f, 1.0));
  double w = lv_dmul(s, s);
  double p = 0x1.af286bca1af28p-5;                  /* 1/19 */
  p = lv_dadd(lv_dmul(p, w), 0x1.e1e1e1e1e1e1ep-5); /* 1/17 */
  p = lv_dadd(lv_dmul(p, w), 0x1.1111111111111p-4); /* 1/15 */
  p = lv_dadd(lv_dmul(p, w), 0x1.3b13b13b13b14p-4); /* 1/13 */
  p = lv_dadd(lv_dmul(p, w), 0x1.745d1745d1746p-4); /* 1/11 */
  p = lv_dadd(lv_dmul(p, w), 0x1.c71c71c71c71cp-4); /* 1/9 */
  p = lv_dadd(lv_dmul(p, w), 0x1.2492492492492p-3); /* 1/7 */
  p = lv_dadd(lv_dmul(p, w), 0x1.999999999999ap-3); /* 1/5 */
  p = lv_dadd(lv_dmul(p, w), 0x1.5555555555555p-2); /* 1/3 */
  double s2 = lv_dmul(s, 2.0);
  double logf = lv_dadd(s2, lv_dmul(lv_dmul(s2, w), p));
  double logu = lv_dadd(lv_dmul((double)(e - 52), 0x1.62e42fefa39efp-1), logf); /* ln 2 */
  return lv_dmul(logu, -2.0);
}

/* sin and cos of phi in [0, pi/4] by Taylor series (to phi^15 and phi^16:
 * truncation error < 1e-16). */
LV_HD void lv_sincos_octant(double phi, double *s, double *c) {
  double x2 = lv_dmul(phi, phi);
  double p = -0x1.ae7f3e733b81fp-41;                   /* -1/15! */
  p = lv_dadd(lv_dmul(p, x2), 0x1.6124613a86d09p-33);  /* 1/13! */
  p = lv_dadd(lv_dmul(p, x2), -0x1.ae64567f544e4p-26); /* -1/11! */
  p = lv_dadd(lv_dmul(p, x2), 0x1.71de3a556c734p-19);  /* 1/9! */
  p = lv_dadd(lv_dmul(p, x2), -0x1.a01a01a01a01ap-13); /* -1/7! */
  p = lv_dadd(lv_dmul(p, x2), 0x1.1111111111111p-7);   /* 1/5! */
  p = lv_dadd(lv_dmul(p, x2), -0x1.5555555555555p-3);  /* -1/3! */
  *s = lv_dadd(phi, lv_dmul(lv_dmul(phi, x2), p));
  double q = 0x1.ae7f3e733b81fp-45;                    /* 1/16! */
  q = lv_dadd(lv_dmul(q, x2), -0x1.93974a8c07c9dp-37); /* -1/14! */
  q = lv_dadd(lv_dmul(q, x2), 0x1.1eed8eff8d898p-29);  /* 1/12! */
  q = lv_dadd(lv_dmul(q, x2), -0x1.27e4fb7789f5cp-22); /* -1/10! */
  q = lv_dadd(lv_dmul(q, x2), 0x1.a01a01a01a01ap-16);  /* 1/8! */
  q = lv_dadd(lv_dmul(q, x2), -0x1.6c16c16c16c17p-10); /* -1/6! */
  q = lv_dadd(lv_dmul(q, x2), 0x1.5555555555555p-5);   /* 1/4! */
  q = lv_dadd(lv_dmul(q, x2), -0.5);
  *c = lv_dadd(1.0, lv_dmul(x2, q));
}

/* The two standard normals of the column pair (2*xp, 2*xp+1) at (n, c, y):
 * *z0 belongs to the even column, *z1 to the odd one. */
LV_HD void lv_normal_pair(uint64_t key, uint32_t n, uint32_t c, uint32_t y, uint32_t xp, double *z0,
                          double *z1) {
  uint32_t w[4] = {xp, y, c, n};
  lv_philox4x32_10(w, key);
  uint64_t a = ((uint64_t)w[0] << 20) | (w[1] >> 12);
  double r = lv_dsqrt(lv_neg2log_u52(a + 1));
  uint64_t b = ((uint64_t)w[2] << 21) | (w[3] >> 11);
  uint32_t oct = (uint32_t)(b >> 50);
  uint64_t rem = b & ((1ull << 50) - 1);
  if (oct & 1) rem = (1ull << 50) - rem; /* odd octants count from their far end */
  double s, co;
  lv_sincos_octant(lv_dmul((double)rem, 0x1.921fb54442d18p-51), &s, &co); /* pi/4 / 2^50 */
  /* angle = oct*pi/4 + phi (even oct) or (oct+1)*pi/4 - phi (odd oct) */
  int swap = ((oct + 1) >> 1) & 1; /* octants 1, 2, 5, 6 */
  double cv = swap ? s : co, sv = swap ? co : s;
  if (((oct + 2) >> 2) & 1) cv = -cv; /* octants 2..5 */
  if (oct & 4) sv = -sv;              /* octants 4..7 */
  *z0 = lv_dmul(r, cv);
  *z1 = lv_dmul(r, sv);
}

/* The standard normal at global coordinates (n, c, y, x). */
LV_HD double lv_normal_at(uint64_t key, int64_t n, int64_t c, int64_t y, int64_t x) {
  double z0, z1;
  lv_normal_pair(key, (uint32_t)n, (uint32_t)c, (uint32_t)y, (uint32_t)((uint64_t)x >> 1), &z0,
                 &z1);
  return (x & 1) ? z1 : z0;
}

#endif
