package torchbind

// #include <stdlib.h>
// #include "ludvae.h"
import "C"

import (
	"runtime"
	"time"
	"unsafe"
)

// DistBackends reports whether the shim was built with c10d's Gloo (CPU)
// and NCCL (CUDA) process groups.
func DistBackends() (gloo, nccl bool) {
	var g, n C.int
	C.lv_dist_backends(&g, &n)
	return g != 0, n != 0
}

// GroupOptions say how to join torch.distributed's default process group,
// as init_process_group(backend, "env://") does in the PyTorch of the
// libtorch the shim is built against (docs/distributed.md).
type GroupOptions struct {
	Backend     string // "gloo" (CPU tensors) or "nccl" (CUDA tensors)
	Host        string // the rendezvous TCPStore's address (MASTER_ADDR)
	Port        int    // and port (MASTER_PORT)
	Rank, World int
	// AgentStore: torchrun's agent hosts the store and every rank is a
	// client, under the prefix of restart Attempt
	// (TORCHELASTIC_USE_AGENT_STORE, TORCHELASTIC_RESTART_COUNT).
	// Otherwise rank 0 hosts it.
	AgentStore bool
	Attempt    int
	Timeout    time.Duration // bounds the rendezvous and every collective
}

// ProcessGroup is a c10d process group (ProcessGroupGloo or
// ProcessGroupNCCL) over a TCPStore. Its collectives block until done and
// must be called by every rank in the same order.
type ProcessGroup struct {
	h           handle
	Rank, World int
}

// NewProcessGroup rendezvouses with the other ranks and returns the group;
// it blocks until every rank has joined or o.Timeout has passed.
func NewProcessGroup(o GroupOptions) (*ProcessGroup, error) {
	g := &ProcessGroup{Rank: o.Rank, World: o.World}
	err := Try(func() {
		backend, host := C.CString(o.Backend), C.CString(o.Host)
		defer C.free(unsafe.Pointer(backend))
		defer C.free(unsafe.Pointer(host))
		var out C.lv_pg
		check("process group", C.lv_dist_new(backend, host, C.int(o.Port), C.int(o.Rank), C.int(o.World),
			cbool(o.AgentStore), C.int(o.Attempt), C.int64_t(o.Timeout.Milliseconds()), &out))
		g.h.store(unsafe.Pointer(out))
	})
	if err != nil {
		return nil, err
	}
	runtime.SetFinalizer(g, (*ProcessGroup).Close)
	return g, nil
}

func (g *ProcessGroup) ptr(op string) C.lv_pg {
	h := g.h.load()
	if h == nil {
		fail(op, "use of a closed process group")
	}
	return C.lv_pg(h)
}

// AllReduceSum replaces t, on every rank, by the sum of all ranks' t.
func (g *ProcessGroup) AllReduceSum(t *Tensor) error {
	return Try(func() {
		check("all-reduce", C.lv_dist_allreduce(g.ptr("all-reduce"), t.ptr()))
		runtime.KeepAlive(t)
		runtime.KeepAlive(g)
	})
}

// Broadcast replaces t, on every rank, by root's t.
func (g *ProcessGroup) Broadcast(t *Tensor, root int) error {
	return Try(func() {
		check("broadcast", C.lv_dist_broadcast(g.ptr("broadcast"), t.ptr(), C.int(root)))
		runtime.KeepAlive(t)
		runtime.KeepAlive(g)
	})
}

// Barrier returns once every rank has called it.
func (g *ProcessGroup) Barrier() error {
	return Try(func() {
		check("barrier", C.lv_dist_barrier(g.ptr("barrier")))
		runtime.KeepAlive(g)
	})
}

// Close leaves the group (closing the store connection); it is idempotent.
func (g *ProcessGroup) Close() {
	if g == nil {
		return
	}
	if h := g.h.swap(nil); h != nil {
		C.lv_dist_free(C.lv_pg(h))
	}
}
