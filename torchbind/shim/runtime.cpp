// runtime.cpp - versions, devices, threads, seeds, and the dtype/device codes.
#include <ATen/Parallel.h>
#include <ATen/Context.h>
#include <ATen/Version.h>
#include <torch/version.h>

#include <cstdio>

#include "common.h"

#ifdef LV_WITH_CUDA
// Not ATen/cuda/CUDAContext.h: it needs the cuBLAS, cuSPARSE and cuSOLVER
// headers, which a pip torch does not ship.
#include <cuda_runtime_api.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#endif

namespace lv {

static const at::ScalarType kTypes[] = {
    at::kFloat, at::kDouble, at::kHalf, at::kBFloat16, at::kByte,
    at::kChar,  at::kShort,  at::kInt,  at::kLong,     at::kBool};

at::ScalarType scalar_type(int dtype) {
  TORCH_CHECK(dtype >= 0 && dtype < int(sizeof(kTypes) / sizeof(kTypes[0])),
              "unknown dtype code ", dtype);
  return kTypes[dtype];
}

int dtype_code(at::ScalarType s) {
  for (int i = 0; i < int(sizeof(kTypes) / sizeof(kTypes[0])); i++)
    if (kTypes[i] == s) return i;
  TORCH_CHECK(false, "dtype ", s, " is not supported by ludvae");
}

at::Device device(int type, int index) {
  if (type == LV_CPU) return at::Device(at::kCPU);
  TORCH_CHECK(type == LV_CUDA, "unknown device type code ", type);
  TORCH_CHECK(at::hasCUDA(), "CUDA device cuda:", index,
              " requested but this shim has no CUDA (build kind ",
              lv_build_kind(), ", libtorch ", TORCH_VERSION, ")");
#ifdef LV_WITH_CUDA
  // The caching allocator's statistics refuse a device until CUDA is
  // initialised, which otherwise happens only on the first CUDA tensor.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 6)
  at::globalContext().lazyInitDevice(c10::DeviceType::CUDA);
#else
  at::globalContext().lazyInitCUDA();
#endif
#endif
  return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
}

}  // namespace lv

extern "C" {

void lv_err_free(lv_err e) { std::free(e); }

const char *lv_libtorch_version(void) { return TORCH_VERSION; }

const char *lv_cpu_capability(void) {
  // at::show_config() names the kernels' instruction set on the line
  // "CPU capability usage: AVX2" (ATEN_CPU_CAPABILITY may lower it).
  static const std::string cap = [] {
    const std::string key = "CPU capability usage: ";
    std::string cfg = at::show_config();
    size_t i = cfg.find(key);
    if (i == std::string::npos) return std::string("unknown");
    i += key.size();
    return cfg.substr(i, cfg.find('\n', i) - i);
  }();
  return cap.c_str();
}

const char *lv_build_kind(void) {
#ifdef LV_WITH_CUDA
  return "CUDA";
#else
  return "CPU";
#endif
}

int lv_cuda_device_count(void) {
#ifdef LV_WITH_CUDA
  try {
    return at::hasCUDA() ? static_cast<int>(c10::cuda::device_count()) : 0;
  } catch (...) {
    return 0;
  }
#else
  return 0;
#endif
}

lv_err lv_cuda_device_name(int index, char *buf, size_t cap) {
  LV_TRY({
#ifdef LV_WITH_CUDA
    lv::device(LV_CUDA, index);
    cudaDeviceProp p;
    cudaError_t e = cudaGetDeviceProperties(&p, index);
    TORCH_CHECK(e == cudaSuccess, "cuda:", index, ": ", cudaGetErrorString(e));
    std::snprintf(buf, cap, "%s", p.name);
#else
    (void)buf; (void)cap;
    lv::device(LV_CUDA, index);
#endif
  })
}

lv_err lv_cuda_synchronize(int index) {
  LV_TRY({
    lv::device(LV_CUDA, index);
#ifdef LV_WITH_CUDA
    c10::cuda::CUDAGuard g(static_cast<c10::DeviceIndex>(index));
    c10::cuda::device_synchronize();
#endif
  })
}

lv_err lv_cuda_memory(int index, int64_t *allocated, int64_t *peak) {
  LV_TRY({
    lv::device(LV_CUDA, index);
#ifdef LV_WITH_CUDA
    auto s = c10::cuda::CUDACachingAllocator::getDeviceStats(index);
    *allocated = s.allocated_bytes[0].current;
    *peak = s.allocated_bytes[0].peak;
#else
    *allocated = *peak = 0;
#endif
  })
}

lv_err lv_cuda_reset_peak(int index) {
  LV_TRY({
    lv::device(LV_CUDA, index);
#ifdef LV_WITH_CUDA
    c10::cuda::CUDACachingAllocator::resetPeakStats(index);
#endif
  })
}

void lv_set_num_threads(int n) {
  if (n > 0) at::set_num_threads(n);
}

int lv_get_num_threads(void) { return at::get_num_threads(); }

}  // extern "C"
