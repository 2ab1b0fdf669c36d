package model

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/testkit"
	tb "github.com/ludvae/ludvae/torchbind"
)

// TestDnCNNKeysAndShapesMatchReference compares every state-dict key and
// shape, in order, and the parameter count with model/python/dncnn_ref.py
// (KAIR's layout) for the default network and a grey one of 20 layers
// (KAIR's DnCNN-B).
func TestDnCNNKeysAndShapesMatchReference(t *testing.T) {
	t.Parallel()
	cfgs := []DnCNNConfig{DefaultDnCNN, {Channels: 1, Features: 16, Layers: 20}}
	want := strings.Split(testkit.RunPython(t, `
from dncnn_ref import DnCNN
for c, f, l in [(3, 64, 17), (1, 16, 20)]:
    m = DnCNN(c, c, f, l)
    print(sum(p.numel() for p in m.parameters()), ";".join("%s%s" % (k, list(v.shape)) for k, v in m.state_dict().items()))
`), "\n")
	for i, cfg := range cfgs {
		m, err := NewDnCNN(cfg, tb.Options{}, 1)
		must(t, err)
		var got []string
		m.visit(func(name string, t *tb.Tensor, _ bool) {
			got = append(got, fmt.Sprintf("%s%v", name, strings.ReplaceAll(fmt.Sprint(t.Shape()), " ", ", ")))
		})
		if g := fmt.Sprint(m.NumParams(), " ", strings.Join(got, ";")); g != want[i] {
			t.Errorf("%v: count, keys and shapes\n%s\nwant\n%s", cfg, g, want[i])
		}
		m.Close()
	}
	m, _ := NewDnCNN(DefaultDnCNN, tb.Options{}, 1)
	defer m.Close()
	if n := m.NumParams(); n != 559363 {
		t.Errorf("default DnCNN has %d parameters, want 559,363", n)
	}
}

// TestDnCNNParity runs the default network's forward pass (eval and
// train mode) and one Adam step (lr 1e-4) with KAIR's L1 and with L2, here
// and in the eager float64 reference loaded from our state dict with
// strict=True. Both run the same libtorch kernels in float64; 1e-9
// relative to the reference's magnitude (at least 1) leaves room for a
// different summation order and still catches any wrong term (errors of
// order 1e-3 and up).
func TestDnCNNParity(t *testing.T) {
	t.Parallel()
	for _, loss := range []DnCNNLoss{DnCNNL1, DnCNNL2} {
		t.Run(loss.String(), func(t *testing.T) { dncnnParity(t, loss) })
	}
}

func dncnnParity(t *testing.T, loss DnCNNLoss) {
	dir := t.TempDir()
	sdPath, inPath, refPath := filepath.Join(dir, "sd.pth"), filepath.Join(dir, "in.pth"), filepath.Join(dir, "ref.pth")
	o := tb.Options{DType: tb.Float64}
	m, err := NewDnCNN(DefaultDnCNN, o, 5)
	must(t, err)
	defer m.Close()
	must(t, m.SaveStateDict(sdPath))
	tb.WithScope(func(*tb.Scope) {
		mustTry(t, func() {
			g := tb.NewGenerator(6, tb.CPU)
			defer g.Close()
			clean := tb.Rand([]int64{3, 3, 12, 16}, o, g)
			noisy := clean.Add(tb.Randn([]int64{3, 3, 12, 16}, o, g).MulScalar(0.1))
			d := tb.NewDict()
			d.Set("noisy", noisy)
			d.Set("clean", clean)
			must(t, tb.Save(inPath, d))
			testkit.RunPython(t, `import sys, dncnn_ref; dncnn_ref.step(*sys.argv[1:])`, sdPath, inPath, loss.String(), refPath)
			ref, err := tb.LoadDict(refPath)
			must(t, err)
			defer tb.CloseAll(ref)
			check := dncnnChecker(t, ref)
			if n := dictTensor(t, ref, "params").Item(); n != float64(m.NumParams()) {
				t.Errorf("reference has %v parameters, ours %d", n, m.NumParams())
			}
			evalOut, err := m.Denoise(noisy)
			must(t, err)
			check("eval_out", evalOut)
			out, l, err := m.Loss(noisy, clean, loss)
			must(t, err)
			check("train_out", out)
			check("loss", l)
			l.Backward()
			for _, p := range m.Params() {
				check("grad."+p.Name, p.Tensor.Grad())
			}
			opt := tb.NewAdam(m.Tensors(), tb.DefaultAdam)
			defer opt.Close()
			opt.Step()
			m.visit(func(name string, t *tb.Tensor, _ bool) { check("after."+name, t) })
		})
	})
}

