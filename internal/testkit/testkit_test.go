package testkit_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/testkit"
)

// TestWritePNGIsSavePNG: a photo written by WritePNG reads back (with
// images.Load, which is checked against PIL elsewhere) exactly as the same
// pixels written by images.SavePNG do, out-of-range and NaN values
// included; a RandomPhoto reads back bit for bit; SmoothPhoto's noise
// changes it, and two draws of one rng differ.
func TestWritePNGIsSavePNG(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	clean, noisy := testkit.SmoothPhoto(23, 17, rng, testkit.Noise{}), testkit.SmoothPhoto(23, 17, rng, testkit.Noise{Sigma: 0.2, Corr: 0.6})
	odd := testkit.RandomPhoto(5, 4, rng)
	odd.Pix[0], odd.Pix[1], odd.Pix[2], odd.Pix[3] = float32(math.NaN()), -0.5, 1.5, 0.5/255 // near a tie
	for name, p := range map[string]testkit.Photo{"clean": clean, "noisy": noisy, "odd": odd} {
		ours, theirs := filepath.Join(dir, name+"_kit.png"), filepath.Join(dir, name+"_images.png")
		testkit.WritePNG(t, ours, p)
		if err := images.SavePNG(theirs, &images.Image{W: p.W, H: p.H, Pix: p.Pix}, 8); err != nil {
			t.Fatal(err)
		}
		a, errA := images.Load(ours)
		b, errB := images.Load(theirs)
		if errA != nil || errB != nil || a.W != p.W || a.H != p.H || !slices.Equal(a.Pix, b.Pix) {
			t.Errorf("%s: WritePNG and SavePNG read back differently (%v, %v)", name, errA, errB)
		}
	}
	random := testkit.RandomPhoto(9, 7, rng)
	paths := testkit.WritePhotos(t, filepath.Join(dir, "set"), 2, "r%d.png", func(int) testkit.Photo { return random })
	if back, err := images.Load(paths[1]); err != nil || !slices.Equal(back.Pix, random.Pix) || filepath.Base(paths[1]) != "r1.png" {
		t.Errorf("RandomPhoto did not read back exactly from %s: %v", paths[1], err)
	}
	if slices.Equal(clean.Pix, testkit.SmoothPhoto(23, 17, rand.New(rand.NewPCG(1, 2)), testkit.Noise{Sigma: 0.2}).Pix) {
		t.Error("SmoothPhoto's noise left the photo as it was")
	}
	if again := testkit.SmoothPhoto(23, 17, rand.New(rand.NewPCG(1, 2)), testkit.Noise{}); !slices.Equal(again.Pix, clean.Pix) || slices.Equal(again.Pix, testkit.SmoothPhoto(23, 17, rng, testkit.Noise{}).Pix) {
		t.Error("SmoothPhoto is not a function of its rng's draws")
	}
}

// TestRunPython: the interpreter imports torch, runs a script with its
// arguments and the reference folder model/python on its path.
func TestRunPython(t *testing.T) {
	testkit.Require(t, "torch", "numpy")
	got := testkit.RunPython(t, `import sys, torch, os
print(int(torch.tensor([int(a) for a in sys.argv[1:]]).sum()), os.path.isfile(os.path.join(sys.path[1], "ludvae_ref.py")))`, "2", "40")
	if got != "42 True" {
		t.Errorf("python printed %q, want \"42 True\"", got)
	}
	if _, err := os.Stat(filepath.Join(testkit.Root(), "go.mod")); err != nil {
		t.Errorf("Root %s is not the repository's: %v", testkit.Root(), err)
	}
}

// TestFreePort: the port can be listened on.
func TestFreePort(t *testing.T) {
	port := testkit.FreePort(t)
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("port %d: %v", port, err)
	}
	l.Close()
}

// TestReadCSV: the rows, the header first, quoted fields parsed.
func TestReadCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.csv")
	if err := os.WriteFile(path, []byte("step,loss\n1,\"0.5\"\n2,0.25\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(testkit.ReadCSV(t, path)); got != "[[step loss] [1 0.5] [2 0.25]]" {
		t.Errorf("rows %s", got)
	}
}
