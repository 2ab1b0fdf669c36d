package torchbind

// #include "ludvae.h"
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/ludvae/ludvae/internal/job"
)

// Settings are the libtorch state a Runtime works under.
type Settings struct {
	Device Device
	// Threads is the intra-op (OpenMP) thread count; 0 means one per CPU.
	Threads int
	// Precision is how float32 models compute ("" is FP32).
	Precision Precision
	// CuDNNBenchmark lets cuDNN time its convolution algorithms on the
	// first call with each new shape and keep the fastest
	// (torch.backends.cudnn.benchmark): worth it where shapes repeat, as
	// training crops do, and wrong where results must not depend on the
	// timing. No effect on the CPU.
	CuDNNBenchmark bool
}

// ParseSettings makes Settings from the command line's spellings of a
// device (ParseDevice), a thread count (CheckThreads) and a precision
// (ParsePrecision; "" is fp32). Its errors name the flags --device,
// --threads and --precision, which every command spells so.
func ParseSettings(device string, threads int, precision string) (Settings, error) {
	dev, err := ParseDevice(device)
	if err != nil {
		return Settings{}, fmt.Errorf("--device: %w", err)
	}
	if err := CheckThreads(threads); err != nil {
		return Settings{}, fmt.Errorf("--threads %w", err)
	}
	p := FP32
	if precision != "" {
		if p, err = ParsePrecision(precision); err != nil {
			return Settings{}, fmt.Errorf("--precision %w", err)
		}
	}
	return Settings{Device: dev, Threads: threads, Precision: p}, nil
}

// A Runtime owns libtorch's state for one piece of work (a training run, a
// synthesis run, a benchmark): an OS thread of its own, locked to it, that
// runs whatever Do is given; that thread's arena, from which the scopes
// opened in Do release their tensors; and the settings it applied and
// restores when it closes. Two runtimes do not see each other's tensors,
// scopes or thread counts.
//
// libtorch keeps much of its state per OS thread — the OpenMP thread count
// and team, grad mode, autocast — so the work must stay on the thread the
// settings were applied on: a goroutine that wandered would start new
// OpenMP teams whose idle threads spin against the working ones (a
// measured 10–60 % slowdown on 2 cores), and could run with a thread count
// some other work left on its new thread (and split its sums differently).
//
// TF32 and cuDNN's benchmark mode are process-wide: CUDA runtimes that are
// open at the same time must agree on them (NewRuntime says when they do
// not), and the last to close restores what was there before the first.
type Runtime struct {
	s         Settings
	work      chan func()
	quit      chan struct{}
	done      chan struct{}
	tid       int // the runtime's OS thread
	closeOnce sync.Once
}

// ErrRuntimeClosed is what Do returns once the runtime is closed.
var ErrRuntimeClosed = errors.New("torch: the runtime is closed")

// NewRuntime starts a runtime with settings s: its thread, locked, with
// s.Threads applied on it, and on a CUDA device s's TF32 (tf32 and bf16
// allow it) and cuDNN benchmark mode. The first runtime of a process also
// installs the caching CPU allocator (cpualloc.go). Close it when done.
func NewRuntime(s Settings) (*Runtime, error) {
	if s.Precision == "" {
		s.Precision = FP32
	}
	if _, err := ParsePrecision(string(s.Precision)); err != nil {
		return nil, fmt.Errorf("precision %w", err)
	}
	if err := CheckThreads(s.Threads); err != nil {
		return nil, fmt.Errorf("threads %w", err)
	}
	s.Threads = s.Workers()
	useCachingCPUAllocator()
	if err := holdCUDAFlags(s); err != nil {
		return nil, err
	}
	r := &Runtime{s: s, work: make(chan func()), quit: make(chan struct{}), done: make(chan struct{})}
	started := make(chan struct{})
	go r.serve(started)
	<-started
	return r, nil
}

// serve is the runtime's goroutine: it locks its thread, applies the
// thread count there, runs the work it is given, and restores the count
// before it lets the thread go. Work that ends its goroutine (t.Fatal in a
// test) ends the runtime, cleanly.
func (r *Runtime) serve(started chan<- struct{}) {
	runtime.LockOSThread()
	r.tid = threadID()
	arenas.Lock()
	a := arenaOf(r.tid)
	a.owned = true
	arenas.Unlock()
	prev := C.lv_get_num_threads()
	C.lv_set_num_threads(C.int(r.s.Threads))
	defer func() {
		C.lv_set_num_threads(prev)
		arenas.Lock()
		a.owned = false
		a.dropIfIdle()
		arenas.Unlock()
		close(r.done)
		runtime.UnlockOSThread()
	}()
	close(started)
	for {
		select {
		case f := <-r.work:
			f()
		case <-r.quit:
			return
		}
	}
}

// WithRuntime runs f on a new runtime with the settings that settings
// returns, and closes the runtime after f; settings' error is returned as
// it is. A command gives its work its runtime so:
//
//	tb.WithRuntime(cfg.RuntimeSettings, func(rt *tb.Runtime) error { return train.Run(ctx, rt, cfg, log) })
func WithRuntime(settings func() (Settings, error), f func(rt *Runtime) error) error {
	s, err := settings()
	if err != nil {
		return err
	}
	rt, err := NewRuntime(s)
	if err != nil {
		return err
	}
	defer rt.Close()
	return f(rt)
}

// Settings returns the runtime's settings (Threads resolved to a count).
func (r *Runtime) Settings() Settings { return r.s }