// dncnnChecker compares tensors with the reference's entries.
func dncnnChecker(t *testing.T, ref *tb.Dict) func(key string, got *tb.Tensor) {
	worst := 0.0
	t.Cleanup(func() { t.Logf("largest error %.3g", worst) })
	return func(key string, got *tb.Tensor) {
		t.Helper()
		want := dictTensor(t, ref, key)
		if want.DType() == tb.Int64 {
			if g, w := got.Item(), want.Item(); g != w {
				t.Errorf("%s: %v, reference %v", key, g, w)
			}
			return
		}
		e, lim := maxAbsErr(t, got, want), 1e-9*max(1, maxAbs(t, want))
		worst = max(worst, e)
		if e > lim {
			t.Errorf("%s: max abs error %.3g > %.3g", key, e, lim)
		}
	}
}

// TestDnCNNInit checks KAIR's initialization: every convolution weight,
// as an out × (in·9) matrix W, is orthogonal with gain 0.2 (W·Wᵀ = 0.04·I
// when out ≤ in·9, else Wᵀ·W), biases are zero, batch-norm weights lie in
// [0.1, 1). Gram–Schmidt twice keeps orthogonality to about 1e-15.
func TestDnCNNInit(t *testing.T) {
	t.Parallel()
	m, err := NewDnCNN(DnCNNConfig{Channels: 3, Features: 16, Layers: 5}, tb.Options{DType: tb.Float64}, 3)
	must(t, err)
	defer m.Close()
	for k, c := range m.Convs {
		s := c.Weight.Shape()
		rows, cols := int(s[0]), int(s[1]*s[2]*s[3])
		gram := gramOfSmallerSide(c.Weight.Float64s(), rows, cols)
		for i, v := range gram {
			want := 0.0
			if i/min(rows, cols) == i%min(rows, cols) {
				want = dncnnInitGain * dncnnInitGain
			}
			if math.Abs(v-want) > 1e-12 {
				t.Fatalf("conv %d: Gram matrix entry %d is %v, want %v", k, i, v, want)
			}
		}
		for _, b := range c.Bias.Float64s() {
			if b != 0 {
				t.Fatalf("conv %d: bias %v, want 0", k, b)
			}
		}
	}
	for k, bn := range m.BNs {
		for _, w := range bn.Weight.Float64s() {
			if w < dncnnBNInitLo || w >= dncnnBNInitHi {
				t.Fatalf("batch norm %d: weight %v outside [0.1, 1)", k, w)
			}
		}
	}
}

// gramOfSmallerSide returns W·Wᵀ (rows ≤ cols) or Wᵀ·W, row-major.
func gramOfSmallerSide(w []float64, rows, cols int) []float64 {
	n := min(rows, cols)
	at := func(i, j int) float64 { return w[i*cols+j] }
	if rows > cols {
		at = func(i, j int) float64 { return w[j*cols+i] }
	}
	k := max(rows, cols)
	g := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			for p := 0; p < k; p++ {
				g[i*n+j] += at(i, p) * at(j, p)
			}
		}
	}
	return g
}

// TestOrthogonalMatchesTorch: our Gram–Schmidt gives the matrix torch's
// init.orthogonal_ computes from the same normal draws (QR, signs of R's
// diagonal), for a tall and a wide matrix; 1e-12 covers the two
// algorithms' rounding.
func TestOrthogonalMatchesTorch(t *testing.T) {
	t.Parallel()
	for _, s := range [][2]int{{7, 3}, {3, 7}} {
		rows, cols := s[0], s[1]
		a := make([]float64, rows*cols)
		for i := range a {
			a[i] = math.Sin(float64(i*i) + 0.5) // deterministic, full rank (a sine of an arithmetic progression is not)
		}
		got := orthogonal(a, rows, cols)
		var vals []string
		for _, v := range a {
			vals = append(vals, fmt.Sprint(v))
		}
		out := testkit.RunPython(t, `
import sys, torch
rows, cols = int(sys.argv[1]), int(sys.argv[2])
a = torch.tensor([float(v) for v in sys.argv[3].split(",")], dtype=torch.float64).reshape(rows, cols)
if rows < cols:
    a = a.t()
q, r = torch.linalg.qr(a)
q = q * torch.diag(r).sign()
if rows < cols:
    q = q.t()
print(" ".join(repr(v) for v in q.flatten().tolist()))
`, fmt.Sprint(rows), fmt.Sprint(cols), strings.Join(vals, ","))
		for i, f := range strings.Fields(out) {
			var v float64
			fmt.Sscan(f, &v)
			if math.Abs(v-got[i]) > 1e-12 {
				t.Fatalf("%dx%d: element %d is %v, torch %v", rows, cols, i, got[i], v)
			}
		}
	}
}

