// tensor.cpp - tensor lifecycle, inspection, creation and generators.
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/Generator.h>

#include "common.h"

#ifdef LV_WITH_CUDA
#include <ATen/cuda/CUDAGeneratorImpl.h>
#endif

struct lv_generator_s {
  at::Generator g;
};

using lv::R;
using lv::T;
using lv::wrap;

extern "C" {

void lv_tensor_free(lv_tensor t) { delete t; }

lv_err lv_from_data(const void *data, const int64_t *shape, int ndim, int dtype,
                    lv_tensor *out) {
  LV_TRY({
    auto opts = at::TensorOptions().dtype(lv::scalar_type(dtype));
    auto t = at::empty(lv::ints(shape, ndim), opts);
    if (t.numel() > 0) std::memcpy(t.data_ptr(), data, t.nbytes());
    *out = wrap(t);
  })
}

lv_err lv_copy_to(lv_tensor h, void *dst, size_t nbytes) {
  LV_TRY({
    auto t = R(h, "tensor").detach().to(at::kCPU).contiguous();
    TORCH_CHECK(t.nbytes() == nbytes, "copy_to: tensor has ", t.nbytes(),
                " bytes, destination ", nbytes);
    if (nbytes > 0) std::memcpy(dst, t.data_ptr(), nbytes);
  })
}

lv_err lv_as_strided(lv_tensor h, const int64_t *shape, const int64_t *stride, int ndim,
                     int64_t offset, lv_tensor *out) {
  LV_TRY(*out = wrap(R(h, "tensor").as_strided(lv::ints(shape, ndim),
                                               lv::ints(stride, ndim), offset)))
}

int lv_ndim(lv_tensor h) { return static_cast<int>(h->t.dim()); }

void lv_shape(lv_tensor h, int64_t *out) {
  for (int64_t i = 0; i < h->t.dim(); i++) out[i] = h->t.size(i);
}

int lv_dtype(lv_tensor h) {
  try {
    return lv::dtype_code(h->t.scalar_type());
  } catch (...) {
    return -1;
  }
}

void lv_device(lv_tensor h, int *type, int *index) {
  auto d = h->t.device();
  *type = d.is_cuda() ? LV_CUDA : LV_CPU;
  *index = d.has_index() ? d.index() : 0;
}

int lv_requires_grad(lv_tensor h) { return h->t.requires_grad(); }

int lv_is_contiguous(lv_tensor h, int channels_last) {
  if (h->t.is_mkldnn()) return 0;  // opaque: asking would throw
  return h->t.is_contiguous(channels_last ? at::MemoryFormat::ChannelsLast
                                          : at::MemoryFormat::Contiguous);
}

int lv_is_mkldnn(lv_tensor h) { return h->t.is_mkldnn(); }

lv_err lv_item(lv_tensor h, double *out) {
  LV_TRY(*out = R(h, "tensor").item<double>())
}

lv_err lv_to(lv_tensor h, int dtype, int dev_type, int dev_index, lv_tensor *out) {
  LV_TRY(*out = wrap(R(h, "tensor").to(lv::device(dev_type, dev_index),
                                       lv::scalar_type(dtype))))
}

lv_err lv_clone(lv_tensor h, lv_tensor *out) { LV_TRY(*out = wrap(R(h, "tensor").clone())) }

namespace {

// new_options are a new tensor's dtype and device.
at::TensorOptions new_options(int dtype, int dev_type, int dev_index) {
  return at::TensorOptions().dtype(lv::scalar_type(dtype)).device(lv::device(dev_type, dev_index));
}

// generator is gen, or none (libtorch's default generator) for NULL.
c10::optional<at::Generator> generator(lv_generator gen) {
  c10::optional<at::Generator> g;
  if (gen) g = gen->g;
  return g;
}

}  // namespace

lv_err lv_full(const int64_t *shape, int ndim, double value, int dtype, int dev_type,
               int dev_index, lv_tensor *out) {
  LV_TRY(*out = wrap(at::full(lv::ints(shape, ndim), value, new_options(dtype, dev_type, dev_index))))
}

lv_err lv_random(const int64_t *shape, int ndim, int kind, int dtype, int dev_type,
                 int dev_index, lv_generator gen, lv_tensor *out) {
  LV_TRY({
    auto opts = new_options(dtype, dev_type, dev_index);
    auto s = lv::ints(shape, ndim);
    *out = wrap(kind == 0 ? at::rand(s, generator(gen), opts) : at::randn(s, generator(gen), opts));
  })
}

lv_err lv_uniform(const int64_t *shape, int ndim, double lo, double hi, int dtype, int dev_type,
                  int dev_index, lv_generator gen, lv_tensor *out) {
  LV_TRY(*out = wrap(at::empty(lv::ints(shape, ndim), new_options(dtype, dev_type, dev_index))
                         .uniform_(lo, hi, generator(gen))))
}

lv_err lv_arange(int64_t n, int dtype, int dev_type, int dev_index, lv_tensor *out) {
  LV_TRY(*out = wrap(at::arange(n, new_options(dtype, dev_type, dev_index))))
}

lv_err lv_generator_new(uint64_t seed, int dev_type, int dev_index, lv_generator *out) {
  LV_TRY({
    auto dev = lv::device(dev_type, dev_index);
    at::Generator g;
    if (dev.is_cpu()) {
      g = at::make_generator<at::CPUGeneratorImpl>(seed);
    } else {
#ifdef LV_WITH_CUDA
      g = at::make_generator<at::CUDAGeneratorImpl>(dev.index());
      g.set_current_seed(seed);
#else
      // A CPU shim over a CUDA libtorch can see a device it cannot drive.
      TORCH_CHECK(false, "CUDA generators need a CUDA build of the shim (this one is ",
                  lv_build_kind(), ")");
#endif
    }
    *out = new lv_generator_s{g};
  })
}

void lv_generator_free(lv_generator g) { delete g; }

}  // extern "C"
