package train

import (
	"fmt"

	"github.com/ludvae/ludvae/internal/job"
	tb "github.com/ludvae/ludvae/torchbind"
	"github.com/ludvae/ludvae/train/dist"
)

// RuntimeSettings are the libtorch settings a run of c works under
// (tb.NewRuntime): its device, thread count and precision, and cuDNN's
// benchmark mode on CUDA, where the crops repeat their shape every step.
// A configuration that does not Validate has none.
func (c Config) RuntimeSettings() (tb.Settings, error) {
	if err := c.Validate(); err != nil {
		return tb.Settings{}, err
	}
	s, err := tb.ParseSettings(c.Device, c.Threads, c.Precision)
	s.CuDNNBenchmark = s.Device.IsCUDA()
	return s, err
}

// RankSettings are RuntimeSettings for rank env of a distributed job,
// which runs as forRank says.
func (c Config) RankSettings(env dist.Env) (tb.Settings, error) {
	if err := c.Validate(); err != nil {
		return tb.Settings{}, err
	}
	c, err := c.forRank(env)
	if err != nil {
		return tb.Settings{}, err
	}
	return c.RuntimeSettings()
}

// forRank is c as rank env of a data-parallel job runs it: a CUDA rank on
// cuda:LOCAL_RANK, and with Threads 0 the machine's CPUs shared among its
// ranks, as torchrun's OMP_NUM_THREADS=1 intends, instead of each rank
// taking all.
func (c Config) forRank(env dist.Env) (Config, error) {
	dev, err := tb.ParseDevice(c.Device)
	if err != nil {
		return c, fmt.Errorf("--device: %w", err)
	}
	if c.Threads <= 0 {
		c.Threads = max(1, job.Workers(0)/env.LocalWorld)
	}
	if dev.IsCUDA() {
		c.Device = fmt.Sprintf("cuda:%d", env.LocalRank)
	}
	return c, nil
}

// abandonable says whether a signal may abandon a training step under way
// on dev (run.StepGate) rather than wait for it: on the CPU, where one step
// of a large model takes seconds, far past the 2 s in which a signal stops
// every command. Not on CUDA: there the step's kernels are queued on the
// runtime's stream and the host waits for them, a CUDA-graph step queues
// Adam's update with them, so no host-side moment separates the
// computation from the update, and a save from another thread would copy
// on another stream, unordered with the step's; a GPU step takes
// milliseconds to a fraction of a second, so the signal waits for it.
// Nor in a distributed run, whose ranks agree at each step which one is
// the last (dist.go).
func abandonable(dev tb.Device) bool { return !dev.IsCUDA() }
