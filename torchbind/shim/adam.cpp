// adam.cpp - Adam updates: torch's multi-tensor one (bit-identical to
// torch.optim.Adam), and a fused one whose step number and learning rate
// live on the device, so that a CUDA graph can replay it (train/graph.go).
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <torch/version.h>

#include <cmath>
#include <cstring>

#include "adam_math.h"
#include "common.h"
#include "kernels_internal.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define LV_ADAM_AVX2 1
#else
#define LV_ADAM_AVX2 0
#endif

#ifdef LV_WITH_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "kernels_cuda.h"
#endif

using lv::R;
using lv::T;

namespace {

// same_layout: dense a and b put every element at the same flat offset
// (strides of size-1 dimensions do not matter).
bool same_layout(const at::Tensor &a, const at::Tensor &b) {
  if (a.sizes() != b.sizes() || !a.is_non_overlapping_and_dense()) return false;
  for (int64_t d = 0; d < a.dim(); d++)
    if (a.size(d) > 1 && a.stride(d) != b.stride(d)) return false;
  return true;
}

// check_like_param: t is laid out as the parameter p, so that the fused
// update may walk both by one flat index.
void check_like_param(const at::Tensor &t, const at::Tensor &p, const char *what, int i) {
  TORCH_CHECK(t.scalar_type() == p.scalar_type() && t.device() == p.device() && same_layout(t, p),
              "lv_adam_fused: ", what, " ", i, " (", t.scalar_type(), " ", t.sizes(), " on ",
              t.device(), ", strides ", t.strides(), ") is not laid out as its parameter (",
              p.scalar_type(), " ", p.sizes(), " on ", p.device(), ", strides ", p.strides(), ")");
}

// ---- the CPU update in one pass
//
// lv_adam_step's foreach ops each walk every tensor once (eight walks and a
// temporary, each a parallel region per tensor on the CPU: ~900 per step
// for the default model). On the CPU the same per-element operations run
// here in one walk over the four tensors, one parallel region in all. Each
// operation is the one ATen's vectorized kernel performs, with its rounding
// (its fmadd is one fused multiply-add), so the results are the foreach
// ops' bit for bit (TestAdamCPUPassMatchesForeach, TestAdamMatchesTorch);
// that holds where libtorch runs its AVX2 or AVX-512 kernels, so only there
// is this path taken.

template <typename S>
struct AdamConsts {
  S b1, w1, w1m1, b2, w2, bc2, eps, neg_step, wd;
  bool small, decay;
};

template <typename S>
AdamConsts<S> adam_consts(double step, double lr, double beta1, double beta2, double eps,
                          double wd) {
  AdamConsts<S> c;
  // lv_adam_step's scalars, each cast to the tensors' type as ATen casts a
  // Scalar operand
  c.b1 = S(beta1), c.w1 = S(1 - beta1), c.w1m1 = c.w1 - S(1);
  c.b2 = S(beta2), c.w2 = S(1 - beta2);
  c.bc2 = S(std::sqrt(1 - std::pow(beta2, step)));
  c.eps = S(eps), c.neg_step = S(-(lr / (1 - std::pow(beta1, step)))), c.wd = S(wd);
  c.small = std::abs(c.w1) < S(0.5), c.decay = wd != 0;
  return c;
}

// adam_elements updates elements [lo, hi) one at a time.
template <typename S>
void adam_elements(S *p, S *g, S *m, S *v, int64_t lo, int64_t hi, const AdamConsts<S> &c) {
  for (int64_t i = lo; i < hi; i++) {
    S gv = g[i], pv = p[i], mv = m[i];
    if (c.decay) gv = std::fma(pv, c.wd, gv);  // _foreach_add(g, p, wd)
#if TORCH_VERSION_MAJOR >= 2
    // _foreach_lerp_(m, g, w1)
    mv = c.small ? std::fma(c.w1, gv - mv, mv) : std::fma(c.w1m1, gv - mv, gv);
#else
    mv = std::fma(gv, c.w1, mv * c.b1);  // _foreach_mul_(m, b1), _foreach_add_(m, g, w1)
#endif
    S vv = std::fma(c.w2 * gv, gv, v[i] * c.b2);  // _foreach_mul_(v, b2), _foreach_addcmul_
    S den = std::sqrt(vv) / c.bc2 + c.eps;         // _foreach_sqrt, _div_, _add_
    m[i] = mv, v[i] = vv;
    p[i] = pv + c.neg_step * mv / den;  // _foreach_addcdiv_(p, m, den, -step_size)
  }
}

#if LV_ADAM_AVX2
// The same with AVX2 and FMA, 8 floats or 4 doubles at a time (the same
// IEEE operations, so the same bits as adam_elements).
#define LV_ADAM_VEC(S, V, W, set1, load, store, add, sub, mul, div, sqrt_, fmadd)                  \
  __attribute__((target("avx2,fma"))) void adam_vec(S *p, S *g, S *m, S *v, int64_t lo,            \
                                                     int64_t hi, const AdamConsts<S> &c) {         \
    const V b1 = set1(c.b1), w1 = set1(c.w1), w1m1 = set1(c.w1m1), b2 = set1(c.b2);                \
    const V w2 = set1(c.w2), bc2 = set1(c.bc2), eps = set1(c.eps), ns = set1(c.neg_step);         \
    const V wd = set1(c.wd);                                                                       \
    int64_t i = lo;                                                                                \
    for (; i + W <= hi; i += W) {                                                                  \
      V gv = load(g + i), pv = load(p + i), mv = load(m + i);                                      \
      if (c.decay) gv = fmadd(pv, wd, gv);                                                         \
      if (TORCH_VERSION_MAJOR >= 2)                                                                \
        mv = c.small ? fmadd(w1, sub(gv, mv), mv) : fmadd(w1m1, sub(gv, mv), gv);                  \
      else                                                                                         \
        mv = fmadd(gv, w1, mul(mv, b1));                                                           \
      V vv = fmadd(mul(w2, gv), gv, mul(load(v + i), b2));                                         \
      V den = add(div(sqrt_(vv), bc2), eps);                                                       \
      store(m + i, mv), store(v + i, vv);                                                          \
      store(p + i, add(pv, div(mul(ns, mv), den)));                                                \
    }                                                                                              \
    adam_elements(p, g, m, v, i, hi, c);                                                           \
  }
LV_ADAM_VEC(float, __m256, 8, _mm256_set1_ps, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_add_ps,
            _mm256_sub_ps, _mm256_mul_ps, _mm256_div_ps, _mm256_sqrt_ps, _mm256_fmadd_ps)
LV_ADAM_VEC(double, __m256d, 4, _mm256_set1_pd, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_add_pd,
            _mm256_sub_pd, _mm256_mul_pd, _mm256_div_pd, _mm256_sqrt_pd, _mm256_fmadd_pd)
#undef LV_ADAM_VEC
#endif

// adam_cpu_pass is the update as one pass when every tensor is a dense CPU
// float32 or float64 tensor laid out as its parameter and libtorch runs
// AVX2 or AVX-512 kernels (whose fmadd is what the pass computes); it
// returns false, having done nothing, otherwise.
template <typename S>
bool adam_cpu_pass_as(const std::vector<at::Tensor> &p, const std::vector<at::Tensor> &g,
                      const std::vector<at::Tensor> &m, const std::vector<at::Tensor> &v,
                      const AdamConsts<S> &c) {
  struct Span {
    S *p, *g, *m, *v;
    int64_t lo, hi;
  };
  // spans of at most 32K elements, so that the threads share the work evenly
  const int64_t span = 1 << 15;
  std::vector<Span> spans;
  for (size_t t = 0; t < p.size(); t++) {
    S *pp = p[t].data_ptr<S>(), *gp = g[t].data_ptr<S>();
    S *mp = m[t].data_ptr<S>(), *vp = v[t].data_ptr<S>();
    for (int64_t lo = 0, n = p[t].numel(); lo < n; lo += span)
      spans.push_back({pp, gp, mp, vp, lo, std::min(n, lo + span)});
  }
#if LV_ADAM_AVX2
  const bool vec = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  lv::kern::par_for(0, int64_t(spans.size()), 1, [&](int64_t a, int64_t b) {
    for (int64_t k = a; k < b; k++) {
      const Span &s = spans[k];
#if LV_ADAM_AVX2
      if (vec) {
        adam_vec(s.p, s.g, s.m, s.v, s.lo, s.hi, c);
        continue;
      }
#endif
      adam_elements(s.p, s.g, s.m, s.v, s.lo, s.hi, c);
    }
  });
  return true;
}

bool adam_cpu_pass(const std::vector<at::Tensor> &p, const std::vector<at::Tensor> &g,
                   const std::vector<at::Tensor> &m, const std::vector<at::Tensor> &v,
                   double step, double lr, double beta1, double beta2, double eps, double wd) {
  static const bool fmadd_kernels = [] {
    const char *cap = lv_cpu_capability();
    return std::strcmp(cap, "AVX2") == 0 || std::strcmp(cap, "AVX512") == 0;
  }();
  if (!fmadd_kernels || p.empty()) return false;
  const auto st = p[0].scalar_type();
  if (st != at::kFloat && st != at::kDouble) return false;
  for (size_t t = 0; t < p.size(); t++) {
    if (!p[t].device().is_cpu() || p[t].scalar_type() != st || !p[t].is_non_overlapping_and_dense())
      return false;
    for (const at::Tensor *x : {&g[t], &m[t], &v[t]})
      if (!x->device().is_cpu() || x->scalar_type() != st || !same_layout(*x, p[t])) return false;
  }
  if (st == at::kFloat)
    return adam_cpu_pass_as<float>(p, g, m, v, adam_consts<float>(step, lr, beta1, beta2, eps, wd));
  return adam_cpu_pass_as<double>(p, g, m, v, adam_consts<double>(step, lr, beta1, beta2, eps, wd));
}

}  // namespace

