// dist.cpp - torch.distributed's default process group through c10d: the
// TCPStore rendezvous, ProcessGroupGloo (CPU) or ProcessGroupNCCL (CUDA),
// and the few collectives data-parallel training needs. Nothing here is our
// own transport: the bytes on the wire are c10d's and Gloo's/NCCL's, and the
// store keys are those torch.distributed.init_process_group uses, so a Go
// rank and a Python rank can sit in one group.
#include "common.h"

#include <torch/version.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#if __has_include(<torch/csrc/distributed/c10d/TCPStore.hpp>)
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/Types.hpp>
#define LV_WITH_C10D 1
#else
#define LV_WITH_C10D 0
#endif

// LV_TORCH_AT_LEAST(major, minor): the libtorch being compiled against is
// that version or newer. init_process_group's store layout changed between
// 1.13 and 2.x (below); both ends are tested (1.13: Debian 12, 2.6: Debian
// 13), the versions in between follow PyTorch's release history.
#define LV_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

// ProcessGroupGloo.hpp compiles only with Gloo's own headers (Debian:
// libgloo-dev; some libtorch packages leave them out): without them the
// shim is built without Gloo and says so (lv_dist_backends).
#if LV_WITH_C10D && __has_include(<gloo/context.h>)
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#define LV_GLOO 1
#else
#define LV_GLOO 0
#endif

// NCCL only in a CUDA shim, when its headers and those ProcessGroupNCCL.hpp
// pulls in through ATen/cuda/CUDAContext.h are there (Makefile: NVIDIA_INC).
#if LV_WITH_C10D && defined(LV_WITH_CUDA) && __has_include(<nccl.h>) && \
    __has_include(<cublas_v2.h>) && __has_include(<cusparse.h>) &&     \
    __has_include(<cusolverDn.h>) &&                                   \
    __has_include(<torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>)
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#define LV_NCCL 1
#else
#define LV_NCCL 0
#endif

// The concrete groups are held rather than a common base: that base is
// c10d::ProcessGroup in libtorch 1.13 and c10d::Backend in 2.x, while the
// concrete classes' collectives have kept their signatures.
struct lv_pg_s {
#if LV_WITH_C10D
  c10::intrusive_ptr<c10d::Store> store;
#endif
#if LV_GLOO
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
#endif
#if LV_NCCL
  c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;
#endif
};

#if LV_WITH_C10D
namespace {

using ms = std::chrono::milliseconds;

// store is the rendezvous store as torch.distributed builds it for env://:
// under torchrun's static rendezvous the agent hosts the TCPStore and every
// worker is a client (TORCHELASTIC_USE_AGENT_STORE), in 1.13 under
// "/worker/attempt_<n>", from 2.4 on without a prefix (torchrun makes a new
// store for each restart); otherwise rank 0 hosts it.
c10::intrusive_ptr<c10d::Store> store(const std::string &host, int port, int rank,
                                      int world, bool agent, int attempt, ms timeout) {
  c10d::TCPStoreOptions o;
  o.port = static_cast<std::uint16_t>(port);
  o.isServer = !agent && rank == 0;
  o.numWorkers = world;
  o.waitWorkers = !agent;
  o.timeout = timeout;
  o.multiTenant = !agent;
#if LV_TORCH_AT_LEAST(2, 4)
  // 2.4 made the libuv store server the default, but a libtorch built
  // without libuv (Debian 13's 2.6) refuses it; the older server speaks the
  // same protocol. libuv only when USE_LIBUV=1 asks for it.
  const char *uv = std::getenv("USE_LIBUV");
  o.useLibUV = uv && std::string(uv) == "1";
#endif
  c10::intrusive_ptr<c10d::Store> s = c10::make_intrusive<c10d::TCPStore>(host, o);
#if LV_TORCH_AT_LEAST(2, 4)
  (void)attempt;
#else
  if (agent)
    s = c10::make_intrusive<c10d::PrefixStore>("/worker/attempt_" + std::to_string(attempt), s);
#endif
  return s;
}

// store_barrier is init_process_group's store-based barrier. In 1.13 each
// rank adds one to the key and waits until all have (the Python rank waits
// for ours too). From 2.1 on there is none unless TORCH_DIST_INIT_BARRIER=1;
// then the key is named after the group, "0", and the rank that completes
// the count sets "<key>:last_worker", which all wait for.
void store_barrier(c10d::Store &s, int world, ms timeout) {
#if LV_TORCH_AT_LEAST(2, 1)
  const char *on = std::getenv("TORCH_DIST_INIT_BARRIER");
  if (!on || std::atoi(on) != 1) return;
  const std::string key = "store_based_barrier_key:0";
  if (s.add(key, 1) == world) s.set(key + ":last_worker", std::vector<uint8_t>{'1'});
  s.wait({key + ":last_worker"}, timeout);
#else
  const std::string key = "store_based_barrier_key:1";
  s.add(key, 1);
  auto start = std::chrono::steady_clock::now();
  while (s.add(key, 0) < world) {
    TORCH_CHECK(std::chrono::steady_clock::now() - start < timeout,
                "timed out after ", timeout.count(), " ms waiting for all ", world,
                " ranks to join the process group");
    std::this_thread::sleep_for(ms(10));
  }
#endif
}

#if LV_GLOO
// gloo_options: the devices torch.distributed's ProcessGroupGloo binding
// picks: GLOO_SOCKET_IFNAME's interfaces, else the host name's address.
c10::intrusive_ptr<c10d::ProcessGroupGloo::Options> gloo_options(ms timeout) {
  auto o = c10d::ProcessGroupGloo::Options::create(timeout);
  const char *ifs = std::getenv("GLOO_SOCKET_IFNAME");
  std::string list = ifs ? ifs : "";
  for (size_t at = 0; at < list.size();) {
    size_t end = list.find(',', at);
    if (end == std::string::npos) end = list.size();
    if (end > at)
      o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(list.substr(at, end - at)));
    at = end + 1;
  }
  if (o->devices.empty()) o->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  return o;
}
#endif

