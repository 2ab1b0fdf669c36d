package torchbind

// #include "ludvae.h"
import "C"

import "sync"

// Large CPU tensors are allocated from a cache of freed mappings
// (shim/alloc.cpp) instead of fresh pages from the kernel each time: a
// training step or a synthesis tile frees and re-allocates the same shapes
// over and over, and re-faulting them cost up to a quarter of a synthesis.
// Live plus cached bytes stay within an eighth above the largest live
// total seen so far (the slack that lets a step's mix of sizes stay cached).
// NewRuntime installs it, once per process; tensors made before keep the
// allocator that made them.
var useCachingCPUAllocator = sync.OnceFunc(func() { C.lv_use_caching_cpu_allocator() })

// CPUCacheStats reports the CPU allocator's large blocks: bytes held by
// tensors, bytes cached for reuse, the largest live total so far, and the
// mappings made (all 0 before the first Runtime). live + cached ≤
// top + top/8 always holds.
func CPUCacheStats() (live, cached, top, maps int64) {
	var l, c, p, m C.int64_t
	C.lv_cpu_cache_stats(&l, &c, &p, &m)
	return int64(l), int64(c), int64(p), int64(m)
}
