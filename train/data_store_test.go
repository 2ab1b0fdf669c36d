package train

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/train/store"
)

// decodedBatch is MakeBatch as it was before image stores: crops of images
// decoded into memory, drawn by images.RandomAugmentedCropInto.
func decodedBatch(cfg *Config, clean, noisy []*images.Image, step int) []float32 {
	rng := rand.New(rand.NewPCG(cfg.Seed, uint64(step)))
	p := cfg.Patch
	pix := make([]float32, cfg.Batch*3*p*p)
	for i := range cfg.Batch {
		pool := clean
		if rng.IntN(2) == 1 {
			pool = noisy
		}
		dst := &images.Image{W: p, H: p, Pix: pix[i*3*p*p : (i+1)*3*p*p]}
		images.RandomAugmentedCropInto(dst, pool[rng.IntN(len(pool))], rng)
	}
	return pix
}

// TestStoreCropsEqualDecoded: for the same seed the store yields exactly,
// value for value, the crops that decoding the files gave: 8-bit and
// 16-bit sources (kept 16-bit), clean images downscaled for SR, crops near
// every edge and all eight augmentations, through images of 40 and of
// 1,500 pixels' width (one read per crop, and one read per row).
func TestStoreCropsEqualDecoded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeImages(t, filepath.Join(dir, "clean"), 2, 160, 132, false, 1)
	writeImages(t, filepath.Join(dir, "noisy"), 2, 40, 36, true, 2)
	write16(t, filepath.Join(dir, "noisy", "deep.png"), 1500, 70, 3)
	cases := []struct {
		name      string
		downscale int
	}{{"as read", 1}, {"clean downscaled x4", 4}}
	for _, cs := range cases {
		t.Run(cs.name, func(t *testing.T) {
			c := Defaults()
			c.Clean, c.Noisy, c.Patch, c.Batch, c.Seed, c.Downscale = filepath.Join(dir, "clean"), filepath.Join(dir, "noisy"), 32, 16, 9, cs.downscale
			d, err := LoadData(t.Context(), &c, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if got := d.Noisy[0].DType; got != "uint16" {
				t.Errorf("16-bit source stored as %s", got)
			}
			clean, noisy := decodeAll(t, c.Clean, cs.downscale), decodeAll(t, c.Noisy, 1)
			for step := 1; step <= 40; step++ {
				b := d.MakeBatch(&c, step)
				if b.Err != nil {
					t.Fatal(b.Err)
				}
				if want := decodedBatch(&c, clean, noisy, step); !slices.Equal(b.Pix, want) {
					t.Fatalf("step %d: the store's crops differ from the decoded images'", step)
				}
			}
		})
	}
}

// write16 writes a 16-bit PNG whose values are not all 8-bit levels.
func write16(t *testing.T, path string, w, h int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	m := images.New(w, h)
	for i := range m.Pix {
		m.Pix[i] = float32(rng.IntN(65536)) / 65535
	}
	if err := images.SavePNG(path, m, 16); err != nil {
		t.Fatal(err)
	}
}

// TestDataFromStoreAlone: a run reads a store after its source folder is
// gone (a store copied to a GPU machine), with the same crops.
func TestDataFromStoreAlone(t *testing.T) {
	t.Parallel()
	c := tinyConfig(t)
	d, err := LoadData(t.Context(), &c, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := d.MakeBatch(&c, 3)
	d.Close()
	moved := t.TempDir()
	for _, dom := range []*string{&c.Clean, &c.Noisy} {
		sdir, _ := store.PathFor(*dom, 1, "")
		dst := filepath.Join(moved, filepath.Base(sdir))
		if err := os.Rename(sdir, dst); err != nil {
			t.Fatal(err)
		}
		os.RemoveAll(*dom)
		*dom = dst
	}
	d, err = LoadData(t.Context(), &c, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got := d.MakeBatch(&c, 3); !slices.Equal(got.Pix, want.Pix) {
		t.Fatal("the moved store gives other crops")
	}
	c.Downscale = 4
	if _, err := LoadData(t.Context(), &c, io.Discard); err == nil || !strings.Contains(err.Error(), "--downscale 4") {
		t.Errorf("a store of ×1 images used for --downscale 4: %v", err)
	}
}

// TestDataRefusesPipes: a named pipe among the images is refused (or
// skipped with --skip-bad) at once, never waited on.
func TestDataRefusesPipes(t *testing.T) {
	t.Parallel()
	c := tinyConfig(t)
	if err := syscall.Mkfifo(filepath.Join(c.Noisy, "pipe.png"), 0o644); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := LoadData(t.Context(), &c, io.Discard)
		errc <- err
	}()
	select {
	case err := <-errc:
		if err == nil || !strings.Contains(err.Error(), "pipe.png") || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("error %v, want one naming pipe.png as not a regular file", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("loading waits on a named pipe")
	}
	c.SkipBad = true
	var log strings.Builder
	d, err := LoadData(t.Context(), &c, &log)
	if err != nil || len(d.Noisy) != 3 || !strings.Contains(log.String(), "pipe.png") {
		t.Fatalf("--skip-bad: %v, %d images, log %q", err, len(d.Noisy), log.String())
	}
	d.Close()
}

// TestDataStopsOnCancel: a cancelled context stops the store's build and
// LoadData returns the context's error.
func TestDataStopsOnCancel(t *testing.T) {
	t.Parallel()
	c := tinyConfig(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := LoadData(ctx, &c, io.Discard); err == nil || !strings.Contains(err.Error(), context.Canceled.Error()) {
		t.Fatalf("cancelled load: %v", err)
	}
}

// cancelOn is a log that cancels a context once it is told something
// containing trigger, and records when.
type cancelOn struct {
	trigger string
	cancel  context.CancelFunc
	at      time.Time
	log     strings.Builder
}

func (c *cancelOn) Write(p []byte) (int, error) {
	c.log.Write(p)
	if c.at.IsZero() && strings.Contains(c.log.String(), c.trigger) {
		c.at = time.Now()
		c.cancel()
	}
	return len(p), nil
}

// TestRunStopsWhileBuildingStore: Ctrl-C (the context the CLI cancels on
// SIGINT/SIGTERM) stops a run while it decodes its images, within a
// second or so, and the next run resumes the store's build.
func TestRunStopsWhileBuildingStore(t *testing.T) {
	t.Parallel()
	c := tinyConfig(t)
	writeImages(t, c.Noisy, 40, 160, 120, true, 4)
	ctx, cancel := context.WithCancel(t.Context())
	log := &cancelOn{trigger: "decoding --noisy", cancel: cancel}
	err := trainRun(ctx, c, log)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("run cancelled while decoding: %v\n%s", err, log.log.String())
	}
	if d := time.Since(log.at); d > 10*time.Second {
		t.Errorf("the run took %v to stop", d)
	}
	sdir, _ := store.PathFor(c.Noisy, 1, "")
	if s, err := store.Open(sdir); err == nil {
		s.Close()
		t.Fatal("the interrupted build left a store that opens")
	}
	var again strings.Builder
	c.Steps = 1
	if err := trainRun(t.Context(), c, &again); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(again.String(), "resuming an interrupted build") {
		t.Errorf("the next run does not resume the build:\n%s", again.String())
	}
}
