package dist

import (
	"context"
	"errors"
	"fmt"
	"time"

	tb "github.com/ludvae/ludvae/torchbind"
)

// Group is this rank's membership of the job's process group.
type Group struct {
	PG      *tb.ProcessGroup
	Env     Env
	Backend string
	// Device holds the tensors of the group's own collectives (Agree,
	// Flags): NCCL reduces CUDA tensors only, on cuda:LOCAL_RANK.
	Device tb.Device
}

// Rendezvous says how a rank joins: Timeout (--dist-timeout) bounds the
// rendezvous and every collective; ListenAll (--dist-listen-all) makes
// rank 0's store listen on every interface instead of MASTER_ADDR's.
type Rendezvous struct {
	Timeout   time.Duration
	ListenAll bool
}

// Join opens the process group of e with backend ("gloo" or "nccl"),
// waiting at most r.Timeout for the other ranks, and returns ctx's error as
// soon as ctx is done (a signal). Its error names the store's address and
// the variables it came from, so a rank that cannot reach
// MASTER_ADDR:MASTER_PORT says which settings it used.
func Join(ctx context.Context, e Env, backend string, r Rendezvous) (*Group, error) {
	pg, err := tb.NewProcessGroup(ctx, tb.GroupOptions{
		Backend: backend, Host: e.Addr, Port: e.Port, Rank: e.Rank, World: e.World,
		AgentStore: e.AgentStore, Attempt: e.Attempt, Timeout: r.Timeout, ListenAll: r.ListenAll,
	})
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("rank %d of %d could not join the %s process group through the store at MASTER_ADDR:MASTER_PORT = %s:%d within %v (values from %v): %w",
			e.Rank, e.World, backend, e.Addr, e.Port, r.Timeout, e.Vars, err)
	}
	g := &Group{PG: pg, Env: e, Backend: backend, Device: tb.CPU}
	if backend == "nccl" {
		g.Device = tb.CUDA(e.LocalRank)
	}
	return g, nil
}

// Close leaves the group; it is idempotent and accepts nil.
func (g *Group) Close() {
	if g != nil {
		g.PG.Close()
	}
}

// Leader reports whether this rank writes the run's files (rank 0; a nil
// group is a single-process run).
func (g *Group) Leader() bool { return g == nil || g.Env.Rank == 0 }

// Agree refuses, on every rank, a job whose ranks hold different values v
// of what (a hash of their configuration, the step they resume from):
// rank 0's value is broadcast and each rank's verdict summed, so that all
// ranks stop together instead of the odd one alone while the others wait.
func (g *Group) Agree(what string, v uint64) error {
	// Two int32 halves: every backend broadcasts int32.
	h, err := onDevice(g, []int32{int32(v >> 32), int32(v)})
	if err == nil {
		defer h.Close()
		err = g.PG.Broadcast(h, 0)
	}
	if err != nil {
		return fmt.Errorf("comparing the ranks' %s: %w", what, err)
	}
	got := tb.Values[int32](h)
	differ := 0.0
	if uint64(uint32(got[0]))<<32|uint64(uint32(got[1])) != v {
		differ = 1
	}
	sums, err := g.Sum([]float64{differ})
	if err != nil {
		return fmt.Errorf("comparing the ranks' %s: %w", what, err)
	}
	if sums[0] > 0 {
		return fmt.Errorf("%g of the %d ranks differ from rank 0 in their %s: every rank must run the same command on the same run folder",
			sums[0], g.Env.World, what)
	}
	return nil
}

// Sum returns the sums of vs over the ranks (losses, flags).
func (g *Group) Sum(vs []float64) ([]float64, error) {
	t, err := onDevice(g, vs)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	if err := g.PG.AllReduceSum(t); err != nil {
		return nil, err
	}
	return t.Float64s(), nil
}

// onDevice is vs as a tensor on the group's device.
func onDevice[T tb.Element](g *Group, vs []T) (t *tb.Tensor, err error) {
	err = tb.Try(func() {
		host := tb.FromSlice(vs)
		if g.Device == tb.CPU {
			t = host
			return
		}
		defer host.Close()
		t = host.ToDevice(g.Device)
	})
	return t, err
}
