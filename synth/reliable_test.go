package synth

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image"
	"image/jpeg"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// tree reads every file under dir, by '/'-separated relative path.
func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// sameTree reports the differences between two folders' files, but for
// shard manifests (which only sharded runs write).
func sameTree(t *testing.T, got, want string) {
	t.Helper()
	a, b := tree(t, got), tree(t, want)
	for _, m := range []map[string][]byte{a, b} {
		for name := range m {
			if strings.HasPrefix(name, "manifest-shard-") {
				delete(m, name)
			}
		}
	}
	for name, wb := range b {
		if gb, ok := a[name]; !ok {
			t.Errorf("%s: missing (present in %s)", name, want)
		} else if !bytes.Equal(gb, wb) {
			t.Errorf("%s: differs from %s's", name, want)
		}
	}
	for name := range a {
		if _, ok := b[name]; !ok {
			t.Errorf("%s: not in %s", name, want)
		}
	}
}

// checkHonest asserts what a synthesis folder must be at any time: no
// temporary files, and the files in L/ and H/ exactly the ones the
// manifest lists (so every listed file exists). It returns the rows.
func checkHonest(t *testing.T, out, manifest string) []Record {
	t.Helper()
	recs, err := readManifest(filepath.Join(out, manifest))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, r := range recs {
		listed[r.L], listed[r.H] = true, true
	}
	for name := range tree(t, out) {
		if strings.Contains(name, ".tmp") {
			t.Errorf("temporary file %s left behind", name)
		}
		if (strings.HasPrefix(name, DirL+"/") || strings.HasPrefix(name, DirH+"/")) && !listed[name] {
			t.Errorf("%s is on disk but not in %s", name, manifest)
		}
		delete(listed, name)
	}
	for name := range listed {
		t.Errorf("%s is listed in %s but not on disk", name, manifest)
	}
	return recs
}

// cancelAfter is a log that cancels a run once its progress reaches n
// pairs, and can run a hook at that moment.
type cancelAfter struct {
	n      string
	cancel func()
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	if strings.HasPrefix(string(p), "synth "+c.n+"/") {
		c.cancel()
	}
	return len(p), nil
}

func synthOptions(ckpt, clean, out string) Options {
	o := Defaults()
	o.Model, o.Clean, o.Out, o.Device, o.Seed, o.Samples, o.Threads = ckpt, clean, out, "cpu", 7, 2, 1
	return o
}

