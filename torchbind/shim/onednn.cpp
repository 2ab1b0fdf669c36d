// onednn.cpp - a load-time check of oneDNN's float32 convolution backward.
// Debian 13's libtorch 2.6 (oneDNN 3.7.2) returns wrong float32 input
// gradients of conv2d on AVX-512 CPUs (off by the gradient's own size), so
// training diverges and the float32 parity fails, while float64 (which
// never goes through oneDNN) is right. If a small float32 convolution's
// input gradient disagrees with the float64 one, oneDNN is turned off for
// the process, as torch.backends.mkldnn.enabled = False does.
#include <ATen/ATen.h>
#include <ATen/Context.h>

namespace {

at::Tensor fill(at::IntArrayRef shape, double phase) {
  int64_t n = 1;
  for (auto s : shape) n *= s;
  // Deterministic values without touching the global generator.
  return at::sin(at::arange(n, at::kDouble) * 0.7 + phase).reshape(shape);
}

bool conv_backward_ok() {
  at::Tensor x = fill({2, 8, 12, 12}, 0.3), w = fill({8, 8, 3, 3}, 1.1), g = fill({2, 8, 12, 12}, 2.0);
  auto grad = [&](at::ScalarType t) {
    return std::get<0>(at::convolution_backward(g.to(t), x.to(t), w.to(t), c10::nullopt, {1, 1}, {1, 1},
                                                {1, 1}, false, {0, 0}, 1, {true, false, false}))
        .to(at::kDouble);
  };
  at::Tensor want = grad(at::kDouble), got = grad(at::kFloat);
  return (got - want).abs().max().item<double>() <= 1e-4 * (1 + want.abs().max().item<double>());
}

const bool checked = [] {
  try {
    if (at::globalContext().userEnabledMkldnn() && !conv_backward_ok())
      at::globalContext().setUserEnabledMkldnn(false);
  } catch (...) {
  }
  return true;
}();

}  // namespace
