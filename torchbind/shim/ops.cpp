// ops.cpp - elementwise operations, reductions and shape functions.
#include <cmath>

#include "common.h"

using lv::R;
using lv::T;
using lv::wrap;

namespace {

at::Tensor unary(int op, const at::Tensor &a) {
  switch (op) {
    case LV_OP_EXP: return a.exp();
    case LV_OP_LOG: return a.log();
    case LV_OP_SQRT: return a.sqrt();
    case LV_OP_ABS: return a.abs();
    case LV_OP_SQUARE: return a.square();
    case LV_OP_FLOOR: return a.floor();
    case LV_OP_ROUND: return a.round();
  }
  TORCH_CHECK(false, "unknown unary op code ", op);
}

void unary_inplace(int op, at::Tensor &a) {
  switch (op) {
    case LV_OP_RELU: a.relu_(); return;
  }
  TORCH_CHECK(false, "in-place unary op code ", op, " is not supported");
}

template <typename B>
at::Tensor binary(int op, const at::Tensor &a, const B &b) {
  switch (op) {
    case LV_OP_ADD: return at::add(a, b);
    case LV_OP_SUB: return at::sub(a, b);
    case LV_OP_MUL: return at::mul(a, b);
    case LV_OP_DIV: return at::div(a, b);
    case LV_OP_GT: return at::gt(a, b);
  }
  TORCH_CHECK(false, "unknown binary op code ", op);
}

void binary_inplace(int op, at::Tensor &a, const at::Tensor &b, double s) {
  bool t = b.defined();
  switch (op) {
    case LV_OP_ADD: t ? a.add_(b) : a.add_(s); return;
  }
  TORCH_CHECK(false, "in-place op code ", op, " is not supported");
}

at::Tensor reduce(int op, const at::Tensor &a, at::IntArrayRef dims, bool keep) {
  bool all = dims.empty();
  switch (op) {
    case LV_OP_SUM: return all ? a.sum() : a.sum(dims, keep);
    case LV_OP_MEAN: return all ? a.mean() : a.mean(dims, keep);
    case LV_OP_AMAX: return a.amax(dims, keep);
    case LV_OP_AMIN: return a.amin(dims, keep);
    case LV_OP_VAR: return all ? a.var() : a.var(dims, /*unbiased=*/true, keep);
    case LV_OP_STD: return all ? a.std() : a.std(dims, /*unbiased=*/true, keep);
  }
  TORCH_CHECK(false, "unknown reduction op code ", op);
}

std::vector<at::Tensor> tensors(const lv_tensor *ts, int n) {
  std::vector<at::Tensor> v;
  v.reserve(n);
  for (int i = 0; i < n; i++) v.push_back(R(ts[i], "list element"));
  return v;
}

}  // namespace

