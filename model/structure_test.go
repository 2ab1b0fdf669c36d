package model

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/testkit"
	tb "github.com/ludvae/ludvae/torchbind"
)

func TestDefaultParameterCount(t *testing.T) {
	t.Parallel()
	m, err := New(Default, tb.Options{}, 1)
	must(t, err)
	defer m.Close()
	if n := m.NumParams(); n != 5709827 {
		t.Fatalf("default network has %d parameters, the paper's is 5,709,827", n)
	}
}

// TestKeysAndShapesMatchReference compares every key and shape, in order,
// with the Python reference network for levels 1–5.
func TestKeysAndShapesMatchReference(t *testing.T) {
	t.Parallel()
	want := testkit.RunPython(t, `
from ludvae_ref import LUDVAE
for L in range(1, 6):
    m = LUDVAE(3, 4, L)
    print(";".join("%s%s" % (k, list(v.shape)) for k, v in m.state_dict().items()))
`)
	for i, line := range strings.Split(want, "\n") {
		cfg := Config{Channels: 3, Filters: 4, Levels: i + 1}
		m, err := New(cfg, tb.Options{}, 1)
		must(t, err)
		var got []string
		for _, p := range m.Params() {
			got = append(got, fmt.Sprintf("%s%v", p.Name, strings.ReplaceAll(fmt.Sprint(p.Tensor.Shape()), " ", ", ")))
		}
		if g := strings.Join(got, ";"); g != line {
			t.Errorf("levels %d: keys/shapes\n%s\nwant\n%s", cfg.Levels, g, line)
		}
		inferred, err := InferConfig(m.StateDict())
		must(t, err)
		if inferred != cfg {
			t.Errorf("inferred %v from a %v state dict", inferred, cfg)
		}
		m.Close()
	}
}

func TestStrictLoadErrors(t *testing.T) {
	t.Parallel()
	sd, err := tb.LoadDict(officialStateDict)
	must(t, err)
	defer tb.CloseAll(sd)
	m, err := FromStateDict(sd, tb.Options{DType: tb.Float64})
	must(t, err)
	defer m.Close()
	if m.Config != (Config{Channels: 3, Filters: 8, Levels: 3}) {
		t.Fatalf("inferred %v from the f8 state dict", m.Config)
	}
	edit := func(f func(d *tb.Dict)) *tb.Dict {
		d := tb.NewDict()
		for i, k := range sd.Keys {
			d.Set(k, sd.Values[i])
		}
		f(d)
		return d
	}
	cases := []struct {
		name string
		sd   *tb.Dict
		want string
	}{
		{"missing", edit(func(d *tb.Dict) {
			i := indexOf(d, "proj_c_1.proj.bias")
			d.Keys = append(d.Keys[:i], d.Keys[i+1:]...)
			d.Values = append(d.Values[:i], d.Values[i+1:]...)
		}), `missing key "proj_c_1.proj.bias"`},
		{"unexpected", edit(func(d *tb.Dict) { d.Set("enc_1.net.8.weight", tb.Zeros([]int64{1}, tb.Options{})) }), `unexpected key(s) ["enc_1.net.8.weight"]`},
		{"wrong shape", edit(func(d *tb.Dict) { d.Set("outconv.bias", tb.Zeros([]int64{4}, tb.Options{})) }), `"outconv.bias" has shape [4], the model expects [3]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := m.LoadStateDict(c.sd)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to say %s", err, c.want)
			}
		})
	}
}

func indexOf(d *tb.Dict, key string) int {
	for i, k := range d.Keys {
		if k == key {
			return i
		}
	}
	return -1
}

// TestExportLoadsIntoAuthorsClass saves our state dict and loads it into the
// Python network with load_state_dict(strict=True); the two then compute the
// same C2N output.
func TestExportLoadsIntoAuthorsClass(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path, in := filepath.Join(dir, "exported.pth"), filepath.Join(dir, "in.pth")
	m, err := New(Config{Channels: 3, Filters: 6, Levels: 2}, tb.Options{DType: tb.Float64}, 9)
	must(t, err)
	defer m.Close()
	must(t, m.SaveStateDict(path))
	var ours []float64
	tb.WithScope(func(*tb.Scope) {
		mustTry(t, func() {
			g := tb.NewGenerator(4, tb.CPU)
			defer g.Close()
			h := tb.Rand([]int64{2, 3, 8, 8}, tb.Options{DType: tb.Float64}, g)
			noise := Noise{Eps: map[Site]*tb.Tensor{
				PriorSite(2): tb.Randn([]int64{2, 6, 8, 8}, tb.Options{DType: tb.Float64}, g),
				PriorSite(1): tb.Randn([]int64{2, 6, 8, 8}, tb.Options{DType: tb.Float64}, g),
			}}
			out, err := m.TranslateH(h, 0.7, noise)
			must(t, err)
			ours = out.Float64s()
			d := tb.NewDict()
			d.Set("h", h)
			d.Set("prior_2", noise.Eps[PriorSite(2)])
			d.Set("prior_1", noise.Eps[PriorSite(1)])
			must(t, tb.Save(in, d))
		})
	})
	got := testkit.RunPython(t, `
import sys, torch
from ludvae_ref import LUDVAE
m = LUDVAE(3, 6, 2).double()
m.load_state_dict(torch.load(sys.argv[1]), strict=True)
d = torch.load(sys.argv[2])
y = m.translate(d["h"], 0.7, {"prior_2": d["prior_2"], "prior_1": d["prior_1"]})
print(" ".join(repr(v) for v in y.flatten().tolist()))
`, path, in)
	fs := strings.Fields(got)
	if len(fs) != len(ours) {
		t.Fatalf("python returned %d values, we %d", len(fs), len(ours))
	}
	for i, f := range fs {
		var v float64
		fmt.Sscan(f, &v)
		if d := v - ours[i]; d > 1e-12 || d < -1e-12 {
			t.Fatalf("element %d: python %v, go %v", i, v, ours[i])
		}
	}
}

// TestLoadWrappedStateDicts loads the authors' f8 state dict as people save
// it: plain, inside {"state_dict": ...} or {"params": ...}, and with
// DataParallel's "module." prefix.
func TestLoadWrappedStateDicts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sd, err := tb.LoadDict(officialStateDict)
	must(t, err)
	defer tb.CloseAll(sd)
	prefixed := tb.NewDict()
	for i, k := range sd.Keys {
		prefixed.Set("module."+k.(string), sd.Values[i])
	}
	wrap := func(key string, v *tb.Dict) *tb.Dict {
		d := tb.NewDict()
		d.Set(key, v)
		d.Set("iteration", int64(5))
		return d
	}
	ref, err := Load(officialStateDict, tb.Options{DType: tb.Float64})
	must(t, err)
	defer ref.Close()
	for name, v := range map[string]*tb.Dict{"state_dict": wrap("state_dict", sd), "params": wrap("params", sd), "module": prefixed} {
		path := filepath.Join(dir, name+".pth")
		must(t, tb.Save(path, v))
		m, err := Load(path, tb.Options{DType: tb.Float64})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		mustTry(t, func() {
			for i, p := range m.Params() {
				if d := maxAbsErr(t, p.Tensor, ref.Params()[i].Tensor); d != 0 {
					t.Fatalf("%s: %s differs by %g", name, p.Name, d)
				}
			}
		})
		m.Close()
	}
}
