package model

import (
	"fmt"
	"math"
	"testing"

	tb "github.com/ludvae/ludvae/torchbind"
)

const (
	officialStateDict = "../testdata/official/f8_state_dict.pth"
	officialVectors   = "../testdata/official/f8_vectors.pth"
)

// vectors is the authors' reference computation (docs/design.md §5).
type vectors struct{ d *tb.Dict }

func loadVectors(t *testing.T) vectors {
	t.Helper()
	d, err := tb.LoadDict(officialVectors)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.CloseAll(d) })
	return vectors{d}
}

func (v vectors) get(t *testing.T, key string) *tb.Tensor {
	t.Helper()
	x, ok := v.d.Get(key)
	if !ok {
		t.Fatalf("reference vectors have no %q", key)
	}
	return x.(*tb.Tensor)
}

// noise returns the reference ε at every sampling site, converted to dt.
func (v vectors) noise(t *testing.T, dt tb.DType, dev tb.Device) Noise {
	n := Noise{Eps: map[Site]*tb.Tensor{}}
	for l := 1; l <= 3; l++ {
		n.Eps[PostSite(l)] = v.get(t, fmt.Sprintf("eps_post_%d", l)).To(dt, dev)
		n.Eps[PriorSite(l)] = v.get(t, fmt.Sprintf("eps_prior_%d", l)).To(dt, dev)
	}
	return n
}

// degraded reads the per-sample domain labels.
func (v vectors) degraded(t *testing.T) []bool {
	var d []bool
	for _, l := range v.get(t, "label").Float64s() {
		d = append(d, l == 1)
	}
	return d
}

// maxAbsErr is max |a−b| over all elements.
func maxAbsErr(t *testing.T, a, b *tb.Tensor) float64 {
	t.Helper()
	x, y := a.Float64s(), b.Float64s()
	if len(x) != len(y) {
		t.Fatalf("comparing %v with %v", a.Shape(), b.Shape())
	}
	m := 0.0
	for i := range x {
		d := math.Abs(x[i] - y[i])
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		m = math.Max(m, d)
	}
	return m
}

func maxAbs(t *testing.T, a *tb.Tensor) float64 {
	m := 0.0
	for _, v := range a.Float64s() {
		m = math.Max(m, math.Abs(v))
	}
	return m
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustTry(t *testing.T, f func()) {
	t.Helper()
	must(t, tb.Try(f))
}