extern "C" {

lv_err lv_unary(int op, lv_tensor a, lv_tensor *out) {
  LV_TRY(*out = wrap(unary(op, R(a, "a"))))
}

lv_err lv_unary_(int op, lv_tensor a) { LV_TRY(unary_inplace(op, a->t)) }

lv_err lv_binary(int op, lv_tensor a, lv_tensor b, lv_tensor *out) {
  LV_TRY(*out = wrap(binary(op, R(a, "a"), R(b, "b"))))
}

lv_err lv_binary_scalar(int op, lv_tensor a, double b, lv_tensor *out) {
  LV_TRY(*out = wrap(binary(op, R(a, "a"), at::Scalar(b))))
}

lv_err lv_binary_(int op, lv_tensor a, lv_tensor b, double s) {
  LV_TRY(binary_inplace(op, a->t, T(b), s))
}

lv_err lv_fill_(lv_tensor a, double value) { LV_TRY(R(a, "a").fill_(value)) }

lv_err lv_copy_(lv_tensor dst, lv_tensor src) { LV_TRY(R(dst, "dst").copy_(R(src, "src"))) }

lv_err lv_clamp(lv_tensor a, double lo, double hi, lv_tensor *out) {
  LV_TRY({
    c10::optional<at::Scalar> l, h;
    if (!std::isnan(lo)) l = lo;
    if (!std::isnan(hi)) h = hi;
    *out = wrap(at::clamp(R(a, "a"), l, h));
  })
}

lv_err lv_where(lv_tensor c, lv_tensor a, lv_tensor b, lv_tensor *out) {
  LV_TRY(*out = wrap(at::where(R(c, "cond"), R(a, "a"), R(b, "b"))))
}

lv_err lv_reduce(int op, lv_tensor a, const int64_t *dims, int ndims, int keepdim,
                 lv_tensor *out) {
  LV_TRY(*out = wrap(reduce(op, R(a, "a"), lv::ints(dims, ndims), keepdim != 0)))
}

lv_err lv_matmul(lv_tensor a, lv_tensor b, lv_tensor *out) {
  LV_TRY(*out = wrap(at::matmul(R(a, "a"), R(b, "b"))))
}

lv_err lv_reshape(lv_tensor a, const int64_t *shape, int ndim, lv_tensor *out) {
  LV_TRY(*out = wrap(R(a, "a").reshape(lv::ints(shape, ndim))))
}

lv_err lv_permute(lv_tensor a, const int64_t *dims, int ndim, lv_tensor *out) {
  LV_TRY(*out = wrap(R(a, "a").permute(lv::ints(dims, ndim))))
}

lv_err lv_contiguous(lv_tensor a, int memory_format, lv_tensor *out) {
  LV_TRY(*out = wrap(R(a, "a").contiguous(memory_format ? at::MemoryFormat::ChannelsLast
                                                        : at::MemoryFormat::Contiguous)))
}

// The blocked layout is libtorch's MKLDNN tensors: oneDNN's own blocked
// memory order, opaque to everything but oneDNN's operations.
lv_err lv_to_mkldnn(lv_tensor a, lv_tensor *out) {
  LV_TRY(const at::Tensor &t = R(a, "a"); *out = wrap(t.is_mkldnn() ? t : t.to_mkldnn()))
}

lv_err lv_to_dense(lv_tensor a, lv_tensor *out) {
  LV_TRY(const at::Tensor &t = R(a, "a"); *out = wrap(t.is_mkldnn() ? t.to_dense() : t))
}

lv_err lv_narrow(lv_tensor a, int64_t dim, int64_t start, int64_t length, lv_tensor *out) {
  LV_TRY(*out = wrap(R(a, "a").narrow(dim, start, length)))
}

lv_err lv_squeeze(lv_tensor a, int64_t dim, lv_tensor *out) {
  LV_TRY(*out = wrap(R(a, "a").squeeze(dim)))
}

lv_err lv_cat(const lv_tensor *ts, int n, int64_t dim, lv_tensor *out) {
  LV_TRY(*out = wrap(at::cat(tensors(ts, n), dim)))
}

lv_err lv_stack(const lv_tensor *ts, int n, int64_t dim, lv_tensor *out) {
  LV_TRY(*out = wrap(at::stack(tensors(ts, n), dim)))
}

lv_err lv_split(lv_tensor a, int64_t size, int64_t dim, lv_tensor *outs, int cap, int *n) {
  LV_TRY({
    auto parts = R(a, "a").split(size, dim);
    TORCH_CHECK(int(parts.size()) <= cap, "split gives ", parts.size(),
                " parts, room for ", cap);
    for (size_t i = 0; i < parts.size(); i++) outs[i] = wrap(parts[i]);
    *n = static_cast<int>(parts.size());
  })
}

lv_err lv_index_select(lv_tensor a, int64_t dim, lv_tensor index, lv_tensor *out) {
  LV_TRY(*out = wrap(R(a, "a").index_select(dim, R(index, "index"))))
}

lv_err lv_index_copy(lv_tensor a, int64_t dim, lv_tensor index, lv_tensor src,
                     lv_tensor *out) {
  LV_TRY(*out = wrap(R(a, "a").index_copy(dim, R(index, "index"), R(src, "src"))))
}

}  // extern "C"
