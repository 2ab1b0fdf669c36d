// alloc.cpp - a CPU allocator that keeps freed large blocks for reuse.
//
// libtorch's default CPU allocator is malloc. glibc maps each block above its
// mmap threshold (at most 32 MiB) freshly from the kernel and unmaps it on
// free, so every activation of every step is page-faulted and zeroed again:
// under perf that was a quarter of a 256x256 synthesis and 4 % of a training
// step. Raising the threshold instead (mallopt) removed the faults but let the
// heap fragment, and the peak grew by a quarter.
//
// Here large blocks are their own mappings, kept on free in a cache keyed by
// (rounded) size, since the same shapes come back every step and every tile;
// a request takes the last freed block of its size, else one up to twice as
// large.
// The cache stays within an eighth above the largest live total seen so
// far: a mapping is made only when live plus cached bytes stay within that
// bound, and cached blocks are unmapped first to make room. (With no slack
// at all, a training step's mix of 4, 2, 1 and 0.5 MiB blocks churned: a
// cached 1 MiB block cannot serve a 2 MiB request, so two were unmapped to
// map one, and a later 1 MiB request took a 2 MiB block; 9–14 mappings a
// step, 2,300–5,600 page faults. An eighth holds the mix: 170 faults a
// step, for 2–5 % more peak memory.) Small blocks go to the default
// allocator.
#include <sys/mman.h>

#include <c10/core/CPUAllocator.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "common.h"

namespace {

constexpr size_t kLarge = size_t(1) << 18;  // smaller blocks stay with malloc

// rounded lets nearby sizes (image-edge tiles) share blocks: the slack is
// under 1/32 of a block from 4 MiB up, and under a quarter below.
size_t rounded(size_t n) {
  size_t step = size_t(1) << 16;
  while (step * 64 < n && step < (size_t(1) << 40)) step <<= 1;
  return (n + step - 1) / step * step;
}

class CachingCPUAllocator final : public c10::Allocator {
 public:
  explicit CachingCPUAllocator(c10::Allocator *small) : small_(small) {}

  // libtorch 1.x declares allocate const, 2.3+ not; each overload serves one.
  c10::DataPtr allocate(size_t n) const {
    return const_cast<CachingCPUAllocator *>(this)->take(n);
  }
  c10::DataPtr allocate(size_t n) { return take(n); }
  // oneDNN allocates through raw_allocate, which needs a deleter that
  // takes the bare pointer: release tells large blocks from small ones. (A
  // small block's DataPtr carries the default allocator's own deleter, not
  // this one; raw_deallocate still frees it rightly, through release.)
  c10::DeleterFnPtr raw_deleter() const override { return &release; }
  void copy_data(void *dest, const void *src, std::size_t count) const {
    if (count) std::memcpy(dest, src, count);
  }

  void stats(int64_t *live, int64_t *cached, int64_t *top, int64_t *maps) {
    std::lock_guard<std::mutex> g(mu_);
    *live = int64_t(live_), *cached = int64_t(cached_), *top = int64_t(top_), *maps = int64_t(maps_);
  }

 private:
  c10::DataPtr take(size_t n) {
    if (n < kLarge) return small_->allocate(n);
    size_t size = rounded(n);
    void *p;
    {
      std::lock_guard<std::mutex> g(mu_);
      p = reuse(size);
      if (p) {
        live_ += size;
        top_ = std::max(top_, live_);
        sizes_[p] = size;
        return c10::DataPtr(p, p, &release, c10::Device(c10::DeviceType::CPU));
      }
      make_room(size);
    }
    p = map(size);
    if (!p) {  // the kernel refused: give back the whole cache, then try once more
      std::lock_guard<std::mutex> g(mu_);
      make_room(SIZE_MAX);
    }
    if (!p) p = map(size);
    TORCH_CHECK(p, "CPU allocator: out of memory allocating ", size, " bytes");
    std::lock_guard<std::mutex> g(mu_);
    live_ += size;
    top_ = std::max(top_, live_);
    maps_++;
    sizes_[p] = size;
    return c10::DataPtr(p, p, &release, c10::Device(c10::DeviceType::CPU));
  }

  static void *map(size_t size) {
    void *p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
  }

  // reuse takes a cached block for size, and sets size to the block's: the
  // most recently freed of exactly that size (likeliest to be in the CPU's
  // cache), else the smallest up to twice as large, which spares a fresh
  // mapping its page faults.
  void *reuse(size_t &size) {
    auto it = free_.upper_bound(size);
    if (it != free_.begin() && std::prev(it)->first == size) return pop(std::prev(it), size);
    if (it != free_.end() && it->first <= 2 * size) return pop(it, size);
    return nullptr;
  }

  void *pop(std::multimap<size_t, void *>::iterator it, size_t &size) {
    void *p = it->second;
    size = it->first;
    cached_ -= size;
    free_.erase(it);
    return p;
  }

  // make_room unmaps cached blocks, largest first, until a new mapping of
  // size fits within an eighth above the largest live total: past that
  // nothing cached is worth keeping. SIZE_MAX empties the cache.
  void make_room(size_t size) {
    while (!free_.empty() && (size == SIZE_MAX || live_ + cached_ + size > top_ + top_ / 8)) {
      auto last = std::prev(free_.end());
      munmap(last->second, last->first);
      cached_ -= last->first;
      free_.erase(last);
    }
  }

  static void release(void *p);

  void give_back(void *p) {
    std::unique_lock<std::mutex> g(mu_);
    auto it = sizes_.find(p);
    if (it == sizes_.end()) {  // a small block, via raw_deallocate
      g.unlock();
      small_->raw_deleter()(p);
      return;
    }
    size_t size = it->second;
    sizes_.erase(it);
    live_ -= size;
    free_.emplace(size, p);
    cached_ += size;
  }

  c10::Allocator *small_;
  std::mutex mu_;
  std::multimap<size_t, void *> free_;      // cached blocks by size
  std::unordered_map<void *, size_t> sizes_;  // live blocks
  size_t live_ = 0, cached_ = 0;
  size_t top_ = 0;   // the largest live total so far
  size_t maps_ = 0;  // mappings made
};

CachingCPUAllocator *the_allocator = nullptr;

void CachingCPUAllocator::release(void *p) { the_allocator->give_back(p); }

}  // namespace

extern "C" {

void lv_use_caching_cpu_allocator(void) {
  static std::once_flag once;
  std::call_once(once, [] {
    // Never freed: tensors made before or after may outlive any owner.
    c10::Allocator *small = c10::GetCPUAllocator();
    if (!small->raw_deleter()) return;  // its small blocks could not be freed raw
    the_allocator = new CachingCPUAllocator(small);
    c10::SetCPUAllocator(the_allocator, /*priority=*/1);
  });
}

void lv_cpu_cache_stats(int64_t *live, int64_t *cached, int64_t *top, int64_t *maps) {
  *live = *cached = *top = *maps = 0;
  if (the_allocator) the_allocator->stats(live, cached, top, maps);
}

}  // extern "C"
