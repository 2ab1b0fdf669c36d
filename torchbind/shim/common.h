// common.h - what every shim translation unit shares: the handle structs and
// the exception-to-lv_err conversion. Private to the shim; never installed.
#pragma once

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "ludvae.h"

struct lv_tensor_s {
  at::Tensor t;
};

namespace lv {

inline lv_err make_err(const char *msg) {
  size_t n = std::strlen(msg);
  char *e = static_cast<char *>(std::malloc(n + 1));
  if (e) std::memcpy(e, msg, n + 1);
  return e;
}

// wrap hands a tensor to the caller as a new handle; undefined becomes NULL.
inline lv_tensor wrap(at::Tensor t) {
  if (!t.defined()) return nullptr;
  return new lv_tensor_s{std::move(t)};
}

// T returns the tensor of a handle; NULL is the undefined tensor.
inline at::Tensor T(lv_tensor h) { return h ? h->t : at::Tensor(); }

// R returns the tensor of a handle that must be present.
inline const at::Tensor &R(lv_tensor h, const char *what) {
  TORCH_CHECK(h != nullptr, what, " is required but NULL was given");
  return h->t;
}

inline std::vector<int64_t> ints(const int64_t *p, int n) {
  return std::vector<int64_t>(p, p + n);
}

at::ScalarType scalar_type(int dtype);
int dtype_code(at::ScalarType s);
at::Device device(int type, int index);

}  // namespace lv

#ifdef LV_WITH_CUDA
// LVK_CHECK turns a failed launch of the shim's own kernels into an error.
#define LVK_CHECK(call)                                                                    \
  do {                                                                                     \
    cudaError_t err_ = (call);                                                             \
    TORCH_CHECK(err_ == cudaSuccess, "CUDA kernel failed: ", cudaGetErrorString(err_),     \
                err_ == cudaErrorNoKernelImageForDevice                                    \
                    ? " (the shim's kernels were not built for this card: rebuild it with " \
                      "make shim CUDA_ARCH='-gencode arch=compute_XY,code=sm_XY ...')"      \
                    : "");                                                                 \
  } while (0)
#endif

// LV_TRY runs body and converts any C++ exception into an lv_err.
#define LV_TRY(...)                                            \
  try {                                                        \
    __VA_ARGS__;                                               \
    return nullptr;                                            \
  } catch (const c10::Error &e) {                              \
    return lv::make_err(e.what_without_backtrace());           \
  } catch (const std::exception &e) {                          \
    return lv::make_err(e.what());                             \
  } catch (...) {                                              \
    return lv::make_err("unknown C++ exception in ludvae shim"); \
  }
