/*
 * ludvae.h - the C ABI of ludvae's libtorch shim (libludvae_shim.so).
 *
 * One convention everywhere:
 *   - Every fallible function returns lv_err: NULL on success, otherwise a
 *     malloc'd message (libtorch's, without backtrace) that the caller frees
 *     with lv_err_free. Results come back through out-parameters.
 *     There is no thread-local "last error".
 *   - Tensors, generators and script modules are opaque handles owned by the
 *     caller and released with lv_tensor_free / lv_generator_free /
 *     lv_jit_free. A NULL tensor handle means "undefined tensor" (no bias,
 *     no gradient, ...).
 *   - Shapes, dims and sizes are int64_t arrays with an explicit length.
 *   - dtype is an LV_* code below; a device is (LV_CPU|LV_CUDA, index).
 *   - Operation families take an op code (LV_OP_*) so that the header stays
 *     short; each code is the ATen function of the same name.
 * No C++ type crosses this header, so one Go binary runs against a CPU or a
 * CUDA build of the shim.
 */
#ifndef LUDVAE_SHIM_H
#define LUDVAE_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef char *lv_err;
typedef struct lv_tensor_s *lv_tensor;
typedef struct lv_generator_s *lv_generator;
typedef struct lv_jit_s *lv_jit;
typedef struct lv_graph_s *lv_graph;

void lv_err_free(lv_err e);

/* dtypes (same order as torchbind/pickle.DType) */
enum { LV_F32, LV_F64, LV_F16, LV_BF16, LV_U8, LV_I8, LV_I16, LV_I32, LV_I64, LV_BOOL };
/* device types */
enum { LV_CPU = 0, LV_CUDA = 1 };

/* ---- runtime ---- */
const char *lv_libtorch_version(void); /* static string, e.g. "1.13.1" */
const char *lv_build_kind(void);       /* "CPU" or "CUDA" */
/* The instruction set libtorch's CPU kernels run with ("AVX2", "AVX512",
   "DEFAULT"), as torch.__config__.show() names it; a static string. */
const char *lv_cpu_capability(void);
/* 1 when CPU convolutions run through oneDNN in this process (libtorch has
   it, and the load check of onednn.cpp left it on), else 0. */
int lv_onednn_enabled(void);
int lv_cuda_device_count(void);
lv_err lv_cuda_device_name(int index, char *buf, size_t cap);
lv_err lv_cuda_synchronize(int index);
lv_err lv_cuda_memory(int index, int64_t *allocated, int64_t *peak);
lv_err lv_cuda_reset_peak(int index);
void lv_set_num_threads(int n);
int lv_get_num_threads(void);
/* Large CPU blocks come from a cache of freed mappings (alloc.cpp); bytes
   held by tensors, bytes cached, the largest live total so far (live plus
   cached stay within an eighth above it), and the mappings made. */
void lv_use_caching_cpu_allocator(void);
void lv_cpu_cache_stats(int64_t *live, int64_t *cached, int64_t *top, int64_t *maps);

/* ---- tensor lifecycle and inspection ---- */
void lv_tensor_free(lv_tensor t);
lv_err lv_from_data(const void *data, const int64_t *shape, int ndim, int dtype, lv_tensor *out);
lv_err lv_copy_to(lv_tensor t, void *dst, size_t nbytes); /* row-major, on CPU */
lv_err lv_as_strided(lv_tensor t, const int64_t *shape, const int64_t *stride, int ndim,
                     int64_t offset, lv_tensor *out);
int lv_ndim(lv_tensor t);
void lv_shape(lv_tensor t, int64_t *out); /* out has lv_ndim entries */
int lv_dtype(lv_tensor t);
void lv_device(lv_tensor t, int *type, int *index);
int lv_requires_grad(lv_tensor t);
int lv_is_contiguous(lv_tensor t, int channels_last);
int lv_is_mkldnn(lv_tensor t);
lv_err lv_item(lv_tensor t, double *out);
lv_err lv_to(lv_tensor t, int dtype, int dev_type, int dev_index, lv_tensor *out);
lv_err lv_clone(lv_tensor t, lv_tensor *out);

/* ---- creation ---- */
lv_err lv_full(const int64_t *shape, int ndim, double value, int dtype, int dev_type,
               int dev_index, lv_tensor *out);
/* kind: 0 uniform [0,1), 1 standard normal; gen may be NULL (default generator) */
lv_err lv_random(const int64_t *shape, int ndim, int kind, int dtype, int dev_type,
                 int dev_index, lv_generator gen, lv_tensor *out);
/* U(lo, hi) by Tensor::uniform_, the draws torch.nn.init.uniform_ makes */
lv_err lv_uniform(const int64_t *shape, int ndim, double lo, double hi, int dtype, int dev_type,
                  int dev_index, lv_generator gen, lv_tensor *out);
