package train

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/testkit"
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// TestStepsMatchEager trains ten steps through the Stepper (the loop of
// `ludvae train` on the CPU) in float64 and replays them in the authors'
// style with the eager reference (ludvae_ref.py, torch.optim.Adam, the
// MultiStepLR scheduler stepped with the step number, the linear KL
// warm-up, the dataset's h-noise and colour map written out as the
// authors' UPMDataset computes them), given the same initial parameters,
// batches and ε. One-step parity is tested in model; this checks what only
// many steps show: Adam's state across steps, the schedules crossing their
// milestone and warm-up end, the zero gradients of a batch without
// degraded crops (Adam still moves those parameters by their momentum), an
// all-degraded batch, and the colour map after the noise. The seed is the
// first whose batches have all three kinds. Float64 end to end: every
// parameter and loss agrees within 1e-9.
func TestStepsMatchEager(t *testing.T) {
	c := tinyConfig(t)
	c.Normalize = "auto"
	c.Steps, c.KLWarmup, c.KLWeight, c.LRMilestones, c.LR = 10, 4, 0.5, []int{7}, 1e-3
	d, err := LoadData(context.Background(), &c, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c.Seed = seedWithAllBatchKinds(d, &c)
	dir := t.TempDir()
	m, err := model.New(model.Config{Channels: 3, Filters: c.Filters, Levels: c.Levels}, tb.Options{DType: tb.Float64}, c.Seed)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.SaveStateDict(filepath.Join(dir, "init.pth")); err != nil {
		t.Fatal(err)
	}
	opt := tb.NewAdam(m.Tensors(), tb.AdamConfig{LR: c.LR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	defer opt.Close()
	s, err := NewStepper(testRuntime(t, c), m, opt, &c, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	steps := tb.NewDict()
	var losses []string
	for step := 1; step <= c.Steps; step++ {
		b := d.MakeBatch(&c, step)
		steps.Set(strconv.Itoa(step), stepInputs(&c, b))
		loss, err := s.Step(b)
		if err != nil {
			t.Fatal(err)
		}
		losses = append(losses, strconv.FormatFloat(loss, 'g', 17, 64))
	}
	if err := tb.Save(filepath.Join(dir, "steps.pth"), steps); err != nil {
		t.Fatal(err)
	}
	if err := m.SaveStateDict(filepath.Join(dir, "final.pth")); err != nil {
		t.Fatal(err)
	}
	norm, _ := json.Marshal(d.Norm)
	cfg := fmt.Sprintf("%d %d %d %g %g %d %g %d %g %g", c.Filters, c.Levels, c.Steps, c.LR, c.LRGamma, c.LRMilestones[0],
		c.KLWeight, c.KLWarmup, c.SigmaX, c.SigmaY)
	got := testkit.RunPython(t, eagerSteps, dir, cfg, string(norm))
	lines := strings.Split(got, "\n")
	if len(lines) != 2 {
		t.Fatalf("python printed %q", got)
	}
	theirs := strings.Fields(lines[0])
	for i, want := range theirs {
		w, _ := strconv.ParseFloat(want, 64)
		g, _ := strconv.ParseFloat(losses[i], 64)
		if d := g - w; d > 1e-9 || d < -1e-9 {
			t.Errorf("step %d: loss %s, eager %s", i+1, losses[i], want)
		}
	}
	if len(theirs) != c.Steps {
		t.Fatalf("eager took %d steps", len(theirs))
	}
	worst, _ := strconv.ParseFloat(lines[1], 64)
	if !(worst <= 1e-9) {
		t.Errorf("after %d steps the parameters differ from eager's by up to %g", c.Steps, worst)
	}
	t.Logf("losses %v; largest parameter difference after %d steps %g", losses, c.Steps, worst)
}

// seedWithAllBatchKinds is the first seed from 1 whose first c.Steps
// batches include one without degraded crops, one of degraded crops only,
// and a mixed one.
func seedWithAllBatchKinds(d *Data, c *Config) uint64 {
	for seed := uint64(1); ; seed++ {
		c.Seed = seed
		var none, all, mixed bool
		for step := 1; step <= c.Steps; step++ {
			b := d.MakeBatch(c, step)
			has, lacks := slices.Contains(b.Degraded, true), slices.Contains(b.Degraded, false)
			none, all, mixed = none || !has, all || !lacks, mixed || (has && lacks)
		}
		if none && all && mixed {
			return seed
		}
	}
}

// stepInputs are a step's batch and ε as the documented noise scheme
// (model.Noise) draws them: the h-noise of every row at site HSite of the
// step's stream, and for each level the posterior ε of the degraded rows,
// numbered among themselves, at site PostSite(l).
func stepInputs(c *Config, b Batch) *tb.Dict {
	shape := b.Shape()
	o := tb.Options{DType: tb.Float64}
	key := func(site model.Site) tb.NoiseKey {
		return tb.NoiseKey{Seed: c.Seed, Stream: uint64(b.Step)*model.StreamStride + uint64(site)}
	}
	var rows []int64
	for i, deg := range b.Degraded {
		if deg {
			rows = append(rows, int64(i))
		}
	}
	e := tb.NewDict()
	e.Set("x", tb.FromSlice(b.Pix, shape...).ToDType(tb.Float64))
	e.Set("degraded", tb.FromSlice(rows))
	e.Set("h", tb.Normal(shape, o, key(model.HSite)))
	if len(rows) > 0 {
		for l := 1; l <= c.Levels; l++ {
			e.Set(fmt.Sprintf("post_%d", l), tb.Normal([]int64{int64(len(rows)), int64(c.Filters), shape[2], shape[3]}, o, key(model.PostSite(l))))
		}
	}
	return e
}

// eagerSteps replays the steps: argv is the folder, the configuration
// (filters levels steps lr gamma milestone kl_weight kl_warmup σx σy) and
// the colour statistics (JSON, [0,1] scale). It prints the losses, then the
// largest parameter difference from final.pth.
const eagerSteps = `
import json, sys, warnings
import torch
from ludvae_ref import LUDVAE
d, cfg, norm = sys.argv[1], sys.argv[2].split(), json.loads(sys.argv[3])
F, L, steps = int(cfg[0]), int(cfg[1]), int(cfg[2])
lr, gamma, milestone, klw, warm, sx, sy = float(cfg[3]), float(cfg[4]), int(cfg[5]), float(cfg[6]), int(cfg[7]), float(cfg[8]), float(cfg[9])
t = lambda k: torch.tensor(norm[k], dtype=torch.float64).reshape(3, 1, 1)
mc, sc, mn, sn = t("CleanMean"), t("CleanStd"), t("NoisyMean"), t("NoisyStd")
m = LUDVAE(3, F, L).double()
m.load_state_dict(torch.load(d + "/init.pth"))
opt = torch.optim.Adam(m.parameters(), lr=lr, weight_decay=0)
sched = torch.optim.lr_scheduler.MultiStepLR(opt, [milestone], gamma)
inputs = torch.load(d + "/steps.pth")
losses = []
warnings.simplefilter("ignore")  # scheduler.step(epoch) is deprecated; the authors call it so
for step in range(1, steps + 1):
    b = inputs[str(step)]
    x, rows = b["x"], b["degraded"]
    n = x.shape[0]
    label = torch.zeros(n, dtype=torch.float64)
    label[rows] = 1
    xs, hs = [], []
    for i in range(n):  # UPMDataset.__getitem__ after the crop
        img = x[i]
        sigma = sy if label[i] == 1 else sx
        img_c = img + b["h"][i] * sigma / 255.0
        if label[i] == 1:
            img = torch.clamp(((img - mn) / sn) * sc + mc, 0, 1)
            img_c = torch.clamp(((img_c - mn) / sn) * sc + mc, 0, 1)
        xs.append(img)
        hs.append(img_c)
    eps = {}
    for l in range(1, L + 1):
        e = torch.zeros(n, F, x.shape[2], x.shape[3], dtype=torch.float64)
        if len(rows) > 0:
            e[rows] = b["post_%d" % l]
        eps["post_%d" % l] = e
    sched.step(step)
    opt.zero_grad()
    loss, _, _, _ = m.loss(torch.stack(xs), torch.stack(hs), label, min(step / warm, 1) * klw, eps)
    loss.backward()
    opt.step()
    losses.append(repr(loss.item()))
print(" ".join(losses))
final = torch.load(d + "/final.pth")
print(max((p - final[k]).abs().max().item() for k, p in m.state_dict().items()))
`
