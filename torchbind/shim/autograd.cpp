// autograd.cpp - gradients, grad mode, and the Adam update.
#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/version.h>

#include <cmath>

#include "common.h"

using lv::R;
using lv::T;
using lv::wrap;

extern "C" {

lv_err lv_set_requires_grad(lv_tensor t, int requires_grad) {
  LV_TRY(R(t, "tensor").set_requires_grad(requires_grad != 0))
}

lv_err lv_backward(lv_tensor t, lv_tensor grad, int retain_graph) {
  LV_TRY({
    c10::optional<bool> retain;
    if (retain_graph) retain = true;
    R(t, "tensor").backward(T(grad), retain);
  })
}

lv_err lv_grad(lv_tensor t, lv_tensor *out) { LV_TRY(*out = wrap(R(t, "tensor").grad())) }

lv_err lv_set_grad(lv_tensor t, lv_tensor grad) {
  LV_TRY(R(t, "tensor").mutable_grad() = T(grad))
}

lv_err lv_detach(lv_tensor t, lv_tensor *out) { LV_TRY(*out = wrap(R(t, "tensor").detach())) }

void lv_set_grad_enabled(int enabled, int *previous) {
  if (previous) *previous = at::GradMode::is_enabled();
  at::GradMode::set_enabled(enabled != 0);
}

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

}  // extern "C"