lv_err lv_arange(int64_t n, int dtype, int dev_type, int dev_index, lv_tensor *out);

/* ---- generators (CPU; CUDA ones where built with CUDA) ---- */
lv_err lv_generator_new(uint64_t seed, int dev_type, int dev_index, lv_generator *out);
void lv_generator_free(lv_generator g);

/* ---- elementwise ---- */
enum {
  LV_OP_EXP, LV_OP_LOG, LV_OP_SQRT, LV_OP_ABS, LV_OP_RELU, LV_OP_SQUARE, LV_OP_FLOOR,
  LV_OP_ROUND
};
lv_err lv_unary(int op, lv_tensor a, lv_tensor *out);
lv_err lv_unary_(int op, lv_tensor a); /* in place: relu */
enum { LV_OP_ADD, LV_OP_SUB, LV_OP_MUL, LV_OP_DIV, LV_OP_GT };
lv_err lv_binary(int op, lv_tensor a, lv_tensor b, lv_tensor *out);
lv_err lv_binary_scalar(int op, lv_tensor a, double b, lv_tensor *out);
/* in place: a += b (b may be NULL to add the scalar s) */
lv_err lv_binary_(int op, lv_tensor a, lv_tensor b, double s);
lv_err lv_fill_(lv_tensor a, double value);
lv_err lv_copy_(lv_tensor dst, lv_tensor src);
lv_err lv_clamp(lv_tensor a, double lo, double hi, lv_tensor *out); /* NaN bound = none */
lv_err lv_where(lv_tensor cond, lv_tensor a, lv_tensor b, lv_tensor *out);

/* ---- reductions (ndims == 0: over all elements) ---- */
enum { LV_OP_SUM, LV_OP_MEAN, LV_OP_AMAX, LV_OP_AMIN, LV_OP_VAR, LV_OP_STD };
lv_err lv_reduce(int op, lv_tensor a, const int64_t *dims, int ndims, int keepdim,
                 lv_tensor *out);
lv_err lv_matmul(lv_tensor a, lv_tensor b, lv_tensor *out);

/* ---- shape ---- */
lv_err lv_reshape(lv_tensor a, const int64_t *shape, int ndim, lv_tensor *out);
lv_err lv_permute(lv_tensor a, const int64_t *dims, int ndim, lv_tensor *out);
/* memory format: 0 contiguous, 1 channels-last */
lv_err lv_contiguous(lv_tensor a, int memory_format, lv_tensor *out);
lv_err lv_to_mkldnn(lv_tensor a, lv_tensor *out);
lv_err lv_to_dense(lv_tensor a, lv_tensor *out);
lv_err lv_narrow(lv_tensor a, int64_t dim, int64_t start, int64_t length, lv_tensor *out);
lv_err lv_squeeze(lv_tensor a, int64_t dim, lv_tensor *out);
lv_err lv_cat(const lv_tensor *ts, int n, int64_t dim, lv_tensor *out);
lv_err lv_stack(const lv_tensor *ts, int n, int64_t dim, lv_tensor *out);
/* split into chunks of size; outs must hold ceil(size(dim)/size) handles */
lv_err lv_split(lv_tensor a, int64_t size, int64_t dim, lv_tensor *outs, int cap, int *n);
lv_err lv_index_select(lv_tensor a, int64_t dim, lv_tensor index, lv_tensor *out);
lv_err lv_index_copy(lv_tensor a, int64_t dim, lv_tensor index, lv_tensor src,
                     lv_tensor *out);

/* ---- neural-network functions ---- */
lv_err lv_conv2d(lv_tensor x, lv_tensor w, lv_tensor b, const int64_t *stride,
                 const int64_t *padding, const int64_t *dilation, int64_t groups,
                 lv_tensor *out);
lv_err lv_batch_norm(lv_tensor x, lv_tensor w, lv_tensor b, lv_tensor running_mean,
                     lv_tensor running_var, int training, double momentum, double eps,
                     lv_tensor *out);
/* reduction: 0 none, 1 mean, 2 sum */
lv_err lv_mse_loss(lv_tensor a, lv_tensor b, int reduction, lv_tensor *out);

/* ---- autograd ---- */
lv_err lv_set_requires_grad(lv_tensor t, int requires_grad);
lv_err lv_backward(lv_tensor t, lv_tensor grad, int retain_graph);
lv_err lv_grad(lv_tensor t, lv_tensor *out); /* *out = NULL when no gradient */
lv_err lv_set_grad(lv_tensor t, lv_tensor grad); /* grad NULL: drop the gradient */
lv_err lv_detach(lv_tensor t, lv_tensor *out);
/* grad mode is thread-local in libtorch: callers pin their OS thread around it */
void lv_set_grad_enabled(int enabled, int *previous);

