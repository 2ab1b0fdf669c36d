package torchbind

import (
	"errors"
	"sync"
	"testing"
)

// TestRuntimesKeepToThemselves runs two runtimes on two goroutines at once,
// each opening a scope per round while the other makes and frees tensors:
// each scope owns exactly the tensors its own runtime made (4 a round), a
// tensor the other runtime keeps for itself survives every one of this
// runtime's scopes, and each runtime runs its own thread count.
func TestRuntimesKeepToThemselves(t *testing.T) {
	t.Parallel()
	const rounds = 200
	var wg sync.WaitGroup
	start := make(chan struct{})
	for k, threads := range []int{1, 2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rt, err := NewRuntime(Settings{Threads: threads})
			if err != nil {
				t.Error(err)
				return
			}
			defer rt.Close()
			<-start
			err = rt.Do(func() error {
				if n := NumThreads(); n != threads {
					t.Errorf("runtime %d: %d threads, want %d", k, n, threads)
				}
				mine := Full([]int64{3}, float64(k), Options{}) // in no scope
				defer mine.Close()
				for i := range rounds {
					WithScope(func(s *Scope) {
						a := Full([]int64{3}, float64(i), Options{})
						b := a.Add(mine).MulScalar(2).AddScalar(1)
						if n := s.Len(); n != 4 {
							t.Errorf("runtime %d round %d: its scope owns %d tensors, want 4", k, i, n)
						}
						if got, want := b.Float64s()[0], 2*float64(i+k)+1; got != want {
							t.Errorf("runtime %d round %d: %v, want %v", k, i, got, want)
						}
					})
					if mine.Closed() {
						return errors.New("a scope freed a tensor made outside it")
					}
				}
				return nil
			})
			if err != nil {
				t.Errorf("runtime %d: %v", k, err)
			}
		}()
	}
	close(start)
	wg.Wait()
}

// TestScopeDoesNotTakeOtherGoroutinesTensors: a scope open on one
// goroutine does not take the tensors another goroutine makes meanwhile
// (before runtimes, scopes were one process-wide stack and did).
func TestScopeDoesNotTakeOtherGoroutinesTensors(t *testing.T) {
	t.Parallel()
	opened, made := make(chan struct{}), make(chan *Tensor)
	done := make(chan struct{})
	go func() {
		WithScope(func(s *Scope) {
			close(opened)
			x := <-made
			if s.Len() != 0 {
				t.Errorf("the scope owns %d tensors; it made none", s.Len())
			}
			_ = x
		})
		close(done)
	}()
	<-opened
	var x *Tensor
	if err := Try(func() { x = Ones([]int64{2}, Options{}) }); err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	made <- x
	<-done
	if x.Closed() {
		t.Fatal("another goroutine's scope freed this goroutine's tensor")
	}
}

// TestRuntimeDo: Do runs on the runtime's thread whichever goroutine calls
// it, returns errors as they are and *Error panics as errors, runs nested
// calls at once, raises other panics in the caller, and refuses work once
// the runtime is closed.
func TestRuntimeDo(t *testing.T) {
	t.Parallel()
	rt, err := NewRuntime(Settings{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	var tids [2]int
	var wg sync.WaitGroup
	for i := range tids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := rt.Do(func() error { tids[i] = threadID(); return nil }); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if tids[0] != rt.tid || tids[1] != rt.tid {
		t.Errorf("work ran on threads %v, not the runtime's %d", tids, rt.tid)
	}
	mine := errors.New("mine")
	if err := rt.Do(func() error { return rt.Do(func() error { return mine }) }); err != mine {
		t.Errorf("nested Do returned %v, want the error itself", err)
	}
	err = rt.Do(func() error { Ones([]int64{2}, Options{}).Add(Ones([]int64{3}, Options{})); return nil })
	if !IsError(err) {
		t.Errorf("a shape mismatch gave %v, want a torch error", err)
	}
	func() {
		defer func() {
			if r := recover(); r != "bug" {
				t.Errorf("recovered %v, want the work's own panic", r)
			}
		}()
		_ = rt.Do(func() error { panic("bug") })
	}()
	if err := rt.Do(func() error { return nil }); err != nil {
		t.Errorf("after a panic: %v", err)
	}
	rt.Close()
	rt.Close()
	if err := rt.Do(func() error { return nil }); !errors.Is(err, ErrRuntimeClosed) {
		t.Errorf("Do after Close: %v", err)
	}
	if _, err := NewRuntime(Settings{Threads: -1}); err == nil {
		t.Error("a runtime of -1 threads started")
	}
}

// TestRuntimeCUDAFlags: CUDA runtimes open at once must agree on the
// process-wide TF32 and benchmark settings, and the last to close restores
// libtorch's. CPU runtimes hold none. CUDA only: on the CPU these
// settings do not exist.
func TestRuntimeCUDAFlags(t *testing.T) {
	if CUDADeviceCount() == 0 {
		t.Skip("no CUDA device")
	}
	c0, d0, b0 := cudaFlagsNow()
	a, err := NewRuntime(Settings{Device: CUDA(0), Precision: TF32, CuDNNBenchmark: true})
	if err != nil {
		t.Fatal(err)
	}
	if c, d, b := cudaFlagsNow(); !c || !d || !b {
		t.Errorf("tf32 runtime with benchmark: cuBLAS %v cuDNN %v benchmark %v", c, d, b)
	}
	if _, err := NewRuntime(Settings{Device: CUDA(0), Precision: FP32}); err == nil {
		t.Error("an fp32 CUDA runtime started beside a tf32 one")
	}
	cpu, err := NewRuntime(Settings{Precision: FP32})
	if err != nil {
		t.Fatalf("a CPU runtime beside a CUDA one: %v", err)
	}
	cpu.Close()
	a.Close()
	if c, d, b := cudaFlagsNow(); c != c0 || d != d0 || b != b0 {
		t.Errorf("after Close: cuBLAS %v cuDNN %v benchmark %v, want %v %v %v", c, d, b, c0, d0, b0)
	}
}
