// graph.cpp - CUDA graphs: a training step recorded once, then replayed with
// one launch instead of hundreds (libtorch's at::cuda::CUDAGraph, which also
// gives the recording a private memory pool).
#include "common.h"

#ifdef LV_WITH_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>

struct lv_graph_s {
  explicit lv_graph_s(c10::DeviceIndex d) : side(c10::cuda::getStreamFromPool(false, d)) {}
  at::cuda::CUDAGraph graph;
  c10::cuda::CUDAStream side;
  c10::optional<c10::cuda::CUDAStream> prev;  // the thread's stream between begin and end
  bool captured = false;
};

namespace {
void restore(lv_graph g) {
  if (g->prev) c10::cuda::setCurrentCUDAStream(*g->prev);
  g->prev.reset();
}
}  // namespace
#else
struct lv_graph_s {};
#endif

extern "C" {

lv_err lv_graph_new(int dev_index, lv_graph *out) {
  LV_TRY({
    auto d = lv::device(LV_CUDA, dev_index);
#ifdef LV_WITH_CUDA
    *out = new lv_graph_s(d.index());
#else
    (void)d, (void)out;
#endif
  })
}

lv_err lv_graph_begin(lv_graph g, int capture) {
  LV_TRY({
#ifdef LV_WITH_CUDA
    TORCH_CHECK(!g->prev, "CUDA graph: begin called twice without end");
    TORCH_CHECK(!(capture && g->captured), "CUDA graph: already recorded");
    // The side stream must see everything queued before (the inputs).
    c10::cuda::device_synchronize();
    g->prev = c10::cuda::getCurrentCUDAStream(g->side.device_index());
    c10::cuda::setCurrentCUDAStream(g->side);
    if (capture) {
      try {
        g->graph.capture_begin();
      } catch (...) {
        restore(g);
        throw;
      }
    }
#else
    (void)g, (void)capture;
    TORCH_CHECK(false, "CUDA graphs need the CUDA build of the shim");
#endif
  })
}

lv_err lv_graph_end(lv_graph g, int capture) {
  LV_TRY({
#ifdef LV_WITH_CUDA
    TORCH_CHECK(g->prev, "CUDA graph: end without begin");
    try {
      if (capture) {
        g->graph.capture_end();
        g->captured = true;
      } else {
        g->side.synchronize();
      }
    } catch (...) {
      restore(g);
      throw;
    }
    restore(g);
#else
    (void)g, (void)capture;
    TORCH_CHECK(false, "CUDA graphs need the CUDA build of the shim");
#endif
  })
}

lv_err lv_graph_replay(lv_graph g) {
  LV_TRY({
#ifdef LV_WITH_CUDA
    TORCH_CHECK(g->captured, "CUDA graph: replay before a recording");
    g->graph.replay();
#else
    (void)g;
    TORCH_CHECK(false, "CUDA graphs need the CUDA build of the shim");
#endif
  })
}

void lv_graph_free(lv_graph g) { delete g; }

}  // extern "C"
