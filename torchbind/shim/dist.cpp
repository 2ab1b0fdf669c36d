// dist.cpp - torch.distributed's default process group through c10d: the
// TCPStore rendezvous, ProcessGroupGloo (CPU) or ProcessGroupNCCL (CUDA),
// and the few collectives data-parallel training needs. Nothing here is our
// own transport: the bytes on the wire are c10d's and Gloo's/NCCL's, and the
// store keys are those torch.distributed.init_process_group uses, so a Go
// rank and a Python rank can sit in one group.
#include "common.h"

#include <torch/version.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
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

// Where rank 0's store listens. PyTorch's TCPStore listens on every
// interface ("[::]" or 0.0.0.0), although MASTER_ADDR names one address:
// an unauthenticated store then answers the whole network. Unless asked to
// listen on all (lv_dist_new's listen_all), the shim binds it to
// MASTER_ADDR's address: libtorch >= 2.4 takes a socket we bind and listen
// on ourselves (TCPStoreOptions::masterListenFd); older ones have no such
// option, so the shim wraps bind(2) for the one call that starts the
// server (LV_BIND_WRAP below).
#define LV_LISTEN_FD LV_TORCH_AT_LEAST(2, 4)

#if LV_WITH_C10D
namespace {

using ms = std::chrono::milliseconds;

// resolve returns host:port's first TCP address (a numeric address or a
// name the resolver knows), or fails naming it.
sockaddr_storage resolve(const std::string &host, int port, socklen_t *len) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  std::string p = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), p.c_str(), &hints, &res);
  TORCH_CHECK(rc == 0 && res != nullptr, "distributed: MASTER_ADDR ", host, ": ", ::gai_strerror(rc));
  sockaddr_storage out{};
  std::memcpy(&out, res->ai_addr, res->ai_addrlen);
  *len = res->ai_addrlen;
  ::freeaddrinfo(res);
  return out;
}

#if !LV_LISTEN_FD
// The bind(2) wrap, for libtorch < 2.4 only. It is active on one thread,
// for the duration of one TCPStore construction (BindTo), and changes only
// a bind of that port to the wildcard address into a bind to MASTER_ADDR
// (as an IPv4-mapped address on c10d's dual-stack IPv6 socket); every
// other bind of the process passes through untouched.
thread_local const sockaddr_storage *bind_to = nullptr;
thread_local int bind_port = -1;

struct BindTo {
  sockaddr_storage addr;
  BindTo(const std::string &host, int port) {
    socklen_t len;
    addr = resolve(host, port, &len);
    bind_to = &addr;
    bind_port = port;
  }
  ~BindTo() {
    bind_to = nullptr;
    bind_port = -1;
  }
  BindTo(const BindTo &) = delete;
  BindTo &operator=(const BindTo &) = delete;
};

// What the wrap does with one bind: pass it through, bind to *out instead,
// or refuse it (an IPv4 wildcard when MASTER_ADDR is IPv6: never every
// interface).
enum class Bind { pass, replace, refuse };

// rewrite says what to do with fd's bind to a, filling *out for replace.
Bind rewrite(int fd, const sockaddr *a, socklen_t alen, sockaddr_storage *out, socklen_t *olen) {
  if (bind_to == nullptr || a == nullptr) return Bind::pass;
  const sockaddr_storage &want = *bind_to;
  if (a->sa_family == AF_INET && alen >= sizeof(sockaddr_in)) {
    auto in = reinterpret_cast<const sockaddr_in *>(a);
    if (in->sin_addr.s_addr != htonl(INADDR_ANY) || ntohs(in->sin_port) != bind_port) return Bind::pass;
    if (want.ss_family != AF_INET) return Bind::refuse;  // an IPv6 MASTER_ADDR: only an IPv6 socket takes it
    std::memcpy(out, &want, sizeof(sockaddr_in));
    *olen = sizeof(sockaddr_in);
    return Bind::replace;
  }
  if (a->sa_family == AF_INET6 && alen >= sizeof(sockaddr_in6)) {
    auto in6 = reinterpret_cast<const sockaddr_in6 *>(a);
    if (std::memcmp(&in6->sin6_addr, &in6addr_any, sizeof(in6_addr)) != 0 || ntohs(in6->sin6_port) != bind_port)
      return Bind::pass;
    sockaddr_in6 o = *in6;
    if (want.ss_family == AF_INET6) {
      o.sin6_addr = reinterpret_cast<const sockaddr_in6 *>(&want)->sin6_addr;
      o.sin6_scope_id = reinterpret_cast<const sockaddr_in6 *>(&want)->sin6_scope_id;
    } else {
      // ::ffff:a.b.c.d on the dual-stack socket: IPv4 connections to
      // MASTER_ADDR only
      unsigned char *b = o.sin6_addr.s6_addr;
      std::memset(b, 0, 10);
      b[10] = b[11] = 0xff;
      std::memcpy(b + 12, &reinterpret_cast<const sockaddr_in *>(&want)->sin_addr, 4);
    }
    (void)fd;
    std::memcpy(out, &o, sizeof(o));
    *olen = sizeof(o);
    return Bind::replace;
  }
  return Bind::pass;
}
#endif

