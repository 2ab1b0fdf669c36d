package train

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/ludvae/ludvae/internal/run"
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
	"github.com/ludvae/ludvae/train/dist"
)

// RunDistributed trains as Run does, as one rank of a data-parallel job
// (env from dist.FromEnv) on rt (made with cfg.RankSettings(env)):
// --batch stays the global batch, each rank computes its share of every
// batch, and the gradients are summed over the ranks before the same Adam
// update on each. Rank 0 alone writes the run folder and the log; a CUDA
// rank uses cuda:LOCAL_RANK and NCCL, a CPU rank Gloo. rv.Timeout bounds the
// rendezvous and every collective; cancelling ctx stops the rendezvous at
// once and training after the step every rank agrees on.
func RunDistributed(ctx context.Context, rt *tb.Runtime, cfg Config, log io.Writer, env dist.Env, rv dist.Rendezvous) error {
	return rt.Do(func() error { return runDistributed(ctx, rt, cfg, log, env, rv) })
}

func runDistributed(ctx context.Context, rt *tb.Runtime, cfg Config, log io.Writer, env dist.Env, rv dist.Rendezvous) error {
	// A bad command fails here, before it makes the other ranks wait.
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg, err := cfg.forRank(env)
	if err != nil {
		return err
	}
	backend := "gloo"
	if rt.Device().IsCUDA() {
		backend = "nccl"
	}
	fmt.Fprintf(log, "distributed: rank %d of %d joining the %s process group at MASTER_ADDR:MASTER_PORT = %s:%d (at most %v)\n",
		env.Rank, env.World, backend, env.Addr, env.Port, rv.Timeout)
	g, err := dist.Join(ctx, env, backend, rv)
	if err != nil {
		return err
	}
	defer g.Close()
	if !g.Leader() {
		log = io.Discard
	}
	lo, hi := env.Share(cfg.Batch)
	fmt.Fprintf(log, "distributed: %s, %s; rank 0 takes %d of every global batch of %d\n", env, backend, hi-lo, cfg.Batch)
	t, err := newTrainer(ctx, rt, cfg, log, g)
	if err != nil {
		return fmt.Errorf("rank %d: %w", env.Rank, err)
	}
	defer t.Close()
	t.Data.ReadRows(lo, hi)
	// A signal may reach one rank, or reach the ranks at different steps:
	// the ranks agree at each step whether any was interrupted, and all
	// stop after the same one (rank 0 saving it).
	stopCtx, stop := context.WithCancel(context.Background())
	defer stop()
	if s, ok := t.stepper.(*distStepper); ok {
		s.interrupt, s.stop = ctx.Done(), stop
	}
	if err := t.Train(stopCtx); err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return fmt.Errorf("rank %d: %w", env.Rank, err)
	}
	if s, ok := t.stepper.(*distStepper); ok && s.steps > 0 {
		fmt.Fprintf(log, "gradient all-reduce: %.1f ms of a %.1f ms step (%.0f %%)\n", s.reduceMS(), s.stepMS(), 100*s.reduceMS()/s.stepMS())
	}
	return nil
}

// startDistributed checks, before anything is read or written, that every
// rank runs the same configuration and can take a share of the batch, and
// returns the data-parallel stepper's place in the group.
func startDistributed(cfg *Config, g *dist.Group) error {
	if cfg.Batch < g.Env.World {
		return fmt.Errorf("--batch %d is the global batch: it needs at least one sample for each of the %d ranks", cfg.Batch, g.Env.World)
	}
	h, err := cfg.distHash()
	if err != nil {
		return err
	}
	return g.Agree("configuration (flags such as --filters, --batch or the folders)", h)
}

// distHash is a hash of everything that must be equal on every rank: the
// configuration without the per-rank device and thread count.
func (c Config) distHash() (uint64, error) {
	c.Device, c.Threads = "", 0
	data, err := json.Marshal(c)
	if err != nil {
		return 0, fmt.Errorf("hashing the configuration: %w", err)
	}
	sum := sha256.Sum256(data)
	return binary.LittleEndian.Uint64(sum[:8]), nil
}

// share is rows [lo, hi) of a global batch: this rank's crops (b holds
// them from row b.Lo, all of them or only these).
func (b Batch) share(lo, hi int) Batch {
	n := b.cropLen()
	return Batch{Step: b.Step, Lo: lo, Patch: b.Patch, Pix: b.Pix[(lo-b.Lo)*n : (hi-b.Lo)*n], Degraded: b.Degraded[lo:hi], Norm: b.Norm, Err: b.Err}
}

