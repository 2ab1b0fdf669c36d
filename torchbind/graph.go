package torchbind

// #include "ludvae.h"
import "C"

import (
	"runtime"
)

// CUDAGraph records CUDA work once and replays it with one launch, which
// removes the host's cost of launching each kernel (a training step of
// ludvae's default model is hundreds of small kernels). Work is recorded on
// a side stream of the graph's own; memory allocated while recording comes
// from a private pool that the graph keeps, so the tensors it writes live
// at the same addresses on every replay. A recording must not read host
// memory or synchronize: inputs go into tensors made before, and are
// overwritten (CopyFrom) before each replay.
type CUDAGraph struct {
	h C.lv_graph
}

// NewCUDAGraph returns an empty graph on CUDA device d.
func NewCUDAGraph(d Device) (g *CUDAGraph, err error) {
	if !d.IsCUDA() {
		return nil, &Error{Op: "cuda graph", Msg: "CUDA graphs need a CUDA device, not " + d.String()}
	}
	err = Try(func() {
		var h C.lv_graph
		check("cuda graph", C.lv_graph_new(C.int(d.Index), &h))
		g = &CUDAGraph{h: h}
	})
	return g, err
}

// Warm runs f on the graph's stream without recording: the warm-up that
// lets libraries (cuDNN's algorithm search, the allocator) do what a
// recording may not. It returns f's error or the *Error f panicked with.
func (g *CUDAGraph) Warm(f func() error) error { return g.run(false, f) }

// Capture records f (which runs nothing on the device); Replay runs it.
// A graph records once.
func (g *CUDAGraph) Capture(f func() error) error { return g.run(true, f) }

// run keeps the goroutine on its OS thread, whose current stream the graph
// sets, from begin to end.
func (g *CUDAGraph) run(capture bool, f func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return Do(func() error {
		check("cuda graph", C.lv_graph_begin(g.h, cbool(capture)))
		defer func() {
			// ends the recording even when f failed, which leaves the stream usable
			e := C.lv_graph_end(g.h, cbool(capture))
			if r := recover(); r != nil {
				if e != nil {
					C.lv_err_free(e)
				}
				panic(r)
			}
			check("cuda graph", e)
		}()
		return f()
	})
}

// Replay runs the recorded work on the current stream.
func (g *CUDAGraph) Replay() error {
	return Try(func() { check("cuda graph replay", C.lv_graph_replay(g.h)) })
}

// Close frees the graph and its memory pool (once its replays are done).
func (g *CUDAGraph) Close() {
	if g == nil || g.h == nil {
		return
	}
	C.lv_graph_free(g.h)
	g.h = nil
}
