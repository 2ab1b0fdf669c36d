// autograd.cpp - gradients and grad mode.
#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/variable.h>

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

}  // extern "C"