/* ---- precision ----
 * Autocast is thread-local, like grad mode: callers pin their OS thread.
 * dtype: LV_BF16 or LV_F16. TF32 in CUDA matrix products (cuBLAS) and
 * convolutions (cuDNN), and cuDNN's benchmark mode (it times its algorithms
 * per shape), are process-wide; their setters store the settings they
 * replace in the prev pointers that are not NULL. */
lv_err lv_set_autocast(int dev_type, int enabled, int dtype, int *previous);
void lv_set_tf32(int cublas, int cudnn, int *prev_cublas, int *prev_cudnn);
void lv_set_cudnn_benchmark(int enabled, int *previous);

/* ---- optimizer: one Adam update of n parameters with the same step count,
 * torch.optim.Adam's multi-tensor path (on the CPU its operations in one
 * pass, the same bits: adam.cpp); step is the already incremented count ---- */
lv_err lv_adam_step(const lv_tensor *params, const lv_tensor *grads, const lv_tensor *exp_avgs,
                    const lv_tensor *exp_avg_sqs, int n, double step, double lr, double beta1,
                    double beta2, double eps, double weight_decay);

/* The same update for float32 parameters, fused (one kernel per 32 tensors
 * on CUDA), reading {lr, step} from scalars (2 float64 on the parameters'
 * device; step already incremented) and leaving everything as it was when
 * loss (one float32 there, or NULL) is not finite. Every gradient is zeroed
 * afterwards. The float operations are torch's foreach ones (adam.cpp); a
 * CUDA graph can record it (lv_graph_*). */
lv_err lv_adam_fused(const lv_tensor *params, const lv_tensor *grads, const lv_tensor *exp_avgs,
                     const lv_tensor *exp_avg_sqs, int n, lv_tensor scalars, lv_tensor loss,
                     double beta1, double beta2, double eps, double weight_decay);

/* ---- CUDA graphs (graph.cpp): work on a side stream, recorded once and
 * replayed with one launch. begin makes the graph's stream the calling
 * thread's current one (after the device has finished its queued work) and,
 * with capture, starts recording; end stops recording (or waits for the
 * stream) and restores the thread's stream. Only one thread may drive a
 * graph, from begin to end. Replay runs on the current stream. ---- */
lv_err lv_graph_new(int dev_index, lv_graph *out);
lv_err lv_graph_begin(lv_graph g, int capture);
lv_err lv_graph_end(lv_graph g, int capture);
lv_err lv_graph_replay(lv_graph g);
void lv_graph_free(lv_graph g);

/* ---- distributed (dist.cpp): torch.distributed's default process group ----
 * lv_dist_new does what torch 1.13's init_process_group(backend, env://)
 * does: a TCPStore at host:port (hosted by rank 0, or, with agent_store, by
 * torchrun's agent under "/worker/attempt_<attempt>"), the group's keys
 * under "default_pg" then "0", the store-based barrier and the sequence
 * number; so Go and Python ranks can join one group. backend: "gloo" (CPU
 * tensors) or "nccl" (CUDA tensors; CUDA shims built with NCCL). timeout_ms
 * bounds the rendezvous and every collective. Rank 0's store listens on
 * host's address only, or, with listen_all, on every interface (PyTorch's
 * default). Collectives work in place and
 * return when done; every rank must call them in the same order. */
typedef struct lv_pg_s *lv_pg;
void lv_dist_backends(int *gloo, int *nccl); /* 1 where built in */
lv_err lv_dist_new(const char *backend, const char *host, int port, int rank, int world,
                   int agent_store, int attempt, int64_t timeout_ms, int listen_all, lv_pg *out);
lv_err lv_dist_allreduce(lv_pg g, lv_tensor t); /* sum */
lv_err lv_dist_broadcast(lv_pg g, lv_tensor t, int root);
lv_err lv_dist_barrier(lv_pg g);
void lv_dist_free(lv_pg g);

/* ---- TorchScript ---- */
lv_err lv_jit_new(const char *qualified_name, lv_jit *out);
lv_err lv_jit_load(const char *path, int dev_type, int dev_index, lv_jit *out);
void lv_jit_free(lv_jit m);
lv_err lv_jit_register(lv_jit m, const char *name, lv_tensor t, int is_parameter);
lv_err lv_jit_define(lv_jit m, const char *source);
lv_err lv_jit_save(lv_jit m, const char *path);
/* calls method with the tensors, then the doubles, as positional arguments */
lv_err lv_jit_call(lv_jit m, const char *method, const lv_tensor *ts, int nt,
                   const double *ds, int nd, lv_tensor *out);

#ifdef __cplusplus
}
#endif

#include "kernels.h"

#endif
