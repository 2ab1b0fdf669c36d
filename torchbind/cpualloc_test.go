package torchbind

import (
	"sync"
	"testing"
)

// TestCPUCacheReusesFreedBlocks follows the large-block cache through
// allocate, free, reuse and eviction, and checks its one promise: what it
// maps (live plus cached) never exceeds the largest live total by more
// than an eighth.
func TestCPUCacheReusesFreedBlocks(t *testing.T) {
	inRuntime(t, Settings{}, func() { followCPUCache(t) })
}

// withinSlack checks the cache's promise at this moment.
func withinSlack(t *testing.T, when string) {
	t.Helper()
	if l, c, top, _ := CPUCacheStats(); l+c > top+top/8 || l > top {
		t.Fatalf("%s: live %d + cached %d above the largest live total %d + an eighth", when, l, c, top)
	}
}

func followCPUCache(t *testing.T) {
	const mib = 1 << 20
	live0, _, _, _ := CPUCacheStats()
	WithScope(func(*Scope) {
		mustTry(t, func() {
			a := Full([]int64{1 << 20}, 7, Options{}) // 4 MiB
			l, c, _, _ := CPUCacheStats()
			blk := l - live0 // 4 MiB, or a cached block up to twice that
			if blk < 4*mib || blk > 8*mib {
				t.Fatalf("a 4 MiB tensor added %d live bytes", blk)
			}
			withinSlack(t, "after 4 MiB")
			a.Close()
			l2, c2, _, _ := CPUCacheStats()
			if l2 != live0 || c2-c != blk {
				t.Fatalf("after freeing it: live %d (want %d), cached grew by %d (want %d)", l2, live0, c2-c, blk)
			}
			// The block just freed comes back, and Zeros really zeroes it.
			b := Zeros([]int64{1 << 20}, Options{})
			if _, c3, _, _ := CPUCacheStats(); c2-c3 != blk {
				t.Fatalf("re-allocating 4 MiB took %d bytes from the cache, want %d", c2-c3, blk)
			}
			if s := b.Abs().Sum().Item(); s != 0 {
				t.Fatalf("Zeros over a reused block sums to %v", s)
			}
			b.Close()
			// A block that with the live bytes alone exceeds the bound (the
			// largest live total and an eighth) may not sit beside a cache:
			// the cache is unmapped, and the new largest total is the live one.
			_, _, top, _ := CPUCacheStats()
			big := Zeros([]int64{(top + top/8 + 8*mib) / 4}, Options{})
			if l4, c4, top4, _ := CPUCacheStats(); c4 != 0 || top4 != l4 {
				t.Fatalf("after a block above the bound: live %d, cached %d (want 0), largest live total %d (want live)", l4, c4, top4)
			}
			big.Close()
			withinSlack(t, "after freeing the big block")
		})
	})
}

// TestCPUCacheFromManyThreads allocates and frees large blocks from four
// runtimes (so four OS threads) at once; every byte comes back.
func TestCPUCacheFromManyThreads(t *testing.T) {
	var live0 int64
	inRuntime(t, Settings{}, func() { live0, _, _, _ = CPUCacheStats() })
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			rt, err := NewRuntime(Settings{Threads: 1})
			if err != nil {
				t.Error(err)
				return
			}
			defer rt.Close()
			err = rt.Do(func() error {
				for i := 0; i < 200; i++ {
					n := int64(1<<18 + (i%5)*(1<<16) + g*4096)
					WithScope(func(*Scope) {
						x := Full([]int64{n}, float64(g), Options{})
						if v := x.Sum().Item(); v != float64(g)*float64(n) {
							t.Errorf("goroutine %d: sum %v, want %v", g, v, float64(g)*float64(n))
						}
					})
				}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}(g)
	}
	wg.Wait()
	if live, cached, top, _ := CPUCacheStats(); live != live0 || live+cached > top+top/8 {
		t.Fatalf("after all frees: live %d (want %d), cached %d, largest live total %d", live, live0, cached, top)
	}
}