func count(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// distStepper takes data-parallel steps op by op. Each rank's loss is its
// share of the global batch's loss (rec weighted by its rows' fraction, the
// KL sum divided by the whole batch's degraded count), so the gradients'
// sum over the ranks is the global batch's gradient, up to float rounding.
// The sum is one flat all-reduce per 25 MiB bucket after backward (not
// overlapped with it); reduce is its measured time.
type distStepper struct {
	m             *model.LUDVAE
	opt           *tb.Adam
	cfg           *Config
	rt            *tb.Runtime
	g             *dist.Group
	steps         int
	reduce, total time.Duration
	// interrupt is closed when this rank is asked to stop; stop ends
	// training after the step in which any rank was.
	interrupt <-chan struct{}
	stop      func()
}

func (s *distStepper) close() {}

func (s *distStepper) reduceMS() float64 {
	return float64(s.reduce.Microseconds()) / 1e3 / float64(s.steps)
}
func (s *distStepper) stepMS() float64 {
	return float64(s.total.Microseconds()) / 1e3 / float64(s.steps)
}

// step is one data-parallel step on global batch b.
func (s *distStepper) step(b Batch) (st stepStats, err error) {
	start := time.Now()
	cfg := s.cfg
	st = stepStats{step: b.Step, klWeight: cfg.KLWeightAt(b.Step), lr: cfg.LearningRate(b.Step)}
	n := len(b.Degraded)
	lo, hi := s.g.Env.Share(n)
	mAll, mBefore := count(b.Degraded), count(b.Degraded[:lo])
	tb.WithScope(func(*tb.Scope) {
		err = tb.Do(func() error {
			in := upload(cfg, s.m.Options(), b.share(lo, hi))
			// The noise of the whole batch's rows: h at row lo on, the
			// posterior sites at this share's first degraded row.
			in.noise.Origin[0], in.noise.SubsetRow = int64(lo), int64(mBefore)
			l, err := in.loss(s.rt, s.m)
			if err != nil {
				return err
			}
			rec := l.Rec.MulScalar(float64(hi-lo) / float64(n))
			kl := l.KLSum.MulScalar(0)
			if mAll > 0 {
				x := in.x.Shape()
				kl = l.KLSum.DivScalar(float64(int64(mAll) * x[1] * x[2] * x[3]))
			}
			total := model.Losses{Rec: rec, KL: kl}.Total(st.klWeight)
			s.opt.ZeroGrad()
			total.Backward()
			if err := s.m.FillMissingGrads(); err != nil {
				return err
			}
			t0 := time.Now()
			v, err := s.sumGrads(total.Item(), rec.Item(), kl.Item(), s.interrupted())
			if err != nil {
				return err
			}
			s.reduce += time.Since(t0)
			st.total, st.rec, st.kl = v[0], v[1], v[2]
			if v[3] > 0 && s.stop != nil {
				s.stop()
			}
			// Every rank sees the same sums, so all skip a bad step together.
			st.finite = !math.IsNaN(st.total) && !math.IsInf(st.total, 0)
			if !st.finite {
				s.opt.ZeroGrad()
				return nil
			}
			s.opt.Config.LR = st.lr
			s.opt.Step()
			return nil
		})
	})
	if err != nil {
		return st, fmt.Errorf("step %d: %w", b.Step, err)
	}
	s.steps++
	s.total += time.Since(start)
	return st, nil
}

// interrupted is 1 once this rank was asked to stop, else 0.
func (s *distStepper) interrupted() float64 {
	select {
	case <-s.interrupt:
		return 1
	default:
		return 0
	}
}

// sumGrads sums the parameters' gradients and the step's numbers over the
// ranks. A rank that died leaves the others here: Gloo reports the closed
// connection at once, NCCL and a hung rank reach --dist-timeout.
func (s *distStepper) sumGrads(numbers ...float64) ([]float64, error) {
	grads := make([]*tb.Tensor, len(s.opt.Params))
	for i, p := range s.opt.Params {
		grads[i] = p.Grad()
	}
	defer tb.CloseAll(grads)
	hint := "another rank may have stopped: its own output says why"
	if err := s.g.AllReduceFlat(grads, dist.BucketBytes); err != nil {
		return nil, fmt.Errorf("summing the gradients over %d ranks (%s): %w", s.g.Env.World, hint, err)
	}
	v, err := s.g.Sum(numbers)
	if err != nil {
		return nil, fmt.Errorf("summing the losses over %d ranks (%s): %w", s.g.Env.World, hint, err)
	}
	return v, nil
}

// leaderDo runs f on the rank that writes the run folder (every
// single-process run), and nothing elsewhere.
func (t *Trainer) leaderDo(f func() error) error {
	if !t.group.Leader() {
		return nil
	}
	return f()
}

// startStepper picks the stepper and opens the log: the op-by-op or CUDA
// graph stepper alone, the data-parallel one in a group, where only rank 0
// logs and every rank checks that all resume from the same step.
func (t *Trainer) startStepper() (err error) {
	if t.group == nil {
		if abandonable(t.Device) {
			t.gate = &run.StepGate{}
		}
		t.stepper = newStepper(t.rt, t.Model, t.Opt, &t.Cfg, t.Data.Norm != nil, t.Log, t.gate)
	} else {
		if err := t.group.Agree("resumed step (their run folders' newest checkpoints)", uint64(t.Step)); err != nil {
			return err
		}
		if t.Cfg.CUDAGraphs && t.Device.IsCUDA() {
			fmt.Fprintln(t.Log, "CUDA graphs are off: distributed training takes its steps op by op")
		}
		t.stepper = &distStepper{m: t.Model, opt: t.Opt, cfg: &t.Cfg, rt: t.rt, g: t.group}
	}
	return t.leaderDo(func() (err error) {
		t.csv, err = openLossLog(t.folder, t.Step)
		return err
	})
}

// openFolder opens the run folder (run.Open: locked, cleaned) on the rank
// that writes it, and joins it on the others (run.Join): the other ranks of
// a machine share the folder and must not be refused.
func openFolder(dir string, log io.Writer, g *dist.Group) (*run.Folder, error) {
	if !g.Leader() {
		return run.Join(dir, checkpoints)
	}
	return run.Open(dir, checkpoints, log)
}
