package store

import (
	"math/rand/v2"
	"os"
	"testing"

	"github.com/ludvae/ludvae/internal/images"
)

// BenchmarkReadRect reads random 64×64 crops from a stored photo of
// SIDD's size (STORE_BENCH_DIR names a built store; else a small one is
// made), one goroutine.
func BenchmarkReadRect(b *testing.B) {
	dir := os.Getenv("STORE_BENCH_DIR")
	if dir == "" {
		root := b.TempDir()
		writeSource(b, root+"/d", 1, 1200, 900, 1)
		dir = root + "/d.lvs"
		build(b, dir, root+"/d", Options{})
	}
	s, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	m := s.Image(0)
	rng := rand.New(rand.NewPCG(1, 1))
	dst := images.New(64, 64)
	var buf []byte
	b.ResetTimer()
	for range b.N {
		x, y := images.RandomOrigin(m.Width, m.Height, 64, rng)
		if buf, err = m.ReadRect(dst, x, y, buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "crops/s")
}
