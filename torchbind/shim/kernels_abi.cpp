// kernels_abi.cpp - the C entry points of the fused kernels (kernels.h):
// every argument checked, with an error naming it, before any work; the
// memory format picked from the first tensor; the noise key made; then the
// operation of kernels_autograd.cpp (kernels_internal.h says how the
// kernels are split).

#include "common.h"
#include "kernels_internal.h"

namespace {

using lv::kern::fmt;
using lv::kern::make_noise;
using lv::kern::OptT;

// ------------------------------------------------------------ validation

void need_device(const at::Device &d, const char *fn) {
#ifdef LV_WITH_CUDA
  TORCH_CHECK(d.is_cpu() || d.is_cuda(), fn, ": tensors on ", d, " are not supported");
#else
  TORCH_CHECK(d.is_cpu(), fn, ": tensors on ", d,
              " need a CUDA build of the shim; this one is CPU-only");
#endif
}

bool is_float(at::ScalarType s) {
  return s == at::kFloat || s == at::kDouble || s == at::kHalf || s == at::kBFloat16;
}

// t must match ref in dtype, device and shape.
void check_like(const at::Tensor &t, const char *name, const at::Tensor &ref, const char *refname,
                const char *fn) {
  TORCH_CHECK(t.scalar_type() == ref.scalar_type(), fn, ": ", name, " has dtype ", t.scalar_type(),
              " but ", refname, " has ", ref.scalar_type());
  TORCH_CHECK(t.device() == ref.device(), fn, ": ", name, " is on ", t.device(), " but ", refname,
              " is on ", ref.device());
  TORCH_CHECK(t.sizes() == ref.sizes(), fn, ": ", name, " has shape ", t.sizes(), " but ", refname,
              " has ", ref.sizes());
}

// A per-sample vector (scale, mask): N values on ref's device.
void check_per_sample(const at::Tensor &t, const char *name, const at::Tensor &ref,
                      const char *fn) {
  int64_t n = ref.size(0);
  TORCH_CHECK(t.numel() == n, fn, ": ", name, " has ", t.numel(), " elements but the batch has ", n,
              " samples (shape ", ref.sizes(), ")");
  TORCH_CHECK(t.device() == ref.device(), fn, ": ", name, " is on ", t.device(),
              " but the data is on ", ref.device());
  TORCH_CHECK(!t.is_complex(), fn, ": ", name, " must be real");
}

// NCHW unless ref is channels-last (and not also NCHW-contiguous).
bool pick_cl(const at::Tensor &ref) {
  return ref.dim() == 4 && !ref.is_contiguous() &&
         ref.is_contiguous(at::MemoryFormat::ChannelsLast);
}
at::Tensor conform(const at::Tensor &t, bool cl) {
  if (!t.defined() || t.is_contiguous(fmt(cl))) return t;
  return t.contiguous(fmt(cl));
}
OptT opt_of(const at::Tensor &t) { return t.defined() ? OptT(t) : OptT(); }

// check_add: a stream offset is one int64 on the data's device.
void check_add(const at::Tensor &add, const at::Device &dev, const char *fn) {
  if (!add.defined()) return;
  TORCH_CHECK(add.scalar_type() == at::kLong && add.numel() == 1 && add.is_contiguous(), fn,
              ": stream_add must be one int64, got ", add.scalar_type(), " of shape ",
              add.sizes());
  TORCH_CHECK(add.device() == dev, fn, ": stream_add is on ", add.device(),
              " but the data is on ", dev);
}

}  // namespace

