// kernels_autograd.cpp - the operations of the fused kernels as autograd
// functions (kernels_internal.h says how the kernels are split; kernels.h
// what they compute): what each forward saves, how backward redraws the
// noise instead of storing it, and the dispatch of every pass to the CPU
// code of kernels_cpu.cpp or to the CUDA launchers of kernels_cuda.h.

#include <torch/csrc/autograd/custom_function.h>

#include <string>
#include <vector>

#include "common.h"
#include "kernels_internal.h"
#include "philox.h"

#ifdef LV_WITH_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "kernels_cuda.h"
#endif

namespace lv {
namespace kern {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// ------------------------------------------------------- CUDA dispatching

#ifdef LV_WITH_CUDA
lvk_geom kgeom(const Geo &g) { return lvk_geom{g.n, g.c, g.h, g.w, g.sn, g.sc, g.sh, g.sw}; }
lvk_noise knoise(const Noise &nz) {
  lvk_noise k;
  k.key = nz.key;
  for (int i = 0; i < 4; i++) k.origin[i] = nz.o[i];
  k.seed = nz.seed, k.stream = nz.stream;
  k.stream_add = nz.add.defined() ? nz.add.data_ptr<int64_t>() : nullptr;
  return k;
}
const void *vp(const at::Tensor &t) { return t.defined() ? t.data_ptr() : nullptr; }
void *mvp(const at::Tensor &t) { return t.defined() ? t.data_ptr() : nullptr; }
const double *dp(const at::Tensor &t) { return t.defined() ? t.data_ptr<double>() : nullptr; }
static_assert((int)LVK_F32 == (int)LV_F32 && (int)LVK_F64 == (int)LV_F64 &&
                  (int)LVK_F16 == (int)LV_F16 && (int)LVK_BF16 == (int)LV_BF16,
              "kernels_cuda.h dtype codes follow ludvae.h");
#endif

// ---------------------------------------------------------- the operations

// sd: the scale as double [N] on the device, or undefined.
at::Tensor reparam_fwd(const at::Tensor &mu, const at::Tensor &ls, const at::Tensor &sd,
                       const at::Tensor &eps, const at::Tensor &ref, bool cl, const Noise &nz) {
  at::Tensor out = at::empty(ref.sizes(), ref.options().memory_format(fmt(cl)));
  if (out.numel() == 0) return out;
  Geo g = geo_of(out.sizes(), cl);
  if (out.is_cuda()) {
#ifdef LV_WITH_CUDA
    c10::cuda::CUDAGuard guard(out.device());
    LVK_CHECK(lvk_reparam_fwd(lv::dtype_code(out.scalar_type()), vp(mu), vp(ls), dp(sd), vp(eps),
                              out.data_ptr(), kgeom(g), knoise(nz),
                              c10::cuda::getCurrentCUDAStream()));
#endif
    return out;
  }
  reparam_fwd_cpu(mu, ls, sd, eps, out, g, nz);
  return out;
}

struct ReparamSpec {
  Noise nz;
  bool cl;
};

at::Tensor opt(const OptT &t) { return t.has_value() ? *t : at::Tensor(); }

struct ReparamFn : torch::autograd::Function<ReparamFn> {
  static at::Tensor forward(AutogradContext *ctx, const OptT &mu_, const OptT &ls_,
                            const OptT &scale_, const OptT &eps_, const ReparamSpec &sp) {
    at::Tensor mu = opt(mu_), ls = opt(ls_), scale = opt(scale_), eps = opt(eps_);
    const at::Tensor &ref = mu.defined() ? mu : ls.defined() ? ls : eps;
    at::Tensor sd = scale.defined() ? scale.reshape({-1}).to(at::kDouble).contiguous() : scale;
    at::Tensor out = reparam_fwd(mu, ls, sd, eps, ref, sp.cl, sp.nz);
    bool need_scale = scale.defined() && scale.requires_grad();
    // Nothing big is kept: a drawn eps is drawn again in backward, and mu
    // only matters for the scale's gradient.
    ctx->save_for_backward({need_scale ? mu : at::Tensor(), ls, scale, eps});
    ctx->saved_data["seed"] = (int64_t)sp.nz.seed;
    ctx->saved_data["stream"] = (int64_t)sp.nz.stream;
    ctx->saved_data["add"] = sp.nz.add;
    for (int i = 0; i < 4; i++) ctx->saved_data["o" + std::to_string(i)] = sp.nz.o[i];
    ctx->saved_data["cl"] = sp.cl;
    ctx->saved_data["mu"] = mu.defined() && mu.requires_grad();
    ctx->saved_data["ls"] = ls.defined() && ls.requires_grad();
    ctx->saved_data["eps"] = eps.defined() && eps.requires_grad();
    ctx->saved_data["scale"] = need_scale;
    return out;
  }

