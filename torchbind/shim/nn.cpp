// nn.cpp - the neural-network functions: convolution, batch norm, resampling,
// padding and the mean-squared error.
#include "common.h"

using lv::R;
using lv::T;
using lv::wrap;

extern "C" {

lv_err lv_conv2d(lv_tensor x, lv_tensor w, lv_tensor b, const int64_t *stride,
                 const int64_t *padding, const int64_t *dilation, int64_t groups,
                 lv_tensor *out) {
  LV_TRY(*out = wrap(at::conv2d(R(x, "input"), R(w, "weight"), T(b), lv::ints(stride, 2),
                                lv::ints(padding, 2), lv::ints(dilation, 2), groups)))
}

lv_err lv_batch_norm(lv_tensor x, lv_tensor w, lv_tensor b, lv_tensor running_mean,
                     lv_tensor running_var, int training, double momentum, double eps,
                     lv_tensor *out) {
  LV_TRY(*out = wrap(at::batch_norm(R(x, "input"), T(w), T(b), T(running_mean),
                                    T(running_var), training != 0, momentum, eps,
                                    /*cudnn_enabled=*/true)))
}

lv_err lv_mse_loss(lv_tensor a, lv_tensor b, int reduction, lv_tensor *out) {
  LV_TRY({
    TORCH_CHECK(reduction >= 0 && reduction <= 2, "unknown reduction code ", reduction);
    const auto &x = R(a, "input");
    const auto &y = R(b, "target");
    TORCH_CHECK(x.sizes() == y.sizes(), "mse_loss: input shape ", x.sizes(),
                " differs from target shape ", y.sizes());
    // at::Reduction: None=0, Mean=1, Sum=2
    *out = wrap(at::mse_loss(x, y, reduction));
  })
}

}  // extern "C"
