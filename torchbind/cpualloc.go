package torchbind

// #include "ludvae.h"
import "C"

import "sync"

// Large CPU tensors are allocated from a cache of freed mappings
// (shim/alloc.cpp) instead of fresh pages from the kernel each time: a
// training step or a synthesis tile frees and re-allocates the same shapes
// over and over, and re-faulting them cost up to a quarter of a synthesis.
// The cache never holds more than the largest live total seen so far.
// NewRuntime installs it, once per process; tensors made before keep the
// allocator that made them.
var useCachingCPUAllocator = sync.OnceFunc(func() { C.lv_use_caching_cpu_allocator() })

// CPUCacheStats reports the CPU allocator's large blocks: bytes held by
// tensors, bytes cached for reuse, and the most ever mapped at once (all 0
// before the first Runtime).
func CPUCacheStats() (live, cached, peak int64) {
	var l, c, p C.int64_t
	C.lv_cpu_cache_stats(&l, &c, &p)
	return int64(l), int64(c), int64(p)
}
