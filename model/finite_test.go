package model

import (
	"math"
	"strings"
	"testing"

	tb "github.com/ludvae/ludvae/torchbind"
)

// TestCheckFinite: a fresh model passes; one NaN or infinity in any
// parameter is refused, naming that parameter.
func TestCheckFinite(t *testing.T) {
	t.Parallel()
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		m, err := New(Config{Channels: 3, Filters: 4, Levels: 2}, tb.Options{}, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.CheckFinite(); err != nil {
			t.Fatalf("fresh model refused: %v", err)
		}
		p := m.Params()[7]
		tb.NoGrad(func() { p.Tensor.Narrow(0, 1, 1).Fill(bad) })
		err = m.CheckFinite()
		if err == nil || !strings.Contains(err.Error(), p.Name) {
			t.Errorf("%g in %s: got %v, want an error naming it", bad, p.Name, err)
		}
		m.Close()
	}
}
