// kernels_internal.h - what the three parts of the fused kernels of
// kernels.h share. Private to the shim (C++ only; kernels.h is the C ABI).
//
// The kernels are split by job, each part calling only the one below it:
//   kernels_abi.cpp       the C entry points lv_reparam, lv_normal and
//                         lv_gauss_kl: argument checks, the memory format,
//                         the noise key; then one operation below.
//   kernels_autograd.cpp  the operations: the autograd functions (what
//                         forward saves, how backward redraws the noise) and
//                         the dispatch of each pass to the CPU code below or
//                         to the CUDA launchers of kernels_cuda.h.
//   kernels_cpu.cpp       the CPU math: the vectorized double cores, the
//                         Philox rows of philox.h, rows and chunks spread
//                         over libtorch's threads, each dtype loaded and
//                         stored through double.
#pragma once

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <thread>
#include <vector>

namespace lv {
namespace kern {

using OptT = c10::optional<at::Tensor>;

// at::parallel_for over [begin, end). libtorch's OpenMP backend inlines its
// parallel region into the caller, so at::parallel_for is serial unless the
// caller is compiled with -fopenmp (the shim is, on Debian's libtorch);
// without it, plain threads (as many as at::get_num_threads()) do the same
// split.
template <class F>
inline void par_for(int64_t begin, int64_t end, int64_t grain, const F &f) {
#ifdef _OPENMP
  at::parallel_for(begin, end, grain, f);
#else
  int64_t n = end - begin;
  int64_t k =
      std::min<int64_t>(at::get_num_threads(), (n + grain - 1) / std::max<int64_t>(grain, 1));
  if (k <= 1) {
    if (n > 0) f(begin, end);
    return;
  }
  int64_t chunk = (n + k - 1) / k;
  std::vector<std::thread> ts;
  std::vector<std::exception_ptr> errs(k);
  for (int64_t i = 1; i < k && begin + i * chunk < end; i++)
    ts.emplace_back([&, i] {
      try {
        f(begin + i * chunk, std::min(end, begin + (i + 1) * chunk));
      } catch (...) {
        errs[i] = std::current_exception();
      }
    });
  try {
    f(begin, std::min(end, begin + chunk));
  } catch (...) {
    errs[0] = std::current_exception();
  }
  for (auto &t : ts) t.join();
  for (auto &e : errs)
    if (e) std::rethrow_exception(e);
#endif
}

// A 4-D NCHW or channels-last tensor: element strides (size-1 dims never
// index, so any stride ATen keeps for them is irrelevant).
struct Geo {
  int64_t n, c, h, w, sn, sc, sh, sw;
};
Geo geo_of(at::IntArrayRef s, bool cl);

// Noise is where a call's eps comes from: the key of (seed, stream) and the
// origin; with add, the stream is stream + add's value, read on the device
// when a CUDA kernel runs (and on the CPU when the call is made).
struct Noise {
  uint64_t key;
  int64_t o[4];
  uint64_t seed, stream;
  at::Tensor add;  // int64, one element, on the data's device; or undefined
};
Noise make_noise(uint64_t seed, uint64_t stream, const int64_t *origin, const at::Tensor &add);

inline at::MemoryFormat fmt(bool cl) {
  return cl ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
}

// ---------------------------------------------------- CPU (kernels_cpu.cpp)
// Each takes the tensors the pass reads and writes (undefined = not given:
// a NULL input reads as zeros, a NULL output is not written), all CPU, in
// the layout of g; sd and w are double. Every one dispatches on the dtype of
// its first tensor, under the name its C entry point has.

// normal_cpu fills out with the counter noise of nz.
void normal_cpu(const at::Tensor &out, const Geo &g, const Noise &nz);

// reparam_fwd_cpu: out = (mu + exp(ls)*eps)*sd[n], eps drawn when undefined.
void reparam_fwd_cpu(const at::Tensor &mu, const at::Tensor &ls, const at::Tensor &sd,
                     const at::Tensor &eps, const at::Tensor &out, const Geo &g, const Noise &nz);

// reparam_bwd_cpu: the gradients of reparam_fwd_cpu for the output
// gradient gr; srow (n*c*h doubles, may be NULL): per-row sums of
// gr*(mu + sigma*eps).
void reparam_bwd_cpu(const at::Tensor &gr, const at::Tensor &mu, const at::Tensor &ls,
                     const at::Tensor &sd, const at::Tensor &eps, const at::Tensor &dmu,
                     const at::Tensor &dls, const at::Tensor &deps, double *srow, const Geo &g,
                     const Noise &nz);

// The KL runs over each of N samples of P elements in chunks of KL_CHUNK.
constexpr int64_t KL_CHUNK = 2048;

// kl_fwd_cpu: partial[n*chunks + k], the KL summed over chunk k of sample n.
void kl_fwd_cpu(const at::Tensor &mq, const at::Tensor &lq, const at::Tensor &mp,
                const at::Tensor &lp, int64_t N, int64_t P, double *partial);

// kl_bwd_cpu: the KL's gradients, sample n's scaled by w[n].
void kl_bwd_cpu(const at::Tensor &mq, const at::Tensor &lq, const at::Tensor &mp,
                const at::Tensor &lp, const double *w, const at::Tensor &dmq,
                const at::Tensor &dlq, const at::Tensor &dmp, const at::Tensor &dlp, int64_t N,
                int64_t P);

// ------------------------------------- operations (kernels_autograd.cpp)
// Arguments already checked and in the memory format cl names.

// normal is lv_normal's eps for a 4-D shape (no autograd).
at::Tensor normal(at::IntArrayRef shape, const at::TensorOptions &opts, const Noise &nz);

// reparam is lv_reparam's autograd operation.
at::Tensor reparam(const OptT &mu, const OptT &ls, const OptT &scale, const OptT &eps,
                   const Noise &nz, bool cl);

// gauss_kl is lv_gauss_kl's autograd operation: {total, per sample}.
std::vector<at::Tensor> gauss_kl(const at::Tensor &mq, const at::Tensor &lq, const OptT &mp,
                                 const OptT &lp, const OptT &mask, bool cl);

}  // namespace kern
}  // namespace lv
