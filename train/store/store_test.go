package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/testkit"
)

// writeSource writes n generated 8-bit PNGs of w×h into dir
// (testkit.RandomPhoto).
func writeSource(t testing.TB, dir string, n, w, h int, seed uint64) []string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 3))
	return testkit.WritePhotos(t, dir, n, "img%03d.png", func(int) testkit.Photo { return testkit.RandomPhoto(w, h, rng) })
}

func build(t testing.TB, dir, src string, opt Options) Summary {
	t.Helper()
	sum, err := Build(context.Background(), dir, src, opt)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// sameAsDecoded checks that every image of the store at dir equals its
// source file decoded.
func sameAsDecoded(t *testing.T, dir string) {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range s.Len() {
		want, err := images.Load(s.SourcePath("", i))
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Image(i).Load()
		if err != nil || got.W != want.W || !slices.Equal(got.Pix, want.Pix) {
			t.Fatalf("%s: stored pixels differ from the decoded file (%v)", s.Index.Images[i].Path, err)
		}
	}
}

// TestBuildRefreshesWhatChanged: a second build decodes nothing; an added,
// a changed and a removed file are found and only they are redone, and the
// pixel files of the old versions are gone.
func TestBuildRefreshesWhatChanged(t *testing.T) {
	root := t.TempDir()
	src, dir := filepath.Join(root, "clean"), filepath.Join(root, "clean.lvs")
	paths := writeSource(t, src, 4, 24, 20, 1)
	if s := build(t, dir, src, Options{}); s.Decoded != 4 || s.Images != 4 || s.Bytes != 4*Tile*Tile*3 { // one tile each
		t.Fatalf("first build: %+v", s)
	}
	if s := build(t, dir, src, Options{}); s.Decoded != 0 || s.Reused != 4 {
		t.Fatalf("second build: %+v", s)
	}
	writeSource(t, filepath.Join(root, "new"), 1, 30, 30, 2)
	os.Rename(filepath.Join(root, "new", "img000.png"), filepath.Join(src, "added.png"))
	writeSource(t, filepath.Join(root, "other"), 2, 26, 22, 3)
	os.Rename(filepath.Join(root, "other", "img001.png"), paths[1]) // changed: other size, other time
	os.Remove(paths[3])
	s := build(t, dir, src, Options{})
	if s.Decoded != 2 || s.Reused != 2 || s.Removed != 1 || s.Images != 4 {
		t.Fatalf("refresh: %+v", s)
	}
	px, _ := os.ReadDir(filepath.Join(dir, "px"))
	if len(px) != 4 {
		t.Errorf("%d pixel files for 4 images", len(px))
	}
	sameAsDecoded(t, dir)

	// The same folder under another name (a container's mount): nothing is
	// decoded again, and the index names the new place.
	moved := filepath.Join(root, "mounted")
	if err := os.Rename(src, moved); err != nil {
		t.Fatal(err)
	}
	if s := build(t, dir, moved, Options{}); s.Decoded != 0 || s.Reused != 4 {
		t.Fatalf("build from the moved folder: %+v", s)
	}
	sameAsDecoded(t, dir)
}

// TestBuildUnreadableFiles: a file that cannot be decoded is an entry with
// its error, retried at the next build, and decoded once it is repaired.
func TestBuildUnreadableFiles(t *testing.T) {
	root := t.TempDir()
	src, dir := filepath.Join(root, "d"), filepath.Join(root, "d.lvs")
	writeSource(t, src, 2, 16, 16, 1)
	bad := filepath.Join(src, "bad.png")
	os.WriteFile(bad, []byte("not a png"), 0o644)
	if s := build(t, dir, src, Options{}); s.Images != 2 || s.Failed != 1 {
		t.Fatalf("build: %+v", s)
	}
	st, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if e := st.Index.Images[0]; e.Path != "bad.png" || !strings.Contains(e.Error, "decode header") || st.Image(0) != nil {
		t.Errorf("entry %+v", e)
	}
	st.Close()
	writeSource(t, filepath.Join(root, "fix"), 1, 16, 16, 5)
	os.Rename(filepath.Join(root, "fix", "img000.png"), bad)
	if s := build(t, dir, src, Options{}); s.Images != 3 || s.Failed != 0 || s.Decoded != 1 {
		t.Fatalf("after the repair: %+v", s)
	}
	sameAsDecoded(t, dir)
}

// TestOpenRefuses: a store of another format version, a truncated or a
// missing pixel file, an incomplete build and a damaged index are refused
// with a message, never read.
func TestOpenRefuses(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "d")
	writeSource(t, src, 2, 16, 16, 1)
	fresh := func(name string) string {
		dir := filepath.Join(root, name)
		build(t, dir, src, Options{})
		return dir
	}
	editIndex := func(dir string, edit func(map[string]any)) {
		var m map[string]any
		b, _ := os.ReadFile(filepath.Join(dir, indexName))
		json.Unmarshal(b, &m)
		edit(m)
		b, _ = json.Marshal(m)
		os.WriteFile(filepath.Join(dir, indexName), b, 0o644)
	}
	cases := []struct {
		name   string
		break_ func(dir string)
		want   string
	}{
		{"newer", func(d string) { editIndex(d, func(m map[string]any) { m["version"] = Version + 1 }) }, "written by a newer ludvae"},
		{"older", func(d string) { editIndex(d, func(m map[string]any) { m["version"] = 0 }) }, "written by an older ludvae"},
		{"other format", func(d string) { editIndex(d, func(m map[string]any) { m["format"] = "npz" }) }, "not a ludvae image store"},
		{"incomplete", func(d string) { editIndex(d, func(m map[string]any) { m["complete"] = false }) }, "incomplete"},
		{"truncated", func(d string) { os.Truncate(filepath.Join(d, "px", "000002.raw"), 100) }, "truncated"},
		{"missing", func(d string) { os.Remove(filepath.Join(d, "px", "000001.raw")) }, "missing"},
		{"damaged index", func(d string) {
			os.WriteFile(filepath.Join(d, indexName), []byte(`{"format": "ludvae-image-st`), 0o644)
		}, "not valid JSON"},
		{"escaping file", func(d string) {
			editIndex(d, func(m map[string]any) { m["images"].([]any)[0].(map[string]any)["file"] = "../../etc/passwd" })
		}, "file \"../../etc/passwd\""},
		{"no index", func(d string) { os.Remove(filepath.Join(d, indexName)) }, "no index.json"},
		// Named pipes are refused at once, never waited on in open(2).
		{"pixels a FIFO", func(d string) {
			p := filepath.Join(d, "px", "000001.raw")
			os.Remove(p)
			syscall.Mkfifo(p, 0o644)
		}, "named pipe"},
		{"index a FIFO", func(d string) {
			p := filepath.Join(d, indexName)
			os.Remove(p)
			syscall.Mkfifo(p, 0o644)
		}, "named pipe"},
	}
	for _, cs := range cases {
		t.Run(cs.name, func(t *testing.T) {
			dir := fresh(strings.ReplaceAll(cs.name, " ", "_") + ".lvs")
			cs.break_(dir)
			s, err := Open(dir)
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), cs.want) || !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q, want it to name %s and say %q", err, dir, cs.want)
			}
		})
	}
	// A build over a store written by a newer ludvae refuses to rewrite it;
	// over an older or damaged one it rebuilds.
	dir := fresh("newer_build.lvs")
	editIndex(dir, func(m map[string]any) { m["version"] = Version + 1 })
	if _, err := Build(context.Background(), dir, src, Options{}); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("build over a newer store: %v", err)
	}
	dir = fresh("older_build.lvs")
	editIndex(dir, func(m map[string]any) { m["version"] = 0 })
	if s := build(t, dir, src, Options{}); s.Decoded != 2 {
		t.Errorf("build over an older store: %+v", s)
	}
	sameAsDecoded(t, dir)
}

