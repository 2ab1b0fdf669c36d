// precision.cpp - autocast (mixed precision) and TF32, across libtorch 1.13
// and 2.x, whose autocast API changed in 2.4.
#include <ATen/Context.h>
#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "common.h"

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define LV_AUTOCAST_BY_DEVICE 1
#endif

extern "C" {

lv_err lv_set_autocast(int dev_type, int enabled, int dtype, int *previous) {
  LV_TRY({
    auto st = lv::scalar_type(dtype);
    TORCH_CHECK(st == at::kBFloat16 || st == at::kHalf,
                "autocast computes in bfloat16 or float16, not ", st);
    bool cuda = dev_type == LV_CUDA;
    if (cuda) lv::device(LV_CUDA, 0);
#ifdef LV_AUTOCAST_BY_DEVICE
    auto type = cuda ? at::kCUDA : at::kCPU;
    if (previous) *previous = at::autocast::is_autocast_enabled(type);
    at::autocast::set_autocast_dtype(type, st);
    at::autocast::set_autocast_enabled(type, enabled != 0);
#else
    if (cuda) {
      if (previous) *previous = at::autocast::is_enabled();
      at::autocast::set_autocast_gpu_dtype(st);
      at::autocast::set_enabled(enabled != 0);
    } else {
      if (previous) *previous = at::autocast::is_cpu_enabled();
      at::autocast::set_autocast_cpu_dtype(st);
      at::autocast::set_cpu_enabled(enabled != 0);
    }
#endif
    if (!enabled) at::autocast::clear_cache();
  })
}

void lv_set_tf32(int cublas, int cudnn, int *prev_cublas, int *prev_cudnn) {
  auto &ctx = at::globalContext();
  if (prev_cublas) *prev_cublas = ctx.allowTF32CuBLAS();
  if (prev_cudnn) *prev_cudnn = ctx.allowTF32CuDNN();
  ctx.setAllowTF32CuBLAS(cublas != 0);
  ctx.setAllowTF32CuDNN(cudnn != 0);
}

void lv_set_cudnn_benchmark(int enabled, int *previous) {
  if (previous) *previous = at::globalContext().benchmarkCuDNN();
  at::globalContext().setBenchmarkCuDNN(enabled != 0);
}

}  // extern "C"
