package torchbind

// #include <stdlib.h>
// #include "ludvae.h"
import "C"

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
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
	// ListenAll makes rank 0's store listen on every interface, as
	// PyTorch's does; otherwise it binds to Host's address only.
	ListenAll bool
}

// ProcessGroup is a c10d process group (ProcessGroupGloo or
// ProcessGroupNCCL) over a TCPStore. Its collectives block until done and
// must be called by every rank in the same order.
type ProcessGroup struct {
	h           handle
	Rank, World int
}

// ErrRendezvousTimeout is NewProcessGroup's error when the ranks did not
// all join within the timeout.
var ErrRendezvousTimeout = errors.New("timed out")

// NewProcessGroup rendezvouses with the other ranks and returns the group.
// It returns once every rank has joined, when o.Timeout has passed
// (ErrRendezvousTimeout), or as soon as ctx is done (ctx's error).
//
// c10d's rendezvous blocks in C++ for up to a multiple of its timeout (the
// store's wait for its workers, then Gloo's wait for each rank's address,
// each given the whole timeout), and nothing interrupts it. So it runs on a
// thread of its own while this one waits for it, the deadline or ctx; a
// rendezvous given up on is left to fail on its own (or succeed, and be
// closed at once). Before it, a rank that is the store's client waits for
// the store in short slices and checks that what listens there is a store
// (probeStore).
func NewProcessGroup(ctx context.Context, o GroupOptions) (*ProcessGroup, error) {
	if o.Timeout <= 0 {
		return nil, fmt.Errorf("process group: timeout %v: must be positive", o.Timeout)
	}
	deadline := time.Now().Add(o.Timeout)
	if o.AgentStore || o.Rank != 0 {
		if err := probeStore(ctx, o.Host, o.Port, deadline, o.Timeout); err != nil {
			return nil, err
		}
	}
	type result struct {
		g   *ProcessGroup
		err error
	}
	done := make(chan result, 1)
	go func() {
		g, err := newProcessGroup(o)
		done <- result{g, err}
	}()
	giveUp := func() {
		go func() {
			if r := <-done; r.g != nil {
				r.g.Close()
			}
		}()
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case r := <-done:
		return r.g, r.err
	case <-ctx.Done():
		giveUp()
		return nil, ctx.Err()
	case <-timer.C:
		giveUp()
		return nil, fmt.Errorf("%w after %v: not every one of the %d ranks joined", ErrRendezvousTimeout, o.Timeout, o.World)
	}
}

// newProcessGroup is c10d's rendezvous (blocking).
func newProcessGroup(o GroupOptions) (*ProcessGroup, error) {
	g := &ProcessGroup{Rank: o.Rank, World: o.World}
	err := Try(func() {
		backend, host := C.CString(o.Backend), C.CString(o.Host)
		defer C.free(unsafe.Pointer(backend))
		defer C.free(unsafe.Pointer(host))
		var out C.lv_pg
		check("process group", C.lv_dist_new(backend, host, C.int(o.Port), C.int(o.Rank), C.int(o.World),
			cbool(o.AgentStore), C.int(o.Attempt), C.int64_t(o.Timeout.Milliseconds()), cbool(o.ListenAll), &out))
		g.h.store(unsafe.Pointer(out))
	})
	if err != nil {
		return nil, err
	}
	runtime.SetFinalizer(g, (*ProcessGroup).Close)
	return g, nil
}

// probeStore waits until host:port accepts a connection, retrying in short
// slices so that ctx stops the wait at once, until deadline. A TCPStore
// only ever answers requests, so a listener that sends bytes unasked is
// another program holding MASTER_PORT: it is refused here, because c10d's
// client reads such bytes as lengths and its background thread then dies
// of an uncaught std::bad_alloc, aborting the process.
func probeStore(ctx context.Context, host string, port int, deadline time.Time, timeout time.Duration) error {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	for {
		d := net.Dialer{Timeout: min(500*time.Millisecond, max(time.Until(deadline), time.Millisecond))}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			defer c.Close()
			_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			buf := make([]byte, 64)
			n, _ := c.Read(buf)
			if n > 0 {
				return fmt.Errorf("what listens at %s is not a torch.distributed store: it sent %q before it was asked anything (another program holds the port?)", addr, buf[:n])
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("%w after %v: nothing accepted a connection at %s (%v)", ErrRendezvousTimeout, timeout, addr, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(100*time.Millisecond, time.Until(deadline))):
		}
	}
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
