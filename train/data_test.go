package train

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/images"
)

func TestDataErrors(t *testing.T) {
	t.Parallel()
	c := tinyConfig(t)
	empty := t.TempDir()
	bigPatch := c
	bigPatch.Patch = 38
	corrupt := c
	corrupt.Noisy = t.TempDir()
	writeImages(t, corrupt.Noisy, 2, 40, 40, true, 3)
	os.WriteFile(filepath.Join(corrupt.Noisy, "broken.png"), []byte("not a png"), 0o644)
	emptyDomain := c
	emptyDomain.Clean = empty
	cases := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"empty domain", emptyDomain, []string{"--clean", empty}},
		{"smaller than the crop", bigPatch, []string{"img000.png", "36"}},
		{"corrupt file", corrupt, []string{"broken.png", "--skip-bad"}},
	}
	for _, cs := range cases {
		t.Run(cs.name, func(t *testing.T) {
			_, err := LoadData(t.Context(), &cs.cfg, io.Discard)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range cs.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	corrupt.SkipBad = true
	var log strings.Builder
	d, err := LoadData(t.Context(), &corrupt, &log)
	if err != nil || len(d.Noisy) != 2 || !strings.Contains(log.String(), "broken.png") {
		t.Fatalf("--skip-bad: %v, %d images, log %q", err, len(d.Noisy), log.String())
	}
}

func TestBatchesAreDeterministicAndBalanced(t *testing.T) {
	t.Parallel()
	c := tinyConfig(t)
	d, err := LoadData(t.Context(), &c, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c.Batch = 64
	a, b := d.MakeBatch(&c, 5), d.MakeBatch(&c, 5)
	for i := range a.Pix {
		if a.Pix[i] != b.Pix[i] {
			t.Fatal("same step, different batch")
		}
	}
	deg := 0
	for _, x := range a.Degraded {
		if x {
			deg++
		}
	}
	// Binomial(64, ½): 32 ± 4; outside [12, 52] has probability < 1e-6.
	if deg < 12 || deg > 52 {
		t.Fatalf("%d of 64 samples degraded", deg)
	}
	// Batches delivered by the goroutine pipeline equal MakeBatch's.
	ch := d.Batches(t.Context(), &c, 3, 6, 2)
	for s := 3; s <= 6; s++ {
		got := <-ch
		want := d.MakeBatch(&c, s)
		if got.Step != s || got.Pix[100] != want.Pix[100] {
			t.Fatalf("pipeline batch %d differs", s)
		}
	}
}

// TestReadRows: a rank that reads only its rows of each batch gets the
// pixels the whole batch has in those rows, bit for bit, and every row's
// domain: the rows it skips are drawn all the same. Each batch carries its
// shape: the whole batch's N×3×P×P, a rank's rows×3×P×P, and a share of
// the whole batch is the batch read for those rows.
func TestReadRows(t *testing.T) {
	t.Parallel()
	c := tinyConfig(t)
	d, err := LoadData(t.Context(), &c, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c.Batch = 10
	n := 3 * c.Patch * c.Patch
	for _, r := range [][2]int{{0, 4}, {4, 7}, {7, 10}, {9, 10}} {
		for step := 1; step <= 3; step++ {
			d.ReadRows(0, 0)
			whole := d.MakeBatch(&c, step)
			d.ReadRows(r[0], r[1])
			part := d.MakeBatch(&c, step)
			if part.Err != nil || whole.Err != nil {
				t.Fatal(part.Err, whole.Err)
			}
			if part.Lo != r[0] || len(part.Pix) != (r[1]-r[0])*n || !slices.Equal(part.Pix, whole.Pix[r[0]*n:r[1]*n]) {
				t.Fatalf("rows %v, step %d: Lo %d, %d values; want %d, %d values equal to the whole batch's", r, step, part.Lo, len(part.Pix), r[0], (r[1]-r[0])*n)
			}
			if !slices.Equal(part.Degraded, whole.Degraded) {
				t.Fatalf("rows %v, step %d: domains %v, whole batch %v", r, step, part.Degraded, whole.Degraded)
			}
			p := int64(c.Patch)
			share := whole.share(r[0], r[1])
			if fmt.Sprint(whole.Shape(), part.Shape(), share.Shape()) != fmt.Sprint([]int64{10, 3, p, p}, []int64{int64(r[1] - r[0]), 3, p, p}, part.Shape()) ||
				!slices.Equal(share.Pix, part.Pix) {
				t.Fatalf("rows %v, step %d: shapes whole %v, read %v, share %v (equal pixels %v)", r, step, whole.Shape(), part.Shape(), share.Shape(), slices.Equal(share.Pix, part.Pix))
			}
		}
	}
}

// TestNormalization: --normalize auto measures both domains from the
// stores' sums, equal within 1e-12 relative to the in-memory computation
// over the decoded images (float64 sums of the same values in another
// order), and keeps the degraded images as read (each step maps its crops,
// TestStepInputs); FromClean undoes ToClean.
func TestNormalization(t *testing.T) {
	t.Parallel()
	c := tinyConfig(t)
	c.Normalize = "auto"
	d, err := LoadData(t.Context(), &c, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	clean, noisy := decodeAll(t, c.Clean, 1), decodeAll(t, c.Noisy, 1)
	want := inMemoryNormalization(clean, noisy)
	got := [][3]float64{d.Norm.CleanMean, d.Norm.CleanStd, d.Norm.NoisyMean, d.Norm.NoisyStd}
	for i, w := range [][3]float64{want.CleanMean, want.CleanStd, want.NoisyMean, want.NoisyStd} {
		for ch := range 3 {
			if rel := math.Abs(got[i][ch]-w[ch]) / w[ch]; rel > 1e-12 {
				t.Errorf("statistic %d channel %d: %.17g, in memory %.17g (relative %.2g)", i, ch, got[i][ch], w[ch], rel)
			}
		}
	}
	for i, m := range d.Noisy {
		got, err := m.Load()
		if err != nil || !slices.Equal(got.Pix, noisy[i].Pix) {
			t.Fatalf("%s: the degraded image is not kept as read (%v)", m.Path, err)
		}
	}
	if b := d.MakeBatch(&c, 1); b.Norm != d.Norm {
		t.Errorf("batches do not carry the statistics")
	}
	m := images.New(2, 1)
	copy(m.Pix, []float32{0.2, 0.8, 0.3, 0.6, 0.5, 0.5})
	orig := m.Clone()
	d.Norm.FromClean(m)
	d.Norm.ToClean(m)
	for i := range m.Pix {
		if math.Abs(float64(m.Pix[i]-orig.Pix[i])) > 1e-6 {
			t.Fatalf("FromClean then ToClean changed %v to %v", orig.Pix, m.Pix)
		}
	}
}

// BenchmarkBatches measures augmented 64×64 crops per second from images in
// memory, the rate the loader must beat (2,000/s) to stay ahead of training.
func BenchmarkBatches(b *testing.B) {
	c := tinyConfig(b)
	dir := b.TempDir()
	writeImages(b, filepath.Join(dir, "c"), 4, 256, 256, false, 1)
	writeImages(b, filepath.Join(dir, "n"), 4, 256, 256, true, 2)
	c.Clean, c.Noisy, c.Patch, c.Batch = filepath.Join(dir, "c"), filepath.Join(dir, "n"), 64, 16
	d, err := LoadData(b.Context(), &c, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	ch := d.Batches(b.Context(), &c, 1, b.N, 8)
	for range ch {
	}
	b.ReportMetric(float64(b.N*c.Batch)/b.Elapsed().Seconds(), "crops/s")
}