// TestRunStopsHonestlyAndResumes: a run cancelled part way (as SIGINT and
// SIGTERM do), one that meets a corrupt 9th image, and one whose input is
// deleted while it runs each stop with an error, leave a folder whose
// manifest lists exactly the complete pairs on disk and no temporary files,
// and a rerun of the same command completes it into the folder an
// uninterrupted run makes, byte for byte.
func TestRunStopsHonestlyAndResumes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean")
	writeClean(t, clean, 12)
	ckpt := saveTinyModel(t, dir, 1, nil)
	ref := filepath.Join(dir, "ref")
	if err := synthRun(context.Background(), synthOptions(ckpt, clean, ref), io.Discard); err != nil {
		t.Fatal(err)
	}
	if n := len(checkHonest(t, ref, Manifest)); n != 24 {
		t.Fatalf("reference run lists %d pairs, want 24", n)
	}

	t.Run("cancelled", func(t *testing.T) {
		out := filepath.Join(dir, "cancelled")
		ctx, cancel := context.WithCancel(context.Background())
		err := synthRun(ctx, synthOptions(ckpt, clean, out), &cancelAfter{n: "6", cancel: cancel})
		if err == nil || !strings.Contains(err.Error(), "interrupted") {
			t.Fatalf("cancelled run returned %v", err)
		}
		n := len(checkHonest(t, out, Manifest))
		t.Logf("cancelled after 6 pairs were made: %d listed", n)
		if n < 6 || n >= 24 {
			t.Errorf("cancelled after 6 pairs, %d listed", n)
		}
		if err := synthRun(context.Background(), synthOptions(ckpt, clean, out), io.Discard); err != nil {
			t.Fatal(err)
		}
		sameTree(t, out, ref)
	})

	t.Run("corrupt 9th image", func(t *testing.T) {
		in := filepath.Join(dir, "corrupt")
		os.CopyFS(in, os.DirFS(clean))
		ninth := filepath.Join(in, "i.png")
		good, _ := os.ReadFile(ninth)
		os.WriteFile(ninth, good[:len(good)/2], 0o644)
		out := filepath.Join(dir, "corrupt-out")
		err := synthRun(context.Background(), synthOptions(ckpt, in, out), io.Discard)
		if err == nil || !strings.Contains(err.Error(), ninth) {
			t.Fatalf("got %v, want an error naming %s", err, ninth)
		}
		if n := len(checkHonest(t, out, Manifest)); n != 16 {
			t.Errorf("%d pairs listed, want the 8 images before the corrupt one × 2", n)
		}
		os.WriteFile(ninth, good, 0o644)
		if err := synthRun(context.Background(), synthOptions(ckpt, in, out), io.Discard); err != nil {
			t.Fatal(err)
		}
		refIn := filepath.Join(dir, "corrupt-ref")
		o := synthOptions(ckpt, in, refIn)
		if err := synthRun(context.Background(), o, io.Discard); err != nil {
			t.Fatal(err)
		}
		sameTree(t, out, refIn)
	})

	t.Run("input deleted mid-run", func(t *testing.T) {
		in := filepath.Join(dir, "deleted")
		os.CopyFS(in, os.DirFS(clean))
		gone := filepath.Join(in, "k.png")
		out := filepath.Join(dir, "deleted-out")
		// Deleted once two pairs are out: the decoders run at most a few
		// images ahead, far from the 11th.
		err := synthRun(context.Background(), synthOptions(ckpt, in, out), &cancelAfter{n: "2", cancel: func() { os.Remove(gone) }})
		if err == nil || !strings.Contains(err.Error(), gone) || !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("got %v, want a missing-file error naming %s", err, gone)
		}
		if n := len(checkHonest(t, out, Manifest)); n != 20 {
			t.Errorf("%d pairs listed, want the 10 images before the deleted one × 2", n)
		}
		if err := synthRun(context.Background(), synthOptions(ckpt, in, out), io.Discard); err != nil {
			t.Fatal(err)
		}
		fresh := filepath.Join(dir, "deleted-ref")
		if err := synthRun(context.Background(), synthOptions(ckpt, in, fresh), io.Discard); err != nil {
			t.Fatal(err)
		}
		sameTree(t, out, fresh)
		if n := len(checkHonest(t, out, Manifest)); n != 22 {
			t.Errorf("%d pairs after the rerun, want 11 images × 2", n)
		}
	})

	t.Run("crash leftovers", func(t *testing.T) {
		// What kill -9 can leave: a temporary file, a pair written but not
		// listed, a last row cut short. A rerun clears and completes it.
		out := filepath.Join(dir, "crashed")
		os.CopyFS(out, os.DirFS(ref))
		b, _ := os.ReadFile(filepath.Join(out, Manifest))
		rows := strings.SplitAfter(string(b), "\n")
		os.WriteFile(filepath.Join(out, Manifest), []byte(strings.Join(rows[:5], "")+rows[5][:20]), 0o644)
		os.WriteFile(filepath.Join(out, DirL, ".g_s1.png.tmp123"), []byte("partial"), 0o644)
		os.WriteFile(filepath.Join(out, ".manifest.jsonl.tmp456"), []byte("partial"), 0o644)
		if err := synthRun(context.Background(), synthOptions(ckpt, clean, out), io.Discard); err != nil {
			t.Fatal(err)
		}
		sameTree(t, out, ref)
	})
}

