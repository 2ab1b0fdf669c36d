package train

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/testkit"
	"github.com/ludvae/ludvae/internal/testkit/tbtest"
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// testRuntime is a runtime of c's settings, closed when the test ends.
func testRuntime(t testing.TB, c Config) *tb.Runtime {
	t.Helper()
	return tbtest.Runtime(t, c.RuntimeSettings)
}

// testDevices are the devices a test compares on: the CPU, and CUDA where
// this machine has a GPU (make gpu-check).
func testDevices() []string {
	if tb.CUDADeviceCount() > 0 {
		return []string{"cpu", "cuda"}
	}
	return []string{"cpu"}
}

// trainRun is Run as `ludvae train` calls it: on a runtime of c's
// settings, made for the run and closed after it.
func trainRun(ctx context.Context, c Config, log io.Writer) error {
	return tb.WithRuntime(c.RuntimeSettings, func(rt *tb.Runtime) error { return Run(ctx, rt, c, log) })
}

// writeImages writes n generated PNGs of size w×h: smooth colour fields,
// with noise added when noisy is set, so the two domains differ.
func writeImages(t testing.TB, dir string, n, w, h int, noisy bool, seed uint64) {
	t.Helper()
	var noise testkit.Noise
	if noisy {
		noise.Sigma = 0.08
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	testkit.WritePhotos(t, dir, n, "img%03d.png", func(int) testkit.Photo { return testkit.SmoothPhoto(w, h, rng, noise) })
}

// tinyConfig is a run small enough for a unit test.
func tinyConfig(t testing.TB) Config {
	dir := t.TempDir()
	writeImages(t, filepath.Join(dir, "clean"), 3, 40, 36, false, 1)
	writeImages(t, filepath.Join(dir, "noisy"), 3, 36, 40, true, 2)
	c := Defaults()
	c.Clean, c.Noisy, c.Out = filepath.Join(dir, "clean"), filepath.Join(dir, "noisy"), filepath.Join(dir, "run")
	c.Filters, c.Levels, c.Patch, c.Batch = 4, 2, 16, 4
	c.Steps, c.LogEvery, c.SaveEvery, c.SampleEvery = 12, 1, 6, 0
	c.Device, c.Threads, c.LR = "cpu", 2, 1e-3
	return c
}

// stepOf reads the step number from a checkpoint file name.
func stepOf(path string) int {
	var s int
	fmt.Sscanf(filepath.Base(path), "ckpt_%d.pth", &s)
	return s
}

// decodeAll decodes the images under dir as training did before image
// stores: every file in memory, downscaled by k (MATLAB bicubic, 8 bits).
func decodeAll(t testing.TB, dir string, k int) []*images.Image {
	t.Helper()
	paths, err := images.Find(dir)
	if err != nil {
		t.Fatal(err)
	}
	imgs, _, err := images.LoadAll(paths, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	if k > 1 {
		for i, m := range imgs {
			imgs[i] = images.Downscale8(m, k)
		}
	}
	return imgs
}

// inMemoryNormalization is --normalize auto computed over decoded images,
// pixel by pixel: the reference for the statistics from a store's sums.
func inMemoryNormalization(clean, noisy []*images.Image) *model.Normalization {
	stats := func(imgs []*images.Image) (mean, std [3]float64) {
		var sum, sq [3]float64
		var count float64
		for _, m := range imgs {
			for c := range 3 {
				for _, v := range m.Plane(c) {
					sum[c] += float64(v)
					sq[c] += float64(v) * float64(v)
				}
			}
			count += float64(m.W * m.H)
		}
		return meanStd(sum, sq, count)
	}
	n := &model.Normalization{}
	n.CleanMean, n.CleanStd = stats(clean)
	n.NoisyMean, n.NoisyStd = stats(noisy)
	return n
}