// TestDnCNNLoadsItsStateDict: a saved DnCNN (also wrapped in "params" with
// DataParallel's prefix) loads back with its size inferred and equal
// values; a state dict with a missing key is refused, naming the key.
func TestDnCNNLoadsItsStateDict(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := DnCNNConfig{Channels: 1, Features: 4, Layers: 4}
	m, err := NewDnCNN(cfg, tb.Options{DType: tb.Float64}, 2)
	must(t, err)
	defer m.Close()
	prefixed := tb.NewDict()
	sd := m.StateDict()
	for i, k := range sd.Keys {
		prefixed.Set("module."+k.(string), sd.Values[i])
	}
	wrapped := tb.NewDict()
	wrapped.Set("params", prefixed)
	path := filepath.Join(dir, "wrapped.pth")
	must(t, tb.Save(path, wrapped))
	back, err := LoadDnCNN(path, tb.Options{DType: tb.Float64})
	must(t, err)
	defer back.Close()
	if back.Config != cfg {
		t.Fatalf("inferred %v, want %v", back.Config, cfg)
	}
	mustTry(t, func() {
		mine, theirs := m.StateDict(), back.StateDict()
		for i, k := range mine.Keys {
			if d := maxAbsErr(t, mine.Values[i].(*tb.Tensor), theirs.Values[i].(*tb.Tensor)); d != 0 {
				t.Errorf("%v differs by %g after the round trip", k, d)
			}
		}
	})
	partial := tb.NewDict()
	for i, k := range sd.Keys {
		if k != "model.3.running_var" {
			partial.Set(k, sd.Values[i])
		}
	}
	if err := m.LoadStateDict(partial); err == nil || !strings.Contains(err.Error(), `"model.3.running_var"`) {
		t.Errorf("loading without model.3.running_var: %v", err)
	}
}

// dictTensor is d[key], which must be a tensor.
func dictTensor(t *testing.T, d *tb.Dict, key string) *tb.Tensor {
	t.Helper()
	v, ok := d.Get(key)
	x, isTensor := v.(*tb.Tensor)
	if !ok || !isTensor {
		t.Fatalf("reference output has no tensor %q", key)
	}
	return x
}

// TestDnCNNTorchScriptExport: Python's torch.jit.load runs the exported
// denoiser and gets Denoise's output (float32 on both sides, the same
// kernels: 1e-5), after a training forward pass has moved the running
// statistics away from their initial values.
func TestDnCNNTorchScriptExport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path, in := filepath.Join(dir, "dncnn.pt"), filepath.Join(dir, "in.pth")
	m, err := NewDnCNN(DnCNNConfig{Channels: 3, Features: 8, Layers: 5}, tb.Options{}, 7)
	must(t, err)
	defer m.Close()
	var ours []float64
	tb.WithScope(func(*tb.Scope) {
		mustTry(t, func() {
			g := tb.NewGenerator(8, tb.CPU)
			defer g.Close()
			x := tb.Rand([]int64{2, 3, 10, 14}, tb.Options{}, g)
			_, _, err := m.Loss(x, x, DnCNNL1) // updates the running statistics
			must(t, err)
			y, err := m.Denoise(x)
			must(t, err)
			ours = y.Float64s()
			d := tb.NewDict()
			d.Set("x", x)
			must(t, tb.Save(in, d))
		})
	})
	must(t, m.ExportTorchScript(path))
	out := strings.Fields(testkit.RunPython(t, `
import sys, torch
g = torch.jit.load(sys.argv[1])
with torch.no_grad():
    y = g(torch.load(sys.argv[2])["x"])
print(" ".join(repr(v) for v in y.flatten().tolist()))
`, path, in))
	if len(out) != len(ours) {
		t.Fatalf("python returned %d values, we %d", len(out), len(ours))
	}
	for i, f := range out {
		var v float64
		fmt.Sscan(f, &v)
		if math.Abs(v-ours[i]) > 1e-5 {
			t.Fatalf("element %d: torch.jit %v, Denoise %v", i, v, ours[i])
		}
	}
}