// TestOutputNames: inputs in subfolders keep their relative path, so
// s1/x.png and s2/x.png do not overwrite each other; y.jpg and y.png, which
// would, are refused before anything is written; a file name that is not
// valid UTF-8 gets an output name that is, and its source is recorded
// exactly in source_base64; a FIFO is refused.
func TestOutputNames(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ckpt := saveTinyModel(t, dir, 1, nil)
	in := filepath.Join(dir, "in")
	writeClean(t, filepath.Join(in, "s1"), 1)
	writeClean(t, filepath.Join(in, "s2"), 2)
	raw := filepath.Join(in, "b\xff\xfez.png")
	os.Rename(filepath.Join(in, "s2", "b.png"), raw)
	out := filepath.Join(dir, "out")
	o := synthOptions(ckpt, in, out)
	o.Samples = 1
	if err := synthRun(context.Background(), o, io.Discard); err != nil {
		t.Fatal(err)
	}
	recs := checkHonest(t, out, Manifest)
	var names []string
	for _, r := range recs {
		names = append(names, r.L)
		src := r.Source
		if r.SourceBase64 != "" {
			b, err := base64.StdEncoding.DecodeString(r.SourceBase64)
			if err != nil {
				t.Fatal(err)
			}
			src = string(b)
			if !strings.Contains(r.Source, "\uFFFD") {
				t.Errorf("source %q: want the invalid bytes shown as U+FFFD", r.Source)
			}
		}
		if _, err := os.Stat(src); err != nil {
			t.Errorf("source of %s: %v", r.L, err)
		}
	}
	sort.Strings(names)
	want := []string{"L/b%FF%FEz.png", "L/s1/a.png", "L/s2/a.png"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("outputs %v, want %v", names, want)
	}

	writeClean(t, filepath.Join(dir, "clash"), 1)
	img, _ := images.Load(filepath.Join(dir, "clash", "a.png"))
	f, _ := os.Create(filepath.Join(dir, "clash", "a.jpg"))
	if err := encodeJPEG(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
	o = synthOptions(ckpt, filepath.Join(dir, "clash"), filepath.Join(dir, "clash-out"))
	err := synthRun(context.Background(), o, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "a.jpg") || !strings.Contains(err.Error(), "a.png") {
		t.Fatalf("got %v, want an error naming both inputs", err)
	}
	if _, err := os.Stat(o.Out); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("--out was created before the clash was found (%v)", err)
	}

	// A FIFO among the inputs is refused, never opened (which would wait
	// for a writer forever).
	fifo := filepath.Join(dir, "fifo")
	writeClean(t, fifo, 1)
	if err := syscall.Mkfifo(filepath.Join(fifo, "p.png"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = synthRun(context.Background(), synthOptions(ckpt, fifo, filepath.Join(dir, "fifo-out")), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "p.png is not a regular file") {
		t.Errorf("FIFO input: got %v", err)
	}
}

// TestOutInsideClean: an --out inside --clean, or equal to it, never reads
// its own L/ and H/ back: the second run finds the folder complete instead
// of synthesizing from its own outputs.
func TestOutInsideClean(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ckpt := saveTinyModel(t, dir, 1, nil)
	for _, sub := range []string{"pairs", "."} {
		clean := filepath.Join(dir, "clean"+sub)
		writeClean(t, clean, 2)
		o := synthOptions(ckpt, clean, filepath.Join(clean, sub))
		for range 2 {
			if err := synthRun(context.Background(), o, io.Discard); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(checkHonest(t, o.Out, Manifest)); n != 4 {
			t.Errorf("--out %s in --clean: %d pairs, want 2 images × 2", sub, n)
		}
	}
}

// TestOtherRunRefused: an --out holding pairs of another run (other
// settings, or files without synth.json) is refused, naming what differs,
// unless --overwrite, which replaces them.
func TestOtherRunRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ckpt := saveTinyModel(t, dir, 1, nil)
	clean := filepath.Join(dir, "clean")
	writeClean(t, clean, 2)
	o := synthOptions(ckpt, clean, filepath.Join(dir, "out"))
	if err := synthRun(context.Background(), o, io.Discard); err != nil {
		t.Fatal(err)
	}
	before := tree(t, o.Out)
	o.Seed = 8
	err := synthRun(context.Background(), o, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "seed: 7 → 8") || !strings.Contains(err.Error(), "--overwrite") {
		t.Fatalf("another seed: got %v", err)
	}
	if len(tree(t, o.Out)) != len(before) {
		t.Errorf("the refused run changed --out")
	}
	o.Overwrite = true
	if err := synthRun(context.Background(), o, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, r := range checkHonest(t, o.Out, Manifest) {
		if r.Seed != 8 {
			t.Errorf("%s: seed %d after --overwrite", r.L, r.Seed)
		}
	}
	os.Remove(filepath.Join(o.Out, Settings))
	o.Overwrite = false
	if err := synthRun(context.Background(), o, io.Discard); err == nil || !strings.Contains(err.Error(), Settings) {
		t.Errorf("pairs without %s: got %v", Settings, err)
	}
}

// TestRefusedInputs: a model with a NaN weight, an image smaller than
// --sr-scale and non-finite real flags are refused with errors naming
// them; a tile below the useful minimum is raised with a note, so
// --tile 1 takes well under a second instead of half a minute.
func TestRefusedInputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean")
	writeClean(t, clean, 1)
	ckpt := saveTinyModel(t, dir, 1, nil)
	nan := filepath.Join(dir, "nan")
	os.MkdirAll(nan, 0o755)
	bad := saveTinyModel(t, nan, 1, func(m *model.LUDVAE) {
		tb.NoGrad(func() { m.Params()[3].Tensor.Fill(math.NaN()) })
	})
	o := synthOptions(bad, clean, filepath.Join(dir, "o1"))
	if err := synthRun(context.Background(), o, io.Discard); err == nil || !strings.Contains(err.Error(), "--model") || !strings.Contains(err.Error(), "non-finite") {
		t.Errorf("NaN weights: got %v", err)
	}
	small := filepath.Join(dir, "small")
	os.MkdirAll(small, 0o755)
	images.SavePNG(filepath.Join(small, "tiny.png"), images.New(6, 9), 8)
	o = synthOptions(ckpt, small, filepath.Join(dir, "o2"))
	o.SRScale = 8
	if err := synthRun(context.Background(), o, io.Discard); err == nil || !strings.Contains(err.Error(), "tiny.png") || !strings.Contains(err.Error(), "--sr-scale 8") {
		t.Errorf("6x9 image at --sr-scale 8: got %v", err)
	}
	for _, c := range []struct {
		flag string
		set  func(*Options)
	}{
		{"--temperature", func(o *Options) { o.Temperature = math.NaN() }},
		{"--temperature-max", func(o *Options) { o.TemperatureMax = math.Inf(1) }},
		{"--sigma-min", func(o *Options) { o.SigmaMin = math.NaN() }},
		{"--sigma-max", func(o *Options) { o.SigmaMax = math.Inf(1) }},
	} {
		o := synthOptions(ckpt, clean, filepath.Join(dir, "o3"))
		c.set(&o)
		if err := synthRun(context.Background(), o, io.Discard); err == nil || !strings.HasPrefix(err.Error(), c.flag+" ") {
			t.Errorf("%s: got %v", c.flag, err)
		}
	}
	var log bytes.Buffer
	o = synthOptions(ckpt, clean, filepath.Join(dir, "o4"))
	o.Tile = 1
	start := time.Now()
	if err := synthRun(context.Background(), o, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "--tile 1 raised to 16") || time.Since(start) > 10*time.Second {
		t.Errorf("--tile 1 (%v): log %q", time.Since(start), log.String())
	}
}

// encodeJPEG writes m as a JPEG (a second file with the same stem as a PNG).
func encodeJPEG(w io.Writer, m *images.Image) error {
	rgba := image.NewRGBA(image.Rect(0, 0, m.W, m.H))
	q := images.ToUint8(m)
	for i := 0; i < m.W*m.H; i++ {
		copy(rgba.Pix[4*i:4*i+3], q[3*i:3*i+3])
		rgba.Pix[4*i+3] = 0xff
	}
	return jpeg.Encode(w, rgba, nil)
}

// TestEarlierOutputNotInput (hostile case sy19): a --clean folder that
// holds an earlier run's output (pairs_a, with its synth.json) gives a
// second run (pairs_b) only the real clean images, with a note naming the
// folder it skipped, not the earlier run's L/ and H/ images as well.
func TestEarlierOutputNotInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ckpt := saveTinyModel(t, dir, 1, nil)
	clean := filepath.Join(dir, "test3")
	writeClean(t, clean, 2)
	a := synthOptions(ckpt, clean, filepath.Join(clean, "pairs_a"))
	if err := synthRun(context.Background(), a, io.Discard); err != nil {
		t.Fatal(err)
	}
	b := synthOptions(ckpt, clean, filepath.Join(clean, "pairs_b"))
	b.Seed = a.Seed + 1
	var log strings.Builder
	if err := synthRun(context.Background(), b, &log); err != nil {
		t.Fatal(err)
	}
	recs := checkHonest(t, b.Out, Manifest)
	var names []string
	for _, r := range recs {
		names = append(names, r.Source)
		if filepath.Dir(r.Source) != clean {
			t.Errorf("second run took %s as a clean image", r.Source)
		}
	}
	if len(recs) != 2*b.Samples {
		t.Errorf("second run: %d pairs from %v, want the 2 clean images × %d samples only", len(recs), names, b.Samples)
	}
	if !strings.Contains(log.String(), "skipping "+a.Out) || !strings.Contains(log.String(), "synth.json") {
		t.Errorf("no note naming the skipped %s: %q", a.Out, log.String())
	}
}
