// adam.cpp - Adam updates: torch's multi-tensor one (bit-identical to
// torch.optim.Adam), and a fused one whose step number and learning rate
// live on the device, so that a CUDA graph can replay it (train/graph.go).
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <torch/version.h>

#include <cmath>

#include "adam_math.h"
#include "common.h"

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