// Workers is the count of Go goroutines that feed or drain the runtime's
// work (decoding, cropping, writing): its thread count, as job.Workers
// chooses it, so a distributed rank's goroutines get the rank's share.
func (r *Runtime) Workers() int { return r.s.Workers() }

// Workers is job.Workers of s.Threads: the Go-side worker count that goes
// with these settings (one per CPU when Threads is 0).
func (s Settings) Workers() int { return job.Workers(s.Threads) }

// Device is the device the runtime's work runs on.
func (r *Runtime) Device() Device { return r.s.Device }

// Do runs f on the runtime's thread and returns its error, or the *Error
// an operation in it panicked with (as the package function Do). Other
// panics are raised again in the caller, and an f that ends its goroutine
// (runtime.Goexit, t.Fatal) ends the caller's too, after the runtime's.
// Called from inside Do it runs f at once. Work given to Do from several
// goroutines runs one at a time.
func (r *Runtime) Do(f func() error) error {
	select {
	case <-r.done:
		return ErrRuntimeClosed
	default:
	}
	if threadID() == r.tid {
		return Do(f)
	}
	var err error
	var bug any
	exited := false
	ran := make(chan struct{})
	job := func() {
		defer close(ran)
		returned := false
		defer func() {
			if !returned {
				if bug = recover(); bug == nil {
					exited = true
				}
			}
		}()
		err = Do(f)
		returned = true
	}
	select {
	case r.work <- job:
	case <-r.done:
		return ErrRuntimeClosed
	}
	<-ran
	switch {
	case bug != nil:
		panic(bug)
	case exited:
		runtime.Goexit()
	}
	return err
}

// Autocast runs f in the runtime's precision: for bf16, with autocast on
// its device type, which runs convolutions in bfloat16 while the weights,
// gradients and optimizer stay float32 (a model's forward pass goes here,
// its backward pass and update do not); otherwise f as it is. Autocast
// belongs to the OS thread, so f runs with its goroutine pinned.
func (r *Runtime) Autocast(f func()) {
	if r.s.Precision != BF16 {
		f()
		return
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	d := r.s.Device
	var prev C.int
	check("autocast", C.lv_set_autocast(C.int(d.Type), 1, C.int(BFloat16), &prev))
	defer func() { check("autocast", C.lv_set_autocast(C.int(d.Type), prev, C.int(BFloat16), nil)) }()
	f()
}

// Close waits for the work in progress, restores the thread count on the
// runtime's thread and lets the thread go, and gives back the process-wide
// CUDA settings. Scopes are closed by the work that opened them (WithScope),
// so none is left open. Closing twice is harmless; Close from inside Do
// would wait for itself, and panics instead.
func (r *Runtime) Close() {
	if threadID() == r.tid {
		select {
		case <-r.done:
		default:
			fail("runtime", "Close called from the runtime's own work (inside Do)")
		}
	}
	r.closeOnce.Do(func() {
		close(r.quit)
		<-r.done
		releaseCUDAFlags(r.s)
	})
}

// cudaFlags are the process-wide CUDA settings runtimes hold: what they
// set, how many runtimes hold them, and what was there before the first.
var cudaFlags struct {
	sync.Mutex
	holders               int
	tf32, benchmark       bool
	prevCuBLAS, prevCuDNN C.int
	prevBenchmark         C.int
}

// holdCUDAFlags applies s's TF32 and benchmark mode for a CUDA runtime, or
// checks that they are those already in force.
func holdCUDAFlags(s Settings) error {
	if !s.Device.IsCUDA() {
		return nil
	}
	tf32 := s.Precision != FP32 // libtorch's cuDNN default allows TF32: fp32 turns it off
	f := &cudaFlags
	f.Lock()
	defer f.Unlock()
	if f.holders > 0 && (f.tf32 != tf32 || f.benchmark != s.CuDNNBenchmark) {
		return fmt.Errorf("runtime on %s: TF32 %v and cuDNN benchmark %v are process-wide, and a runtime already open has TF32 %v and benchmark %v",
			s.Device, tf32, s.CuDNNBenchmark, f.tf32, f.benchmark)
	}
	if f.holders == 0 {
		C.lv_set_tf32(cbool(tf32), cbool(tf32), &f.prevCuBLAS, &f.prevCuDNN)
		C.lv_set_cudnn_benchmark(cbool(s.CuDNNBenchmark), &f.prevBenchmark)
		f.tf32, f.benchmark = tf32, s.CuDNNBenchmark
	}
	f.holders++
	return nil
}

// releaseCUDAFlags lets go of a CUDA runtime's hold; the last one restores
// the settings from before the first.
func releaseCUDAFlags(s Settings) {
	if !s.Device.IsCUDA() {
		return
	}
	f := &cudaFlags
	f.Lock()
	defer f.Unlock()
	if f.holders--; f.holders == 0 {
		C.lv_set_tf32(f.prevCuBLAS, f.prevCuDNN, nil, nil)
		C.lv_set_cudnn_benchmark(f.prevBenchmark, nil)
	}
}

// cudaFlagsNow reads the process-wide settings: TF32 in cuBLAS and cuDNN,
// and cuDNN's benchmark mode.
func cudaFlagsNow() (cublas, cudnn, benchmark bool) {
	var a, b, c C.int
	C.lv_set_tf32(0, 0, &a, &b)
	C.lv_set_tf32(a, b, nil, nil)
	C.lv_set_cudnn_benchmark(0, &c)
	C.lv_set_cudnn_benchmark(c, nil)
	return a != 0, b != 0, c != 0
}