  static variable_list backward(AutogradContext *ctx, variable_list grads) {
    variable_list res(5);
    if (!grads[0].defined()) return res;
    TORCH_CHECK(!at::GradMode::is_enabled(),
                "lv_reparam: double backward (create_graph) is not supported");
    auto sv = ctx->get_saved_variables();
    at::Tensor mu = sv[0], ls = sv[1], scale = sv[2], eps = sv[3];
    auto &d = ctx->saved_data;
    int64_t o[4] = {d["o0"].toInt(), d["o1"].toInt(), d["o2"].toInt(), d["o3"].toInt()};
    Noise nz = make_noise((uint64_t)d["seed"].toInt(), (uint64_t)d["stream"].toInt(), o,
                          d["add"].toTensor());
    bool cl = d["cl"].toBool();
    bool n_mu = d["mu"].toBool(), n_ls = d["ls"].toBool(), n_eps = d["eps"].toBool(),
         n_scale = d["scale"].toBool();
    at::Tensor g = grads[0];
    if (!g.is_contiguous(fmt(cl))) g = g.contiguous(fmt(cl));
    at::Tensor sd =
        scale.defined() ? scale.detach().reshape({-1}).to(at::kDouble).contiguous() : scale;
    auto like = [&](bool need) {
      return need ? at::empty(g.sizes(), g.options().memory_format(fmt(cl))) : at::Tensor();
    };
    at::Tensor dmu = like(n_mu), dls = like(n_ls), deps = like(n_eps), dscale;
    if (g.numel() == 0) {
      if (n_scale) dscale = at::zeros_like(scale);
      return {dmu, dls, dscale, deps, at::Tensor()};
    }
    Geo geo = geo_of(g.sizes(), cl);
    if (g.is_cuda()) {
#ifdef LV_WITH_CUDA
      c10::cuda::CUDAGuard guard(g.device());
      at::Tensor el =
          n_scale ? at::empty(g.sizes(), g.options().dtype(at::kDouble).memory_format(fmt(cl)))
                  : at::Tensor();
      LVK_CHECK(lvk_reparam_bwd(lv::dtype_code(g.scalar_type()), g.data_ptr(), vp(mu), vp(ls),
                                dp(sd), vp(eps), mvp(dmu), mvp(dls), mvp(deps),
                                el.defined() ? el.data_ptr<double>() : nullptr, kgeom(geo),
                                knoise(nz), c10::cuda::getCurrentCUDAStream()));
      if (n_scale) dscale = el.reshape({geo.n, -1}).sum(1);
#endif
    } else {
      std::vector<double> srow(n_scale ? geo.n * geo.c * geo.h : 0);
      reparam_bwd_cpu(g, mu, ls, sd, eps, dmu, dls, deps, n_scale ? srow.data() : nullptr, geo, nz);
      if (n_scale) {
        dscale = at::zeros({geo.n}, at::kDouble);
        double *ds = dscale.data_ptr<double>();
        int64_t per = geo.c * geo.h;
        for (int64_t r = 0; r < (int64_t)srow.size(); r++) ds[r / per] += srow[r];
      }
    }
    if (n_scale) dscale = dscale.reshape(scale.sizes()).to(scale.scalar_type());
    return {dmu, dls, dscale, deps, at::Tensor()};
  }
};

// The KL's inputs: flat per sample (sample n is elements [n*P, (n+1)*P) of
// every tensor, all in one memory format).
struct KLSpec {
  bool cl;
};

struct KLFn : torch::autograd::Function<KLFn> {
  static variable_list forward(AutogradContext *ctx, const at::Tensor &mq, const at::Tensor &lq,
                               const OptT &mp_, const OptT &lp_, const OptT &mask_,
                               const KLSpec &sp) {
    at::Tensor mp = opt(mp_), lp = opt(lp_), mask = opt(mask_);
    int64_t N = mq.size(0), P = N ? mq.numel() / N : 0;
    at::Tensor md = mask.defined() ? mask.reshape({-1}).to(at::kDouble) : mask;
    at::Tensor raw;  // unmasked per-sample sums, double [N]
    if (N == 0 || P == 0) {
      raw = at::zeros({N}, mq.options().dtype(at::kDouble));
    } else if (mq.is_cuda()) {
#ifdef LV_WITH_CUDA
      c10::cuda::CUDAGuard guard(mq.device());
      int64_t chunks = (P + LVK_KL_CHUNK - 1) / LVK_KL_CHUNK;
      at::Tensor partial = at::empty({N, chunks}, mq.options().dtype(at::kDouble));
      LVK_CHECK(lvk_kl_fwd(lv::dtype_code(mq.scalar_type()), mq.data_ptr(), lq.data_ptr(), vp(mp),
                           vp(lp), N, P, partial.data_ptr<double>(),
                           c10::cuda::getCurrentCUDAStream()));
      raw = partial.sum(1);
#endif
    } else {
      int64_t chunks = (P + KL_CHUNK - 1) / KL_CHUNK;
      std::vector<double> partial(N * chunks);
      kl_fwd_cpu(mq, lq, mp, lp, N, P, partial.data());
      raw = at::empty({N}, at::kDouble);
      double *rp = raw.data_ptr<double>();
      for (int64_t n = 0; n < N; n++) {
        double s = 0;
        for (int64_t k = 0; k < chunks; k++) s += partial[n * chunks + k];
        rp[n] = s;
      }
    }
    // per must not alias raw: autograd gives the output a grad_fn, and raw
    // kept in saved_data would then hold the node that holds it.
    at::Tensor per = md.defined() ? raw * md : raw.clone();
    at::Tensor total = per.sum();
    ctx->save_for_backward({mq, lq, mp, lp, mask});
    ctx->saved_data["raw"] = raw;
    ctx->saved_data["cl"] = sp.cl;
    // Sums of half/bfloat16 inputs come back in float32: a bfloat16 total
    // would keep 8 bits of a sum over millions of elements (autocast).
    auto odt = (mq.scalar_type() == at::kBFloat16 || mq.scalar_type() == at::kHalf)
                   ? at::kFloat
                   : mq.scalar_type();
    return {total.to(odt), per.to(odt)};
  }