// TestBuildResumesAfterCancel: a build stopped part way leaves an index
// that Open refuses and the next build resumes, decoding only the rest.
func TestBuildResumesAfterCancel(t *testing.T) {
	root := t.TempDir()
	src, dir := filepath.Join(root, "d"), filepath.Join(root, "d.lvs")
	writeSource(t, src, 8, 20, 20, 1)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Build(ctx, dir, src, Options{Workers: 1, Progress: func(done, total int) {
		if done == 3 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled build: %v", err)
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "incomplete") {
		t.Fatalf("open after a cancelled build: %v", err)
	}
	var log strings.Builder
	s := build(t, dir, src, Options{Log: &log})
	if s.Decoded >= 8 || s.Reused < 3 || s.Images != 8 || !strings.Contains(log.String(), "resuming") {
		t.Fatalf("resumed build: %+v, log %q", s, log.String())
	}
	sameAsDecoded(t, dir)
	if left, _ := filepath.Glob(filepath.Join(dir, "*", ".*tmp*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestBuildWaitsForTheLock: a second build of the same store waits while
// another holds its lock, saying which process.
func TestBuildWaitsForTheLock(t *testing.T) {
	root := t.TempDir()
	src, dir := filepath.Join(root, "d"), filepath.Join(root, "d.lvs")
	writeSource(t, src, 2, 16, 16, 1)
	os.MkdirAll(dir, 0o755)
	l, err := acquire(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	released := make(chan struct{})
	go func() {
		time.Sleep(500 * time.Millisecond)
		close(released)
		l.Release()
	}()
	var log strings.Builder
	build(t, dir, src, Options{Log: &log})
	select {
	case <-released:
	default:
		t.Fatal("the build did not wait for the lock")
	}
	if want := fmt.Sprintf("waiting for PID %d", os.Getpid()); !strings.Contains(log.String(), want) {
		t.Errorf("log %q does not say %q", log.String(), want)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	l, _ = acquire(context.Background(), dir, nil)
	defer l.Release()
	if _, err := Build(ctx, dir, src, Options{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a build waiting for the lock past its context: %v", err)
	}
}

// TestEncodeKeepsValues: the stored samples read back to exactly the
// values given, in the narrowest of uint8, uint16 and float32.
func TestEncodeKeepsValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		dtype string
		value func() float32
	}{
		{"uint8", func() float32 { return images.Value8(uint8(rng.IntN(256))) }},
		{"uint16", func() float32 { return images.Value16(uint16(rng.IntN(65536))) }},
		{"float32", func() float32 { return rng.Float32() }},
	}
	for _, cs := range cases {
		m := images.New(7, 5)
		for i := range m.Pix {
			m.Pix[i] = cs.value()
		}
		raw, dtype := encode(m)
		if dtype != cs.dtype {
			t.Errorf("%s values stored as %s", cs.dtype, dtype)
		}
		got := make([]float32, len(m.Pix))
		decodeSamples(got, raw, dtype)
		hwc := images.ToHWC(m)
		if !slices.Equal(got, hwc) {
			t.Errorf("%s: values changed", cs.dtype)
		}
		sum, sq := channelSums(m)
		if math.IsNaN(sum[0]) || sq[2] <= 0 {
			t.Errorf("sums %v %v", sum, sq)
		}
	}
}

func TestPathFor(t *testing.T) {
	abs, _ := filepath.Abs("data/clean")
	cases := []struct {
		src      string
		k        int
		storeDir string
		want     string
	}{
		{"data/clean", 1, "", abs + ".lvs"},
		{"data/clean/", 4, "", abs + ".x4.lvs"},
		{"data/clean", 1, "/cache", "/cache/clean-"},
	}
	for _, cs := range cases {
		got, err := PathFor(cs.src, cs.k, cs.storeDir)
		if err != nil || !strings.HasPrefix(got, cs.want) {
			t.Errorf("PathFor(%q, %d, %q) = %q, want %q…", cs.src, cs.k, cs.storeDir, got, cs.want)
		}
	}
	a, _ := PathFor("/x/a/clean", 1, "/cache")
	b, _ := PathFor("/x/b/clean", 1, "/cache")
	if a == b {
		t.Errorf("two folders named clean share %s", a)
	}
}

// TestSums8MatchFloat: the sums of 8-bit samples equal, bit for bit, those
// of the float32 image Load would give.
func TestSums8MatchFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	m := images.New(61, 17)
	for i := range m.Pix {
		m.Pix[i] = images.Value8(uint8(rng.IntN(256)))
	}
	raw, dtype := encode(m)
	s8, q8 := channelSums8(raw)
	s, q := channelSums(m)
	if dtype != "uint8" || s8 != s || q8 != q {
		t.Fatalf("%s: sums %v %v, from floats %v %v", dtype, s8, q8, s, q)
	}
}

// TestReadAugmented: every mode gives images.Augment of the plain read,
// for a rectangle that is not square and crosses tile borders, in each
// stored dtype.
func TestReadAugmented(t *testing.T) {
	root := t.TempDir()
	src, dir := filepath.Join(root, "d"), filepath.Join(root, "d.lvs")
	writeSource(t, src, 1, 90, 70, 1)
	write16 := images.New(50, 40)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range write16.Pix {
		write16.Pix[i] = images.Value16(uint16(rng.IntN(65536)))
	}
	if err := images.SavePNG(filepath.Join(src, "deep.png"), write16, 16); err != nil {
		t.Fatal(err)
	}
	build(t, dir, src, Options{})
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range s.Len() {
		m := s.Image(i)
		plain := images.New(33, 21)
		if _, err := m.ReadRect(plain, 13, 9, nil); err != nil {
			t.Fatal(err)
		}
		for mode := range images.Modes {
			want := images.Augment(plain, mode)
			got := images.New(want.W, want.H)
			if _, err := m.ReadAugmented(got, 13, 9, mode, nil); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Pix, want.Pix) {
				t.Errorf("%s (%s), mode %d: differs from Augment of the plain read", m.Path, m.DType, mode)
			}
		}
	}
}

// TestBuildRepairsDamagedPixels: a pixel file truncated, removed or
// replaced by a FIFO after a build (hostile case st08) is decoded again by
// the next build, which Open then accepts; the intact entries are reused.
func TestBuildRepairsDamagedPixels(t *testing.T) {
	for _, damage := range []struct {
		name string
		do   func(p string)
	}{
		{"truncated", func(p string) { os.Truncate(p, 1000) }},
		{"removed", func(p string) { os.Remove(p) }},
		{"FIFO", func(p string) { os.Remove(p); syscall.Mkfifo(p, 0o644) }},
	} {
		t.Run(damage.name, func(t *testing.T) {
			root := t.TempDir()
			src, dir := filepath.Join(root, "d"), filepath.Join(root, "d.lvs")
			writeSource(t, src, 3, 40, 40, 2)
			build(t, dir, src, Options{})
			damage.do(filepath.Join(dir, "px", "000002.raw"))
			if s, err := Open(dir); err == nil {
				s.Close()
				t.Fatal("Open accepted the damaged store")
			}
			var log strings.Builder
			sum := build(t, dir, src, Options{Log: &log})
			if sum.Decoded != 1 || sum.Reused != 2 {
				t.Errorf("rebuild: %+v, want 1 decoded and 2 unchanged", sum)
			}
			if !strings.Contains(log.String(), "missing or damaged") {
				t.Errorf("the rebuild did not say what it repaired: %q", log.String())
			}
			sameAsDecoded(t, dir)
		})
	}
}

// TestBuildSkipsRunFolders (hostile case tr39): a training run folder
// inside the image folder (its sample grids and loss plot are PNGs) is not
// taken into the store, and the build's log names it.
func TestBuildSkipsRunFolders(t *testing.T) {
	root := t.TempDir()
	src, dir := filepath.Join(root, "clean2"), filepath.Join(root, "clean2.lvs")
	writeSource(t, src, 3, 24, 24, 4)
	run := filepath.Join(src, "run")
	writeSource(t, filepath.Join(run, "samples"), 2, 24, 24, 5)
	for _, f := range []string{"config.json", "train.lock", "log.csv"} {
		if err := os.WriteFile(filepath.Join(run, f), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var log strings.Builder
	sum := build(t, dir, src, Options{Log: &log})
	if sum.Images != 3 {
		t.Errorf("store of clean2: %+v, want its 3 images, not the run's sample grids", sum)
	}
	if !strings.Contains(log.String(), "skipping "+run) {
		t.Errorf("the build did not name the run folder it skipped: %q", log.String())
	}
}

// TestReadOnlyStoreUsable (hostile case tr29): a store that cannot be
// written (its lock cannot be created) is used as it is when it is up to
// date, and refused naming why and what to do when it is not. As root
// (whom permissions do not stop) the check is called directly; otherwise
// the store folder is made read-only and Build goes through it.
func TestReadOnlyStoreUsable(t *testing.T) {
	root := t.TempDir()
	src, dir := filepath.Join(root, "noisy"), filepath.Join(root, "noisy.lvs")
	writeSource(t, src, 2, 24, 24, 6)
	build(t, dir, src, Options{})
	os.Remove(filepath.Join(dir, lockName))
	readOnly := func() (Summary, error) {
		werr := fmt.Errorf("open %s: %w", filepath.Join(dir, lockName), fs.ErrPermission)
		if os.Getuid() == 0 {
			return checkReadOnly(context.Background(), dir, src, Options{}, werr)
		}
		os.Chmod(dir, 0o555)
		defer os.Chmod(dir, 0o755)
		return Build(context.Background(), dir, src, Options{})
	}
	sum, err := readOnly()
	if err != nil || sum.Images != 2 || sum.Decoded != 0 {
		t.Fatalf("up-to-date read-only store: %+v, %v; want it used as it is", sum, err)
	}
	if s, err := Open(dir); err != nil {
		t.Fatalf("Open: %v", err)
	} else {
		s.Close()
	}
	writeSource(t, src, 3, 24, 24, 7) // one more image: out of date
	if _, err := readOnly(); err == nil || !strings.Contains(err.Error(), "cannot be written") || !strings.Contains(err.Error(), "--store-dir") {
		t.Errorf("out-of-date read-only store: %v, want a refusal saying it cannot be written and what to do", err)
	}
}