// store is the rendezvous store as torch.distributed builds it for env://:
// under torchrun's static rendezvous the agent hosts the TCPStore and every
// worker is a client (TORCHELASTIC_USE_AGENT_STORE), in 1.13 under
// "/worker/attempt_<n>", from 2.4 on without a prefix (torchrun makes a new
// store for each restart); otherwise rank 0 hosts it.
// Rank 0 (the server) binds to host unless listen_all.
c10::intrusive_ptr<c10d::Store> store(const std::string &host, int port, int rank,
                                      int world, bool agent, int attempt, ms timeout, bool listen_all) {
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
  c10::intrusive_ptr<c10d::Store> s;
  if (o.isServer && !listen_all) {
#if LV_LISTEN_FD
    socklen_t len;
    sockaddr_storage a = resolve(host, port, &len);
    int fd = ::socket(a.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    TORCH_CHECK(fd >= 0, "distributed: socket: ", std::strerror(errno));
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, reinterpret_cast<sockaddr *>(&a), len) != 0 || ::listen(fd, 2048) != 0) {
      int e = errno;
      ::close(fd);
      TORCH_CHECK(false, "distributed: rank 0 cannot host the store at MASTER_ADDR:MASTER_PORT = ", host, ":",
                  port, ": ", std::strerror(e));
    }
    o.masterListenFd = fd;
    s = c10::make_intrusive<c10d::TCPStore>(host, o);
#else
    BindTo only(host, port);
    s = c10::make_intrusive<c10d::TCPStore>(host, o);
#endif
  } else {
    s = c10::make_intrusive<c10d::TCPStore>(host, o);
  }
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
                   int agent_store, int attempt, int64_t timeout_ms, int listen_all, lv_pg *out) {
  LV_TRY({
#if LV_WITH_C10D
    std::string b = backend;
    TORCH_CHECK(b == "gloo" || b == "nccl", "distributed: unknown backend ", b);
    TORCH_CHECK(b != "gloo" || LV_GLOO, "distributed: this shim was built without Gloo (libtorch ",
                TORCH_VERSION, "; Gloo's headers were missing)");
    TORCH_CHECK(b != "nccl" || LV_NCCL, "distributed: this shim was built without NCCL (build kind ",
                lv_build_kind(), ")");
    ms timeout(timeout_ms);
    auto base = store(host, port, rank, world, agent_store != 0, attempt, timeout, listen_all != 0);
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
        (void)attempt, (void)timeout_ms, (void)listen_all, (void)out;
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

#if LV_WITH_C10D && !LV_LISTEN_FD
// bind(2) as libc's, except on the thread and for the call BindTo marks
// (see rewrite). The shim precedes libc among the executable's libraries,
// so libtorch's call reaches this one.
int bind(int fd, const struct sockaddr *a, socklen_t len) noexcept {
  using bind_fn = int (*)(int, const struct sockaddr *, socklen_t);
  static bind_fn real = reinterpret_cast<bind_fn>(::dlsym(RTLD_NEXT, "bind"));
  if (real == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  sockaddr_storage o;
  socklen_t olen;
  switch (rewrite(fd, a, len, &o, &olen)) {
    case Bind::replace:
      return real(fd, reinterpret_cast<const sockaddr *>(&o), olen);
    case Bind::refuse:
      errno = EAFNOSUPPORT;
      return -1;
    case Bind::pass:
      break;
  }
  return real(fd, a, len);
}
#endif

}  // extern "C"
