package testkit_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// recorder is a test that records its errors instead of failing, to check
// what a helper reports.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// TestRefused: an error that is the target and names every wanted string
// passes silently; a missing string and another error are reported, one
// error each.
func TestRefused(t *testing.T) {
	t.Parallel()
	locked := errors.New("locked")
	err := fmt.Errorf("--out run: %w by PID 7", locked)
	for _, c := range []struct {
		err   error
		wants []string
		ok    bool
		errs  int
	}{
		{err, []string{"PID 7", "--out run"}, true, 0},
		{err, []string{"PID 8", "--out run", "PID 9"}, false, 2},
		{errors.New("locked by PID 7"), []string{"PID 7"}, false, 1},
		{nil, nil, false, 1},
	} {
		r := &recorder{TB: t}
		if ok := testkit.Refused(r, c.err, locked, c.wants...); ok != c.ok || len(r.errs) != c.errs {
			t.Errorf("Refused(%v, %q): %v with errors %q; want %v with %d", c.err, c.wants, ok, r.errs, c.ok, c.errs)
		}
	}
}

// TestNoTempFiles: each temporary file, in subfolders too, is one error
// naming it; other files are none.
func TestNoTempFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, f := range []string{"a.pth", ".a.pth.tmp1", filepath.Join("sub", ".b.png.tmp2"), filepath.Join("sub", "b.png")} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := &recorder{TB: t}
	testkit.NoTempFiles(r, dir, func(n string) bool { return strings.Contains(n, ".tmp") })
	if len(r.errs) != 2 || !strings.Contains(r.errs[0], ".a.pth.tmp1") || !strings.Contains(r.errs[1], ".b.png.tmp2") {
		t.Errorf("errors %q, want the two temporary files", r.errs)
	}
}

// holding is what TestHolderHelper is given through the environment.
type holding struct {
	What string
	N    int
}

// TestStartHolder: a holder process started with a JSON value in its
// environment reads it back (EnvJSON, FromEnvJSON), says it holds, and is
// killed; a holder whose hold fails says why instead, which StartHolder
// reports.
func TestStartHolder(t *testing.T) {
	t.Parallel()
	cmd := testkit.StartHolder(t, "TestHolderHelper", "holding lock 3", testkit.EnvJSON(t, "LUDVAE_TEST_TESTKIT_HOLD", holding{"lock", 3}))
	cmd.Process.Kill()
	if err := cmd.Wait(); err == nil {
		t.Error("the killed holder exited cleanly")
	}
	out, _ := testkit.Subprocess("TestHolderHelper", testkit.EnvJSON(t, "LUDVAE_TEST_TESTKIT_HOLD", holding{"", 0})).Output()
	if got := strings.TrimSpace(string(out)); got != "nothing to hold" {
		t.Errorf("a failed hold said %q", got)
	}
}

// TestHolderHelper is TestStartHolder's other process. Run on its own it
// does nothing.
func TestHolderHelper(t *testing.T) {
	var h holding
	if !testkit.FromEnvJSON(t, "LUDVAE_TEST_TESTKIT_HOLD", &h) {
		return
	}
	var err error
	if h.What == "" {
		err = errors.New("nothing to hold")
	}
	testkit.Hold(fmt.Sprintf("holding %s %d", h.What, h.N), err)
}