extern "C" {

lv_err lv_reparam(lv_tensor mu_h, lv_tensor ls_h, lv_tensor scale_h, lv_tensor eps_h, uint64_t seed,
                  uint64_t stream, const int64_t *origin, lv_tensor add_h,
                  lv_tensor *out){LV_TRY({
  const char *fn = "lv_reparam";
  at::Tensor mu = lv::T(mu_h), ls = lv::T(ls_h), scale = lv::T(scale_h), eps = lv::T(eps_h);
  const char *refname = mu.defined() ? "mu" : ls.defined() ? "log_sigma" : "eps";
  const at::Tensor &ref = mu.defined() ? mu : ls.defined() ? ls : eps;
  TORCH_CHECK(ref.defined(), fn, ": give at least one of mu, log_sigma, eps (the shape)");
  TORCH_CHECK(ref.dim() == 4, fn, ": ", refname, " must be 4-D (N, C, H, W), got shape ",
              ref.sizes());
  TORCH_CHECK(is_float(ref.scalar_type()), fn, ": ", refname,
              " must be float32, float64, float16 or bfloat16, got ", ref.scalar_type());
  need_device(ref.device(), fn);
  if (ls.defined()) check_like(ls, "log_sigma", ref, refname, fn);
  if (eps.defined()) check_like(eps, "eps", ref, refname, fn);
  if (scale.defined()) check_per_sample(scale, "scale", ref, fn);
  at::Tensor add = lv::T(add_h);
  check_add(add, ref.device(), fn);
  bool cl = pick_cl(ref);
  *out = lv::wrap(lv::kern::reparam(opt_of(conform(mu, cl)), opt_of(conform(ls, cl)),
                                    opt_of(scale), opt_of(conform(eps, cl)),
                                    make_noise(seed, stream, origin, add), cl));
})}

lv_err lv_normal(const int64_t *shape, int ndim, int dtype, int dev_type, int dev_index,
                 uint64_t seed, uint64_t stream, const int64_t *origin, lv_tensor add_h,
                 lv_tensor *out){LV_TRY({
  TORCH_CHECK(ndim == 4, "lv_normal: the shape must have 4 dimensions (N, C, H, W), got ", ndim);
  auto st = lv::scalar_type(dtype);
  TORCH_CHECK(is_float(st),
              "lv_normal: dtype must be float32, float64, float16 or "
              "bfloat16, got ",
              st);
  auto opts = at::TensorOptions().dtype(st).device(lv::device(dev_type, dev_index));
  need_device(opts.device(), "lv_normal");
  at::Tensor add = lv::T(add_h);
  check_add(add, opts.device(), "lv_normal");
  *out = lv::wrap(
      lv::kern::normal(lv::ints(shape, ndim), opts, make_noise(seed, stream, origin, add)));
})}

lv_err lv_gauss_kl(lv_tensor mq_h, lv_tensor lq_h, lv_tensor mp_h, lv_tensor lp_h, lv_tensor mask_h,
                   lv_tensor *out_total, lv_tensor *out_per_sample) {
  LV_TRY({
    const char *fn = "lv_gauss_kl";
    const at::Tensor &mq = lv::R(mq_h, "lv_gauss_kl: mu_q");
    const at::Tensor &lq = lv::R(lq_h, "lv_gauss_kl: ls_q");
    at::Tensor mp = lv::T(mp_h), lp = lv::T(lp_h), mask = lv::T(mask_h);
    TORCH_CHECK(mq.dim() >= 1, fn, ": mu_q needs a batch dimension, got shape ", mq.sizes());
    TORCH_CHECK(is_float(mq.scalar_type()), fn,
                ": mu_q must be float32, float64, float16 or bfloat16, got ", mq.scalar_type());
    need_device(mq.device(), fn);
    check_like(lq, "ls_q", mq, "mu_q", fn);
    if (mp.defined()) check_like(mp, "mu_p", mq, "mu_q", fn);
    if (lp.defined()) check_like(lp, "ls_p", mq, "mu_q", fn);
    if (mask.defined()) check_per_sample(mask, "mask", mq, fn);
    bool cl = pick_cl(mq);
    auto r = lv::kern::gauss_kl(conform(mq, cl), conform(lq, cl), opt_of(conform(mp, cl)),
                                opt_of(conform(lp, cl)), opt_of(mask), cl);
    if (out_total) *out_total = lv::wrap(r[0]);
    if (out_per_sample) *out_per_sample = lv::wrap(r[1]);
  })
}

}  // extern "C"
