/*
 * adam_math.h - the fused Adam update of one element, shared by the CPU
 * (adam.cpp) and CUDA (kernels_cuda.cu) so that both run the same float
 * operations: torch's multi-tensor Adam under torch 2 (opmath float,
 * scalars rounded to float), in its order, the bias corrections in double
 * as torch computes them on the host.
 */
#ifndef LUDVAE_ADAM_MATH_H
#define LUDVAE_ADAM_MATH_H

#include <math.h>

#if defined(__CUDACC__)
#define LV_ADAM_HD __host__ __device__ __forceinline__
#else
#define LV_ADAM_HD inline
#endif

/* The per-step constants of an update: lr and step (already incremented)
 * come from the device in a CUDA graph, so every thread derives them. */
typedef struct {
  float step_size; /* -lr / (1 - beta1^step) */
  float bc2_sqrt;  /* sqrt(1 - beta2^step) */
  float w1, b2, w2, eps, wd;
} lv_adam_consts;

LV_ADAM_HD lv_adam_consts lv_adam_at(double lr, double step, double beta1, double beta2, double eps,
                                     double wd) {
  lv_adam_consts c;
  c.step_size = (float)(-(lr / (1.0 - pow(beta1, step))));
  c.bc2_sqrt = (float)sqrt(1.0 - pow(beta2, step));
  c.w1 = (float)(1.0 - beta1), c.b2 = (float)beta2, c.w2 = (float)(1.0 - beta2);
  c.eps = (float)eps, c.wd = (float)wd;
  return c;
}

/* Element i: g += wd p; m = lerp(m, g, w1); v = v b2 + w2 g g;
 * p += step_size m / (sqrt(v) / bc2_sqrt + eps); then g = 0. With ok false
 * only g is zeroed. */
LV_ADAM_HD void lv_adam_element(float *p, float *g, float *m, float *v, long long i, int ok,
                                const lv_adam_consts *c) {
  float gv = g[i];
  g[i] = 0.0f;
  if (!ok) return;
  float pv = p[i];
  if (c->wd != 0.0f) gv = gv + c->wd * pv;
  float mv = m[i];
  mv = c->w1 < 0.5f ? mv + c->w1 * (gv - mv) : gv - (gv - mv) * (1.0f - c->w1);
  float vv = v[i] * c->b2;
  vv = vv + c->w2 * gv * gv;
  float den = sqrtf(vv) / c->bc2_sqrt + c->eps;
  m[i] = mv;
  v[i] = vv;
  p[i] = pv + c->step_size * (mv / den);
}

#endif
