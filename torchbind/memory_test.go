package torchbind

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// residentBytes reads this process's resident set size from /proc.
func residentBytes(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// settledLiveTensors counts live handles once garbage collection has run the
// finalizers of whatever earlier tests forgot (they run after GC returns, on
// their own goroutine), so that only this test's handles can make a change.
func settledLiveTensors() int64 {
	n := int64(-1)
	for i := 0; i < 50; i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
		m := LiveTensors()
		if m == n {
			break
		}
		n = m
	}
	return n
}

// TestTrainingMemoryIsFlat runs 2,000 Adam steps of a small conv net, one
// scope per step, and checks that no tensor handle leaks and that resident
// memory (and CUDA memory, where present) stops growing after warm-up.
func TestTrainingMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 steps; run without -short")
	}
	dev := CPU
	if CUDADeviceCount() > 0 {
		dev = CUDA(0)
	}
	inRuntime(t, Settings{Device: dev}, func() { trainSmallNet(t, dev) })
}

// trainSmallNet is TestTrainingMemoryIsFlat's run, on a runtime's thread.
func trainSmallNet(t *testing.T, dev Device) {
	g := NewGenerator(7, CPU)
	defer g.Close()
	var params []*Tensor
	mustTry(t, func() {
		for _, s := range [][]int64{{8, 3, 3, 3}, {8}, {3, 8, 3, 3}, {3}} {
			params = append(params, Randn(s, Options{}, g).MulScalar(0.1).ToDevice(dev).Persist().SetRequiresGrad(true))
		}
	})
	opt := NewAdam(params, DefaultAdam)
	defer opt.Close()
	step := func() {
		WithScope(func(*Scope) {
			mustTry(t, func() {
				x := Randn([]int64{4, 3, 16, 16}, Options{}, g).ToDevice(dev)
				h := Conv2d(x, params[0], params[1], Conv2dOptions{Padding: [2]int64{1, 1}}).ReluInPlace()
				y := Conv2d(h, params[2], params[3], Conv2dOptions{Padding: [2]int64{1, 1}})
				loss := MSELoss(y, x, ReduceMean)
				opt.ZeroGrad()
				loss.Backward()
				opt.Step()
				_ = loss.Item()
			})
		})
	}
	const warmup, total = 300, 2000
	for i := 0; i < warmup; i++ {
		step()
	}
	liveAfterWarmup, rssAfterWarmup := settledLiveTensors(), residentBytes(t)
	var cudaAfterWarmup int64
	if dev.IsCUDA() {
		cudaAfterWarmup, _ = CUDAMemory(dev)
	}
	for i := warmup; i < total; i++ {
		step()
	}
	if live := settledLiveTensors(); live != liveAfterWarmup {
		t.Fatalf("live tensor handles went from %d to %d over %d steps", liveAfterWarmup, live, total-warmup)
	}
	// A leak of one batch per step would add 1,700 × 12 KiB ≈ 20 MiB; allocator
	// noise after warm-up is well under 8 MiB.
	if grow := residentBytes(t) - rssAfterWarmup; grow > 8<<20 {
		t.Fatalf("resident memory grew by %d KiB over %d steps after warm-up", grow>>10, total-warmup)
	}
	if dev.IsCUDA() {
		if a, _ := CUDAMemory(dev); a != cudaAfterWarmup {
			t.Fatalf("CUDA allocated memory went from %d to %d bytes", cudaAfterWarmup, a)
		}
	}
}

func TestScopeFreesAndKeeps(t *testing.T) {
	before := LiveTensors()
	var kept *Tensor
	outer := NewScope()
	mustTry(t, func() {
		WithScope(func(s *Scope) {
			a := Ones([]int64{4}, Options{})
			b := a.MulScalar(2)
			kept = s.Keep(b.AddScalar(1))
			if s.Len() != 2 {
				t.Fatalf("inner scope owns %d tensors, want 2", s.Len())
			}
		})
	})
	if kept.Closed() || kept.Float64s()[0] != 3 {
		t.Fatal("kept tensor was freed with the inner scope")
	}
	if outer.Len() != 1 {
		t.Fatalf("outer scope owns %d tensors, want the kept one", outer.Len())
	}
	outer.Close()
	outer.Close() // idempotent
	if !kept.Closed() || LiveTensors() != before {
		t.Fatalf("after closing: kept closed=%v, live %d (was %d)", kept.Closed(), LiveTensors(), before)
	}
}

func TestScopeClosesAfterPanic(t *testing.T) {
	before := LiveTensors()
	err := Try(func() {
		WithScope(func(*Scope) {
			Ones([]int64{2}, Options{})
			NewScope() // left open by the panic below
			Ones([]int64{2}, Options{})
			Ones([]int64{2}, Options{}).Add(Ones([]int64{3}, Options{}))
		})
	})
	if err == nil {
		t.Fatal("expected a shape error")
	}
	if LiveTensors() != before {
		t.Fatalf("live tensors %d, want %d", LiveTensors(), before)
	}
}