  static variable_list backward(AutogradContext *ctx, variable_list grads) {
    TORCH_CHECK(!at::GradMode::is_enabled(),
                "lv_gauss_kl: double backward (create_graph) is not supported");
    auto sv = ctx->get_saved_variables();
    at::Tensor mq = sv[0], lq = sv[1], mp = sv[2], lp = sv[3], mask = sv[4];
    at::Tensor raw = ctx->saved_data["raw"].toTensor();
    bool cl = ctx->saved_data["cl"].toBool();
    int64_t N = mq.size(0), P = N ? mq.numel() / N : 0;
    // w[n] = d loss / d raw[n] = mask[n] * (g_per[n] + g_total)
    at::Tensor gsum = at::zeros({N}, raw.options());
    if (grads[1].defined()) gsum = gsum + grads[1].to(at::kDouble);
    if (grads[0].defined()) gsum = gsum + grads[0].to(at::kDouble);
    at::Tensor md = mask.defined() ? mask.detach().reshape({-1}).to(at::kDouble) : mask;
    at::Tensor w = (md.defined() ? gsum * md : gsum).contiguous();
    auto like = [&](const at::Tensor &t) {
      return t.defined() && t.requires_grad() ? at::empty_like(mq, fmt(cl)) : at::Tensor();
    };
    at::Tensor dmq = like(mq), dlq = like(lq), dmp = like(mp), dlp = like(lp), dmask;
    if (mask.defined() && mask.requires_grad())
      dmask = (raw * gsum).reshape(mask.sizes()).to(mask.scalar_type());
    if (N > 0 && P > 0 && (dmq.defined() || dlq.defined() || dmp.defined() || dlp.defined())) {
      if (mq.is_cuda()) {
#ifdef LV_WITH_CUDA
        c10::cuda::CUDAGuard guard(mq.device());
        LVK_CHECK(lvk_kl_bwd(lv::dtype_code(mq.scalar_type()), mq.data_ptr(), lq.data_ptr(), vp(mp),
                             vp(lp), w.data_ptr<double>(), mvp(dmq), mvp(dlq), mvp(dmp), mvp(dlp),
                             N, P, c10::cuda::getCurrentCUDAStream()));
#endif
      } else {
        kl_bwd_cpu(mq, lq, mp, lp, w.data_ptr<double>(), dmq, dlq, dmp, dlp, N, P);
      }
    }
    return {dmq, dlq, dmp, dlp, dmask, at::Tensor()};
  }
};

}  // namespace

at::Tensor normal(at::IntArrayRef shape, const at::TensorOptions &opts, const Noise &nz) {
  at::Tensor out = at::empty(shape, opts);
  if (out.numel() == 0) return out;
  Geo g = geo_of(out.sizes(), false);
  if (out.is_cuda()) {
#ifdef LV_WITH_CUDA
    c10::cuda::CUDAGuard guard(out.device());
    LVK_CHECK(lvk_normal(lv::dtype_code(out.scalar_type()), out.data_ptr(), kgeom(g), knoise(nz),
                         c10::cuda::getCurrentCUDAStream()));
#endif
    return out;
  }
  normal_cpu(out, g, nz);
  return out;
}

at::Tensor reparam(const OptT &mu, const OptT &ls, const OptT &scale, const OptT &eps,
                   const Noise &nz, bool cl) {
  return ReparamFn::apply(mu, ls, scale, eps, ReparamSpec{nz, cl});
}

std::vector<at::Tensor> gauss_kl(const at::Tensor &mq, const at::Tensor &lq, const OptT &mp,
                                 const OptT &lp, const OptT &mask, bool cl) {
  return KLFn::apply(mq, lq, mp, lp, mask, KLSpec{cl});
}

Noise make_noise(uint64_t seed, uint64_t stream, const int64_t *origin, const at::Tensor &add) {
  Noise nz{lv_noise_key(seed, stream), {0, 0, 0, 0}, seed, stream, add};
  if (origin)
    for (int i = 0; i < 4; i++) nz.o[i] = origin[i];
  if (add.defined() && !add.is_cuda())
    nz.key = lv_noise_key(seed, stream + (uint64_t)add.item<int64_t>());
  return nz;
}

}  // namespace kern
}  // namespace lv