extern "C" {

// lv_adam_step updates n parameters that share one step count. It follows
// torch/optim/adam.py's _multi_tensor_adam (no amsgrad, not capturable),
// the implementation torch.optim.Adam picks for CUDA parameters: a handful of
// multi-tensor kernels for the whole model instead of eight per parameter.
// On the CPU the foreach ops run _single_tensor_adam's operations in its
// order, so a step agrees with PyTorch's default to the last bit there
// (tested on 1.13; from torch 2.0 both paths move the first moment with
// lerp, and so does this, untested).
lv_err lv_adam_step(const lv_tensor *params, const lv_tensor *grads, const lv_tensor *exp_avgs,
                    const lv_tensor *exp_avg_sqs, int n, double step, double lr, double beta1,
                    double beta2, double eps, double weight_decay) {
  LV_TRY({
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> p, g, m, v;
    for (int i = 0; i < n; i++) {
      p.push_back(R(params[i], "param"));
      g.push_back(R(grads[i], "grad"));
      m.push_back(R(exp_avgs[i], "exp_avg"));
      v.push_back(R(exp_avg_sqs[i], "exp_avg_sq"));
    }
    if (adam_cpu_pass(p, g, m, v, step, lr, beta1, beta2, eps, weight_decay)) return nullptr;
    if (weight_decay != 0) g = at::_foreach_add(g, p, at::Scalar(weight_decay));
#if TORCH_VERSION_MAJOR >= 2
    // torch 2 moves the first moment with lerp (single- and multi-tensor)
    at::_foreach_lerp_(m, g, at::Scalar(1 - beta1));
#else
    at::_foreach_mul_(m, at::Scalar(beta1));
    at::_foreach_add_(m, g, at::Scalar(1 - beta1));
#endif
    at::_foreach_mul_(v, at::Scalar(beta2));
    at::_foreach_addcmul_(v, g, g, at::Scalar(1 - beta2));
    double step_size = lr / (1 - std::pow(beta1, step));
    double bc2_sqrt = std::sqrt(1 - std::pow(beta2, step));
    auto denom = at::_foreach_sqrt(v);
    at::_foreach_div_(denom, at::Scalar(bc2_sqrt));
    at::_foreach_add_(denom, at::Scalar(eps));
    at::_foreach_addcdiv_(p, m, denom, at::Scalar(-step_size));
  })
}

lv_err lv_adam_fused(const lv_tensor *params, const lv_tensor *grads, const lv_tensor *exp_avgs,
                     const lv_tensor *exp_avg_sqs, int n, lv_tensor scalars_h, lv_tensor loss_h,
                     double beta1, double beta2, double eps, double weight_decay) {
  LV_TRY({
    TORCH_CHECK(n > 0, "lv_adam_fused: no parameters");
    at::NoGradGuard no_grad;
    const at::Tensor &scalars = R(scalars_h, "lv_adam_fused: scalars");
    at::Tensor loss = T(loss_h);
    std::vector<at::Tensor> p, g, m, v;
    for (int i = 0; i < n; i++) {
      p.push_back(R(params[i], "lv_adam_fused: param"));
      TORCH_CHECK(p[i].scalar_type() == at::kFloat && p[i].is_non_overlapping_and_dense(),
                  "lv_adam_fused: parameter ", i, " must be dense float32, got ",
                  p[i].scalar_type(), " with strides ", p[i].strides());
      TORCH_CHECK(p[i].device() == p[0].device(), "lv_adam_fused: parameter ", i, " is on ",
                  p[i].device(), ", parameter 0 on ", p[0].device());
      g.push_back(R(grads[i], "lv_adam_fused: grad"));
      m.push_back(R(exp_avgs[i], "lv_adam_fused: exp_avg"));
      v.push_back(R(exp_avg_sqs[i], "lv_adam_fused: exp_avg_sq"));
      check_like_param(g[i], p[i], "gradient", i);
      check_like_param(m[i], p[i], "exp_avg", i);
      check_like_param(v[i], p[i], "exp_avg_sq", i);
    }
    auto dev = p[0].device();
    TORCH_CHECK(scalars.scalar_type() == at::kDouble && scalars.numel() == 2 &&
                    scalars.is_contiguous() && scalars.device() == dev,
                "lv_adam_fused: scalars must be {lr, step} as 2 contiguous float64 on ", dev,
                ", got ", scalars.scalar_type(), " ", scalars.sizes(), " on ", scalars.device());
    if (loss.defined())
      TORCH_CHECK(loss.scalar_type() == at::kFloat && loss.numel() == 1 && loss.device() == dev,
                  "lv_adam_fused: loss must be one float32 on ", dev, ", got ",
                  loss.scalar_type(), " ", loss.sizes(), " on ", loss.device());
    if (dev.is_cuda()) {
#ifdef LV_WITH_CUDA
      c10::cuda::CUDAGuard guard(dev);
      std::vector<float *> pp(n), gp(n), mp(n), vp(n);
      std::vector<int64_t> ns(n);
      for (int i = 0; i < n; i++) {
        pp[i] = p[i].data_ptr<float>(), gp[i] = g[i].data_ptr<float>();
        mp[i] = m[i].data_ptr<float>(), vp[i] = v[i].data_ptr<float>(), ns[i] = p[i].numel();
      }
      LVK_CHECK(lvk_adam(pp.data(), gp.data(), mp.data(), vp.data(), ns.data(), n,
                         scalars.data_ptr<double>(),
                         loss.defined() ? loss.data_ptr<float>() : nullptr, beta1, beta2, eps,
                         weight_decay, c10::cuda::getCurrentCUDAStream()));
#endif
      return nullptr;
    }
    TORCH_CHECK(dev.is_cpu(), "lv_adam_fused: parameters on ", dev, " are not supported");
    const double *s = scalars.data_ptr<double>();
    int ok = !loss.defined() || std::isfinite(loss.item<float>());
    lv_adam_consts c = lv_adam_at(s[0], s[1], beta1, beta2, eps, weight_decay);
    at::parallel_for(0, n, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t t = lo; t < hi; t++) {
        float *pp = p[t].data_ptr<float>(), *gp = g[t].data_ptr<float>();
        float *mp = m[t].data_ptr<float>(), *vp = v[t].data_ptr<float>();
        for (int64_t i = 0, e = p[t].numel(); i < e; i++) lv_adam_element(pp, gp, mp, vp, i, ok, &c);
      }
    });
  })
}

}  // extern "C"
