// onednn.cpp - a load-time check of oneDNN's float32 convolution backward.
// Debian 13's libtorch 2.6 (oneDNN 3.7.2) returns wrong float32 input
// gradients of conv2d on AVX-512 CPUs (off by the gradient's own size), so
// training diverges and the float32 parity fails, while float64 (which
// never goes through oneDNN) is right. If a small float32 convolution's
// input gradient disagrees with the float64 one, oneDNN is turned off for
// the process, as torch.backends.mkldnn.enabled = False does.
//
// The wrong gradients are not even stable: on one thread every call is
// wrong, on two a call is right about one time in five (a race), NaN at
// times. One right answer proves nothing, so the check calls the
// convolution on one thread, on two and on the process's default count,
// several times each, and keeps oneDNN only if every call is right. (A
// check of one call on the default two threads passed in about one process
// in five, which then trained with wrong gradients: its losses drifted from
// another process's of the same seeded run by 2e-3 in two steps.)
#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>

#include <initializer_list>

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
  at::Tensor want = grad(at::kDouble);
  double tol = 1e-4 * (1 + want.abs().max().item<double>());
  // the process's thread count, given back however the check ends
  struct Threads {
    const int n = at::get_num_threads();
    ~Threads() { at::set_num_threads(n); }
  } threads;
  for (int n : {1, 2, threads.n}) {
    at::set_num_threads(n);
    for (int i = 0; i < (n == 1 ? 2 : 4); i++)
      if (!((grad(at::kFloat) - want).abs().max().item<double>() <= tol)) return false;  // NaN too
  }
  return true;
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

extern "C" int lv_onednn_enabled(void) {
  return at::hasMKLDNN() && at::globalContext().userEnabledMkldnn();
}
