// autograd.cpp - gradients, grad mode, and the Adam update.
#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/variable.h>

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

// lv_adam_update follows torch/optim/adam.py (_single_tensor_adam, no amsgrad,
// not capturable) operation for operation, so one step agrees with PyTorch to
// the last bit in float64.
lv_err lv_adam_update(lv_tensor param, lv_tensor grad, lv_tensor exp_avg,
                      lv_tensor exp_avg_sq, double step, double lr, double beta1,
                      double beta2, double eps, double weight_decay) {
  LV_TRY({
    at::NoGradGuard no_grad;
    auto p = R(param, "param");
    auto g = R(grad, "grad");
    auto m = R(exp_avg, "exp_avg");
    auto v = R(exp_avg_sq, "exp_avg_sq");
    if (weight_decay != 0) g = g.add(p, weight_decay);
    m.mul_(beta1).add_(g, 1 - beta1);
    v.mul_(beta2).addcmul_(g, g, 1 - beta2);
    double bc1 = 1 - std::pow(beta1, step);
    double bc2 = 1 - std::pow(beta2, step);
    double step_size = lr / bc1;
    double bc2_sqrt = std::sqrt(bc2);
    auto denom = (v.sqrt() / bc2_sqrt).add_(eps);
    p.addcdiv_(m, denom, -step_size);
  })
}

}  // extern "C"