// run calls f with whichever group g holds and waits for its work.
template <typename F>
void run(lv_pg g, F f) {
#if LV_GLOO
  if (g->gloo) {
    f(*g->gloo)->wait();
    return;
  }
#endif
#if LV_NCCL
  if (g->nccl) {
    f(*g->nccl)->wait();
    return;
  }
#endif
  (void)f;
  TORCH_CHECK(false, "distributed: the process group is closed");
}

}  // namespace
#endif

extern "C" {

void lv_dist_backends(int *gloo, int *nccl) {
  *gloo = LV_GLOO;
  *nccl = LV_NCCL;
}

lv_err lv_dist_new(const char *backend, const char *host, int port, int rank, int world,
                   int agent_store, int attempt, int64_t timeout_ms, lv_pg *out) {
  LV_TRY({
#if LV_WITH_C10D
    std::string b = backend;
    TORCH_CHECK(b == "gloo" || b == "nccl", "distributed: unknown backend ", b);
    TORCH_CHECK(b != "gloo" || LV_GLOO, "distributed: this shim was built without Gloo (libtorch ",
                TORCH_VERSION, "; Gloo's headers were missing)");
    TORCH_CHECK(b != "nccl" || LV_NCCL, "distributed: this shim was built without NCCL (build kind ",
                lv_build_kind(), ")");
    ms timeout(timeout_ms);
    auto base = store(host, port, rank, world, agent_store != 0, attempt, timeout);
    auto pg = std::make_unique<lv_pg_s>();
    // init_process_group's prefixes: "default_pg", then the group's name
    // "0" (from 2.0 on "0/", then the first device type the backend serves:
    // Gloo's one backend, for CPU and CUDA tensors, under "cpu/", NCCL's under
    // "cuda/").
    pg->store = c10::make_intrusive<c10d::PrefixStore>("default_pg", base);
#if LV_TORCH_AT_LEAST(2, 0)
    auto group = c10::make_intrusive<c10d::PrefixStore>("0/", pg->store);
    auto on = [&](const char *device) -> c10::intrusive_ptr<c10d::Store> {
      return c10::make_intrusive<c10d::PrefixStore>(std::string(device) + "/", group);
    };
#else
    auto group = c10::make_intrusive<c10d::PrefixStore>("0", pg->store);
    auto on = [&](const char *) -> c10::intrusive_ptr<c10d::Store> { return group; };
#endif
    (void)on;
    // 2.x sets each backend's sequence number as soon as it is made (rank 0
    // writes it to the backend's store, the others wait for it), 1.13 after
    // the store barrier; the order is the Python rank's.
#if LV_GLOO
    if (b == "gloo") {
      pg->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(on("cpu"), rank, world, gloo_options(timeout));
#if LV_TORCH_AT_LEAST(2, 0)
      pg->gloo->setSequenceNumberForGroup();
#endif
    }
#endif
#if LV_NCCL
    if (b == "nccl") {
      auto o = c10d::ProcessGroupNCCL::Options::create();
      o->timeout = timeout;
      pg->nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(on("cuda"), rank, world, o);
#if LV_TORCH_AT_LEAST(2, 0)
      pg->nccl->setSequenceNumberForGroup();
#endif
    }
#endif
    store_barrier(*pg->store, world, timeout);
#if !LV_TORCH_AT_LEAST(2, 0)
#if LV_GLOO
    if (pg->gloo) pg->gloo->setSequenceNumberForGroup();
#endif
#if LV_NCCL
    if (pg->nccl) pg->nccl->setSequenceNumberForGroup();
#endif
#endif
    *out = pg.release();
#else
    (void)backend, (void)host, (void)port, (void)rank, (void)world, (void)agent_store,
        (void)attempt, (void)timeout_ms, (void)out;
    TORCH_CHECK(false, "distributed: libtorch ", TORCH_VERSION, " has no c10d headers");
#endif
  })
}

lv_err lv_dist_allreduce(lv_pg g, lv_tensor t) {
  LV_TRY({
#if LV_WITH_C10D
    std::vector<at::Tensor> ts{lv::R(t, "tensor")};
    run(g, [&](auto &pg) { return pg.allreduce(ts, c10d::AllreduceOptions()); });
#else
    (void)g, (void)t;
    TORCH_CHECK(false, "distributed: no c10d in this shim");
#endif
  })
}

lv_err lv_dist_broadcast(lv_pg g, lv_tensor t, int root) {
  LV_TRY({
#if LV_WITH_C10D
    std::vector<at::Tensor> ts{lv::R(t, "tensor")};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    run(g, [&](auto &pg) { return pg.broadcast(ts, o); });
#else
    (void)g, (void)t, (void)root;
    TORCH_CHECK(false, "distributed: no c10d in this shim");
#endif
  })
}

lv_err lv_dist_barrier(lv_pg g) {
  LV_TRY({
#if LV_WITH_C10D
    run(g, [&](auto &pg) { return pg.barrier(c10d::BarrierOptions()); });
#else
    (void)g;
    TORCH_CHECK(false, "distributed: no c10d in this shim");
#endif
  })
}

void lv_dist_free(lv_pg g) { delete g; }

}  // extern "C"
