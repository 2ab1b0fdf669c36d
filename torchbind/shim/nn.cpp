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

lv_err lv_interpolate(lv_tensor x, int64_t out_h, int64_t out_w, int mode,
                      int align_corners, int antialias, lv_tensor *out) {
  LV_TRY({
    const auto &in = R(x, "input");
    TORCH_CHECK(in.dim() == 4, "interpolate expects NCHW input, got ", in.dim(), " dims");
    std::vector<int64_t> size{out_h, out_w};
    bool ac = align_corners != 0;
    at::Tensor r;
    switch (mode) {
      case 0:
        TORCH_CHECK(!antialias && !ac, "nearest takes neither antialias nor align_corners");
        r = at::upsample_nearest2d(in, size);
        break;
      case 1:
        r = antialias ? at::_upsample_bilinear2d_aa(in, size, ac)
                      : at::upsample_bilinear2d(in, size, ac);
        break;
      case 2:
        r = antialias ? at::_upsample_bicubic2d_aa(in, size, ac)
                      : at::upsample_bicubic2d(in, size, ac);
        break;
      default:
        TORCH_CHECK(false, "unknown interpolation mode code ", mode);
    }
    *out = wrap(r);
  })
}

lv_err lv_pad(lv_tensor a, const int64_t *pads, int npads, int mode, double value,
              lv_tensor *out) {
  LV_TRY({
    auto p = lv::ints(pads, npads);
    const auto &x = R(a, "input");
    at::Tensor r;
    switch (mode) {
      case 0: r = at::constant_pad_nd(x, p, value); break;
      case 1:
        TORCH_CHECK(npads == 4, "reflect padding takes 4 values");
        r = at::reflection_pad2d(x, p);
        break;
      case 2:
        TORCH_CHECK(npads == 4, "replicate padding takes 4 values");
        r = at::replication_pad2d(x, p);
        break;
      default:
        TORCH_CHECK(false, "unknown padding mode code ", mode);
    }
    *out = wrap(r);
  })
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
