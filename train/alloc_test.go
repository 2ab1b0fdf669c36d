package train

import (
	"context"
	"io"
	"testing"

	"github.com/ludvae/ludvae/internal/layout"
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// TestStepsMapNoNewMemory: once a few training steps of a batch's shapes
// have run, a step takes every large block it needs from the CPU allocator's cache, in
// every layout: no new mappings, so no fresh pages to fault in. (With the
// cache bounded by the largest live total alone, a step's mix of block
// sizes unmapped and mapped 9–14 blocks every step, 2,300–5,600 page
// faults, shim/alloc.cpp.)
func TestStepsMapNoNewMemory(t *testing.T) {
	c := tinyConfig(t)
	c.Filters, c.Levels, c.Patch = 32, 3, 32 // activations of 512 KiB: the cache's blocks
	d, err := LoadData(context.Background(), &c, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rt := testRuntime(t, c)
	lays := []layout.Layout{layout.NCHW, layout.NHWC}
	if tb.OneDNN() {
		lays = append(lays, layout.Blocked)
	}
	for _, l := range lays {
		err := func() error {
			m, err := model.New(model.Config{Channels: 3, Filters: c.Filters, Levels: c.Levels}, tb.Options{DType: tb.Float32}, 1)
			if err != nil {
				return err
			}
			defer m.Close()
			if err := m.ToLayout(l); err != nil {
				return err
			}
			opt := tb.NewAdam(m.Tensors(), tb.DefaultAdam)
			defer opt.Close()
			s, err := NewStepper(rt, m, opt, &c, io.Discard)
			if err != nil {
				return err
			}
			defer s.Close()
			var maps []int64
			b := d.MakeBatch(&c, 1) // one batch's shapes: a new count of degraded rows maps new sizes
			for step := 1; step <= 12; step++ {
				b.Step = step
				if _, err := s.Step(b); err != nil {
					return err
				}
				_, _, _, n := tb.CPUCacheStats()
				maps = append(maps, n)
			}
			if maps[len(maps)-1] != maps[3] {
				t.Errorf("%s: mappings made after each of 12 steps %v: steps 5-12 mapped %d new blocks", l, maps, maps[len(maps)-1]-maps[3])
			}
			return nil
		}()
		if err != nil {
			t.Fatal(err)
		}
	}
}
