package prepare

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ludvae/ludvae/internal/atomicfile"
	"github.com/ludvae/ludvae/internal/images"
)

// writePNG writes a real 8×8 RGB PNG whose pixels depend on v.
func writePNG(t *testing.T, path string, v int) {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 8, 8))
	for y := 0; y < 8; y++ {
		for x := 0; x < 8; x++ {
			img.Set(x, y, color.NRGBA{uint8(v + x), uint8(y * 30), uint8(v * 7), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, buf.Bytes())
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func sceneName(i int) string {
	return fmt.Sprintf("%04d_%03d_S6_00100_00060_3200_L", i, (i-1)%10+1)
}

// siddTree builds download/SIDD_Small_sRGB_Only/Data with n scenes as the
// zip unpacks; the first real scenes get decodable PNGs, the others empty
// files. It returns the download folder and the scene names.
func siddTree(t *testing.T, n, real int) (string, []string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "download")
	data := filepath.Join(root, siddRoot, siddData)
	var names []string
	for i := 1; i <= n; i++ {
		s := sceneName(i)
		names = append(names, s)
		if i <= real {
			writePNG(t, filepath.Join(data, s, siddGT), i)
			writePNG(t, filepath.Join(data, s, siddNoisy), i+100)
		} else {
			writeFile(t, filepath.Join(data, s, siddGT), nil)
			writeFile(t, filepath.Join(data, s, siddNoisy), nil)
		}
	}
	writeFile(t, filepath.Join(root, siddRoot, "ReadMe_sRGB.txt"), []byte("readme"))
	return root, names
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestSIDDDefault: every GT goes to clean/ and every NOISY to noisy/ as
// absolute symlinks named <scene>_<file>, which training's image loader
// decodes; a small tree passes with AllowPartial and says what it lacks;
// prepare.json records the run.
func TestSIDDDefault(t *testing.T) {
	from, scenes := siddTree(t, 6, 2)
	to := filepath.Join(t.TempDir(), "data")
	rep, err := Run(Options{Dataset: SIDD, From: from, To: to, AllowPartial: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Clean != 6 || rep.Noisy != 6 || rep.ExpectedClean != 160 || rep.ExpectedNoisy != 160 || rep.Created != 12 || rep.DownscaleClean != 1 {
		t.Errorf("report %+v", rep)
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "6 complete scenes") || !strings.Contains(rep.Warnings[0], "expected 160") {
		t.Errorf("warnings %q, want the shortfall", rep.Warnings)
	}
	data := filepath.Join(from, siddRoot, siddData)
	if rep.CleanSource != data || rep.Layout != "sidd-small" {
		t.Errorf("source %s layout %s", rep.CleanSource, rep.Layout)
	}
	var wantClean, wantNoisy []string
	for _, s := range scenes {
		wantClean = append(wantClean, s+"_"+siddGT)
		wantNoisy = append(wantNoisy, s+"_"+siddNoisy)
	}
	if got := dirNames(t, filepath.Join(to, CleanDir)); !slices.Equal(got, wantClean) {
		t.Errorf("clean/ = %q, want %q", got, wantClean)
	}
	if got := dirNames(t, filepath.Join(to, NoisyDir)); !slices.Equal(got, wantNoisy) {
		t.Errorf("noisy/ = %q, want %q", got, wantNoisy)
	}
	link := filepath.Join(to, CleanDir, scenes[0]+"_"+siddGT)
	target, err := os.Readlink(link)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(data, scenes[0], siddGT); target != want || !filepath.IsAbs(target) {
		t.Errorf("link target %s, want absolute %s", target, want)
	}
	for _, p := range []string{link, filepath.Join(to, NoisyDir, scenes[1]+"_"+siddNoisy)} {
		m, err := images.Load(p)
		if err != nil {
			t.Fatalf("training cannot decode %s: %v", p, err)
		}
		if m.W != 8 || m.H != 8 {
			t.Errorf("%s: %dx%d", p, m.W, m.H)
		}
	}
	if found, err := images.Find(filepath.Join(to, CleanDir)); err != nil || len(found) != 6 {
		t.Errorf("images.Find(clean) = %d files, %v", len(found), err)
	}
	m, err := ReadManifest(to)
	if err != nil {
		t.Fatal(err)
	}
	if m.Dataset != SIDD || m.From != from || m.Clean != 6 || m.Noisy != 6 || m.DownscaleClean != 1 ||
		m.Mode != "symlink" || m.Layout != "sidd-small" || !m.Options.AllowPartial || m.Options.Disjoint || len(m.Warnings) != 1 {
		t.Errorf("manifest %+v", m)
	}
}

// TestSIDDFromVariants: --from may be the download folder, the zip's root
// folder or its Data folder, relative or absolute.
func TestSIDDFromVariants(t *testing.T) {
	from, _ := siddTree(t, 3, 0)
	data := filepath.Join(from, siddRoot, siddData)
	wd, _ := os.Getwd()
	rel, err := filepath.Rel(wd, filepath.Join(from, siddRoot))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{from, filepath.Join(from, siddRoot), data, rel} {
		rep, err := Run(Options{Dataset: SIDD, From: f, To: t.TempDir(), AllowPartial: true})
		if err != nil {
			t.Errorf("--from %s: %v", f, err)
			continue
		}
		if rep.CleanSource != data || rep.Clean != 3 {
			t.Errorf("--from %s: source %s, %d clean", f, rep.CleanSource, rep.Clean)
		}
	}
}

// TestSIDDFullCount: the full 160 scenes pass without AllowPartial and with
// no warning; a missing NOISY file and a missing scene folder are errors that
// name the file, and the folder once Scene_Instances.txt lists the scenes.
func TestSIDDFullCount(t *testing.T) {
	from, scenes := siddTree(t, SIDDSmallScenes, 0)
	rep, err := Run(Options{Dataset: SIDD, From: from, To: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Clean != 160 || rep.Noisy != 160 || len(rep.Warnings) != 0 {
		t.Errorf("report %+v", rep)
	}

	data := filepath.Join(from, siddRoot, siddData)
	if err := os.Remove(filepath.Join(data, scenes[41], siddNoisy)); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(data, scenes[99])); err != nil {
		t.Fatal(err)
	}
	_, err = Run(Options{Dataset: SIDD, From: from, To: t.TempDir()})
	if err == nil {
		t.Fatal("no error for 158 complete scenes")
	}
	for _, want := range []string{data, "158 complete scenes", "expected 160", scenes[41] + "/" + siddNoisy, "1 scene folders absent", "--allow-partial"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}

	writeFile(t, filepath.Join(from, siddRoot, siddInstances), []byte(strings.Join(scenes, "\n")+"\n"))
	_, err = Run(Options{Dataset: SIDD, From: from, To: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), scenes[99]+"/") || strings.Contains(err.Error(), "absent") {
		t.Errorf("with Scene_Instances.txt: error %v, want it to name %s", err, scenes[99])
	}
}

// TestSIDDMissingListsTen: a shortfall lists at most ten names and counts
// the rest; AllowPartial prepares what is there.
func TestSIDDMissingListsTen(t *testing.T) {
	from, scenes := siddTree(t, SIDDSmallScenes, 0)
	writeFile(t, filepath.Join(from, siddRoot, siddInstances), []byte(strings.Join(scenes, "\r\n")))
	for _, s := range scenes[:12] {
		os.RemoveAll(filepath.Join(from, siddRoot, siddData, s))
	}
	_, err := Run(Options{Dataset: SIDD, From: from, To: t.TempDir()})
	if err == nil {
		t.Fatal("no error")
	}
	for _, s := range scenes[:10] {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %s", s)
		}
	}
	if strings.Contains(err.Error(), scenes[10]) || !strings.Contains(err.Error(), "and 2 more") {
		t.Errorf("error %q: want 10 names and 'and 2 more'", err)
	}
	rep, err := Run(Options{Dataset: SIDD, From: from, To: t.TempDir(), AllowPartial: true})
	if err != nil || rep.Clean != 148 || rep.Noisy != 148 || len(rep.Warnings) != 1 {
		t.Errorf("AllowPartial: %+v, %v", rep, err)
	}
}

// TestSIDDDisjoint: --disjoint puts each scene in exactly one domain, half
// and half; the split depends on the seed only (not on the machine or the
// order of the folders) and is recorded in prepare.json.
func TestSIDDDisjoint(t *testing.T) {
	from, scenes := siddTree(t, SIDDSmallScenes, 0)
	split := func(seed int64) ([]string, []string) {
		t.Helper()
		to := t.TempDir()
		rep, err := Run(Options{Dataset: SIDD, From: from, To: to, Disjoint: true, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Clean != 80 || rep.Noisy != 80 || rep.ExpectedClean != 80 || rep.ExpectedNoisy != 80 || len(rep.Warnings) != 0 {
			t.Fatalf("report %+v", rep)
		}
		var clean, noisy []string
		for _, n := range dirNames(t, filepath.Join(to, CleanDir)) {
			clean = append(clean, strings.TrimSuffix(n, "_"+siddGT))
		}
		for _, n := range dirNames(t, filepath.Join(to, NoisyDir)) {
			noisy = append(noisy, strings.TrimSuffix(n, "_"+siddNoisy))
		}
		if !slices.Equal(clean, rep.CleanScenes) || !slices.Equal(noisy, rep.NoisyScenes) {
			t.Errorf("folders and report disagree")
		}
		m, err := ReadManifest(to)
		if err != nil || !slices.Equal(m.CleanScenes, clean) || !slices.Equal(m.NoisyScenes, noisy) || !m.Options.Disjoint || m.Options.Seed != seed {
			t.Errorf("manifest %+v, %v", m, err)
		}
		return clean, noisy
	}
	clean, noisy := split(7)
	inClean := map[string]bool{}
	for _, s := range clean {
		inClean[s] = true
	}
	for _, s := range noisy {
		if inClean[s] {
			t.Errorf("scene %s in both domains", s)
		}
	}
	all := append(append([]string(nil), clean...), noisy...)
	sort.Strings(all)
	if !slices.Equal(all, scenes) {
		t.Errorf("the halves do not cover the scenes exactly")
	}
	clean2, noisy2 := split(7)
	if !slices.Equal(clean, clean2) || !slices.Equal(noisy, noisy2) {
		t.Errorf("same seed, different split")
	}
	if clean3, _ := split(8); slices.Equal(clean, clean3) {
		t.Errorf("seeds 7 and 8 give the same split")
	}

	// SplitScenes itself: order of the input does not matter; odd counts
	// give the clean half the extra scene; a pinned value guards the
	// algorithm against silent change.
	rev := slices.Clone(scenes)
	slices.Reverse(rev)
	if c, _ := SplitScenes(rev, 7); !slices.Equal(c, clean) {
		t.Errorf("SplitScenes depends on input order")
	}
	c, n := SplitScenes([]string{"e", "d", "c", "b", "a"}, 1)
	if len(c) != 3 || len(n) != 2 {
		t.Errorf("5 scenes split %q / %q", c, n)
	}
	if got := fmt.Sprint(c, n); got != pinnedSplit {
		t.Errorf("SplitScenes(a..e, 1) = %s, want %s (the split algorithm changed)", got, pinnedSplit)
	}
}

// pinnedSplit is SplitScenes([a b c d e], 1) as an independent Python
// transcription of the documented algorithm computes it.
const pinnedSplit = "[b c e] [a d]"

// TestSplitMix64: the generator matches the reference implementation's
// first outputs for seed 0.
func TestSplitMix64(t *testing.T) {
	s := splitMix64(0)
	if a, b := s.next(), s.next(); a != 0xe220a8397b1dcdaf || b != 0x6e789e6aa1b965f4 {
		t.Errorf("SplitMix64(0) = %#x, %#x", a, b)
	}
}

// TestSIDDDisjointIncomplete: --disjoint splits complete scenes only and
// says how many it left out.
func TestSIDDDisjointIncomplete(t *testing.T) {
	from, scenes := siddTree(t, 10, 0)
	os.Remove(filepath.Join(from, siddRoot, siddData, scenes[3], siddGT))
	rep, err := Run(Options{Dataset: SIDD, From: from, To: t.TempDir(), Disjoint: true, AllowPartial: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Clean+rep.Noisy != 9 || slices.Contains(rep.CleanScenes, scenes[3]) || slices.Contains(rep.NoisyScenes, scenes[3]) {
		t.Errorf("report %+v", rep)
	}
	if !strings.Contains(strings.Join(rep.Warnings, "\n"), "1 incomplete scenes left out") {
		t.Errorf("warnings %q", rep.Warnings)
	}
}

// TestIdempotent: a second identical run creates nothing, succeeds and
// leaves prepare.json byte for byte; a changed link, a stray file, or a
// different split in the same --to are errors naming the file.
func TestIdempotent(t *testing.T) {
	from, scenes := siddTree(t, 4, 4)
	to := filepath.Join(t.TempDir(), "data")
	opts := Options{Dataset: SIDD, From: from, To: to, AllowPartial: true}
	if _, err := Run(opts); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(to, ManifestFile))
	rep, err := Run(opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Created != 0 || rep.Existing != 8 {
		t.Errorf("second run created %d, found %d", rep.Created, rep.Existing)
	}
	after, _ := os.ReadFile(filepath.Join(to, ManifestFile))
	if !bytes.Equal(before, after) {
		t.Errorf("prepare.json changed:\n%s\n%s", before, after)
	}

	// A link pointing elsewhere is never replaced.
	victim := filepath.Join(to, CleanDir, scenes[2]+"_"+siddGT)
	os.Remove(victim)
	other := filepath.Join(from, siddRoot, siddData, scenes[3], siddGT)
	if err := os.Symlink(other, victim); err != nil {
		t.Fatal(err)
	}
	_, err = Run(opts)
	if err == nil || !strings.Contains(err.Error(), victim) || !strings.Contains(err.Error(), "never overwrites") {
		t.Errorf("changed link: %v", err)
	}
	if got, _ := os.Readlink(victim); got != other {
		t.Errorf("link was rewritten to %s", got)
	}
	os.Remove(victim)
	if _, err := Run(opts); err != nil { // the missing link is simply recreated
		t.Fatal(err)
	}

	stray := filepath.Join(to, NoisyDir, "stray.png")
	writePNG(t, stray, 1)
	if _, err := Run(opts); err == nil || !strings.Contains(err.Error(), "stray.png") {
		t.Errorf("stray file: %v", err)
	}
	os.Remove(stray)

	// Another split into the same folder would leave the first one's files.
	if _, err := Run(Options{Dataset: SIDD, From: from, To: to, AllowPartial: true, Disjoint: true}); err == nil ||
		!strings.Contains(err.Error(), "would not create") {
		t.Errorf("disjoint over a default run: %v", err)
	}
}

// TestCopy: --copy writes regular files with the sources' bytes, re-runs
// idempotently, never overwrites a different file, and refuses to mix with
// a symlink run in either direction.
func TestCopy(t *testing.T) {
	from, scenes := siddTree(t, 3, 3)
	data := filepath.Join(from, siddRoot, siddData)
	to := t.TempDir()
	opts := Options{Dataset: SIDD, From: from, To: to, AllowPartial: true, Copy: true}
	rep, err := Run(opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Created != 6 {
		t.Errorf("created %d", rep.Created)
	}
	for _, s := range scenes {
		dst := filepath.Join(to, CleanDir, s+"_"+siddGT)
		st, err := os.Lstat(dst)
		if err != nil || !st.Mode().IsRegular() {
			t.Fatalf("%s: %v %v", dst, st, err)
		}
		a, _ := os.ReadFile(dst)
		b, _ := os.ReadFile(filepath.Join(data, s, siddGT))
		if !bytes.Equal(a, b) {
			t.Errorf("%s: copy differs", dst)
		}
	}
	if m, _ := ReadManifest(to); m.Mode != "copy" {
		t.Errorf("mode %q", m.Mode)
	}
	if rep, err := Run(opts); err != nil || rep.Created != 0 || rep.Existing != 6 {
		t.Errorf("re-run: %+v %v", rep, err)
	}
	for _, e := range dirNames(t, filepath.Join(to, CleanDir)) {
		if atomicfile.IsTemp(e) {
			t.Errorf("temporary file %s left", e)
		}
	}

	// Same size, other bytes: an error, and the file stays as it was.
	victim := filepath.Join(to, NoisyDir, scenes[1]+"_"+siddNoisy)
	orig, _ := os.ReadFile(victim)
	changed := slices.Clone(orig)
	changed[len(changed)-1] ^= 0xff
	os.WriteFile(victim, changed, 0o644)
	if _, err := Run(opts); err == nil || !strings.Contains(err.Error(), victim) {
		t.Errorf("changed copy: %v", err)
	}
	if got, _ := os.ReadFile(victim); !bytes.Equal(got, changed) {
		t.Errorf("the different file was overwritten")
	}
	os.WriteFile(victim, orig, 0o644)

	// Copies where links would go, and links where copies would go.
	if _, err := Run(Options{Dataset: SIDD, From: from, To: to, AllowPartial: true}); err == nil || !strings.Contains(err.Error(), "regular file") {
		t.Errorf("symlink run over copies: %v", err)
	}
	links := t.TempDir()
	if _, err := Run(Options{Dataset: SIDD, From: from, To: links, AllowPartial: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(Options{Dataset: SIDD, From: from, To: links, AllowPartial: true, Copy: true}); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("copy run over links: %v", err)
	}
}

// srTree writes images named by numbers (width digits) into dir: the
// numbers in nums, real PNGs for the first real of them.
func srTree(t *testing.T, dir string, width int, nums []int, real int) {
	t.Helper()
	for i, n := range nums {
		p := filepath.Join(dir, fmt.Sprintf("%0*d.png", width, n))
		if i < real {
			writePNG(t, p, n)
		} else {
			writeFile(t, p, nil)
		}
	}
}

func seq(lo, hi int) []int {
	var s []int
	for i := lo; i <= hi; i++ {
		s = append(s, i)
	}
	return s
}

// TestAIM19Raw: the archives as they unpack (found two levels below
// --from): clean HR images, so downscale_clean 4; a short download is an
// error naming the folder, the counts and the numbers missing.
func TestAIM19Raw(t *testing.T) {
	from := t.TempDir()
	clean := filepath.Join(from, "AIM-RWSR", "train-clean-images")
	noisy := filepath.Join(from, "AIM-RWSR", "train-noisy-images")
	srTree(t, clean, 4, []int{1, 2, 4, 5}, 2)
	srTree(t, noisy, 6, seq(1, 6), 2)

	_, err := Run(Options{Dataset: AIM19, From: from, To: t.TempDir()})
	if err == nil {
		t.Fatal("no error for a 4-image download")
	}
	for _, want := range []string{clean + " holds 4 images, expected 800", noisy + " holds 6 images, expected 2650", "0003.png", "0006.png", "000007.png", "and 786 more"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}

	to := t.TempDir()
	rep, err := Run(Options{Dataset: AIM19, From: from, To: to, AllowPartial: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Layout != "raw" || rep.DownscaleClean != 4 || rep.CleanSource != clean || rep.NoisySource != noisy ||
		rep.Clean != 4 || rep.Noisy != 6 || rep.ExpectedClean != 800 || rep.ExpectedNoisy != 2650 || len(rep.Warnings) != 2 {
		t.Errorf("report %+v", rep)
	}
	if got := dirNames(t, filepath.Join(to, CleanDir)); !slices.Equal(got, []string{"0001.png", "0002.png", "0004.png", "0005.png"}) {
		t.Errorf("clean/ = %q", got)
	}
	if _, err := images.Load(filepath.Join(to, NoisyDir, "000002.png")); err != nil {
		t.Errorf("training cannot decode: %v", err)
	}
	if m, err := ReadManifest(to); err != nil || m.DownscaleClean != 4 || m.Dataset != AIM19 || m.Layout != "raw" {
		t.Errorf("manifest %+v %v", m, err)
	}
}

// TestAIM19DeFlow: DeFlow's prepared folders: the ×4 clean folder is used
// as is (downscale_clean 1), the noisy 1x folder; with only 1x clean,
// downscale_clean is 4.
func TestAIM19DeFlow(t *testing.T) {
	from := filepath.Join(t.TempDir(), "AIM-RWSR")
	for _, s := range []string{"1x", "4x", "32x"} {
		srTree(t, filepath.Join(from, "train-clean-images", s), 4, seq(1, 3), 1)
	}
	for _, s := range []string{"1x", "8x"} {
		srTree(t, filepath.Join(from, "train-noisy-images", s), 6, seq(1, 5), 1)
	}
	rep, err := Run(Options{Dataset: AIM19, From: from, To: t.TempDir(), AllowPartial: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Layout != "deflow" || rep.DownscaleClean != 1 || rep.CleanSource != filepath.Join(from, "train-clean-images", "4x") ||
		rep.NoisySource != filepath.Join(from, "train-noisy-images", "1x") || rep.Clean != 3 || rep.Noisy != 5 {
		t.Errorf("report %+v", rep)
	}

	os.RemoveAll(filepath.Join(from, "train-clean-images", "4x"))
	rep, err = Run(Options{Dataset: AIM19, From: from, To: t.TempDir(), AllowPartial: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.DownscaleClean != 4 || rep.CleanSource != filepath.Join(from, "train-clean-images", "1x") {
		t.Errorf("1x only: %+v", rep)
	}
}

// TestNTIRE20: raw Corrupted-tr-x unpacked with one level of nesting, and
// DeFlow's layout; downscale_clean follows the clean folder used.
func TestNTIRE20(t *testing.T) {
	from := t.TempDir()
	srTree(t, filepath.Join(from, "Corrupted-tr-y"), 4, seq(1, 3), 3)
	srTree(t, filepath.Join(from, "Corrupted-tr-x", "Corrupted-tr-x"), 6, seq(1, 4), 0)
	to := t.TempDir()
	rep, err := Run(Options{Dataset: NTIRE20, From: from, To: to, AllowPartial: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Layout != "raw" || rep.DownscaleClean != 4 || rep.NoisySource != filepath.Join(from, "Corrupted-tr-x", "Corrupted-tr-x") ||
		rep.Clean != 3 || rep.Noisy != 4 || rep.ExpectedClean != 800 || rep.ExpectedNoisy != 2650 {
		t.Errorf("report %+v", rep)
	}
	if _, err := images.Load(filepath.Join(to, CleanDir, "0003.png")); err != nil {
		t.Error(err)
	}

	deflow := t.TempDir()
	srTree(t, filepath.Join(deflow, "NTIRE-RWSR", "Corrupted-tr-y", "4x"), 4, seq(1, 2), 0)
	srTree(t, filepath.Join(deflow, "NTIRE-RWSR", "Corrupted-tr-y", "16x"), 4, seq(1, 2), 0)
	srTree(t, filepath.Join(deflow, "NTIRE-RWSR", "Corrupted-tr-x", "1x"), 6, seq(1, 2), 0)
	srTree(t, filepath.Join(deflow, "NTIRE-RWSR", "Corrupted-tr-x", "4x"), 6, seq(1, 2), 0)
	rep, err = Run(Options{Dataset: NTIRE20, From: deflow, To: t.TempDir(), AllowPartial: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Layout != "deflow" || rep.DownscaleClean != 1 || !strings.HasSuffix(rep.CleanSource, "Corrupted-tr-y/4x") || !strings.HasSuffix(rep.NoisySource, "Corrupted-tr-x/1x") {
		t.Errorf("deflow report %+v", rep)
	}
}

// TestNTIRE20FullCounts: 800 + 2650 files pass without AllowPartial and
// without warnings. (Some seconds on a slow disk: skipped with -short.)
func TestNTIRE20FullCounts(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 3450 files")
	}
	from := t.TempDir()
	srTree(t, filepath.Join(from, "Corrupted-tr-y"), 4, seq(1, NTIRE20Clean), 0)
	srTree(t, filepath.Join(from, "Corrupted-tr-x"), 6, seq(1, NTIRE20Noisy), 0)
	rep, err := Run(Options{Dataset: NTIRE20, From: from, To: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Clean != 800 || rep.Noisy != 2650 || len(rep.Warnings) != 0 || rep.Created != 3450 {
		t.Errorf("report %+v", rep)
	}
}

// TestErrors: bad options and unrecognisable downloads are errors that say
// what is wrong, and write nothing.
func TestErrors(t *testing.T) {
	from, _ := siddTree(t, 2, 0)
	file := filepath.Join(t.TempDir(), "file")
	writeFile(t, file, nil)
	linkToFrom := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(from, linkToFrom); err != nil {
		t.Fatal(err)
	}
	twoAIM := t.TempDir()
	for _, d := range []string{"a/train-clean-images", "b/train-clean-images", "a/train-noisy-images"} {
		writePNG(t, filepath.Join(twoAIM, d, "0001.png"), 1)
	}
	out := t.TempDir()
	for _, c := range []struct {
		name string
		opts Options
		want string
	}{
		{"unknown dataset", Options{Dataset: "div2k", From: from, To: out}, `unknown dataset "div2k" (want sidd, aim19, ntire20)`},
		{"no from", Options{Dataset: SIDD, To: out}, "--from"},
		{"no to", Options{Dataset: SIDD, From: from}, "--to"},
		{"missing from", Options{Dataset: SIDD, From: filepath.Join(from, "nope"), To: out}, "no such folder"},
		{"from is a file", Options{Dataset: SIDD, From: file, To: out}, "is not a folder"},
		{"to is a file", Options{Dataset: SIDD, From: from, To: file, AllowPartial: true}, "is not a folder"},
		{"to inside from", Options{Dataset: SIDD, From: from, To: filepath.Join(from, "data")}, "lies inside --from"},
		{"to is from", Options{Dataset: SIDD, From: from, To: from}, "lies inside --from"},
		{"to inside from via a symlink", Options{Dataset: SIDD, From: from, To: filepath.Join(linkToFrom, "x", "data")}, "lies inside --from"},
		{"disjoint for SR", Options{Dataset: AIM19, From: from, To: out, Disjoint: true}, "--disjoint applies to sidd only"},
		{"no SIDD scenes", Options{Dataset: SIDD, From: out, To: t.TempDir()}, "no SIDD-Small scene folders"},
		{"no AIM19 folder", Options{Dataset: AIM19, From: from, To: out}, "no folder train-clean-images in " + from},
		{"no NTIRE20 folder", Options{Dataset: NTIRE20, From: from, To: out}, "no folder Corrupted-tr-y"},
		{"two candidates", Options{Dataset: AIM19, From: twoAIM, To: out, AllowPartial: true}, "2 folders named train-clean-images"},
	} {
		_, err := Run(c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	if names := dirNames(t, out); len(names) != 0 {
		t.Errorf("failed runs wrote %q", names)
	}
	if _, err := os.Stat(filepath.Join(from, "data")); err == nil {
		t.Errorf("a refused --to was created")
	}
}

// TestManifest: FindManifest finds prepare.json from the clean folder
// training is given, and only there; ReadManifest rejects other versions.
func TestManifest(t *testing.T) {
	from, _ := siddTree(t, 2, 0)
	to := t.TempDir()
	if _, err := Run(Options{Dataset: SIDD, From: from, To: to, AllowPartial: true}); err != nil {
		t.Fatal(err)
	}
	m, ok, err := FindManifest(filepath.Join(to, CleanDir))
	if err != nil || !ok || m.Dataset != SIDD || m.DownscaleClean != 1 {
		t.Errorf("FindManifest: %+v %v %v", m, ok, err)
	}
	if _, ok, err := FindManifest(filepath.Join(from, siddRoot, siddData)); ok || err != nil {
		t.Errorf("FindManifest on an unprepared folder: %v %v", ok, err)
	}
	bad := t.TempDir()
	writeFile(t, filepath.Join(bad, ManifestFile), []byte(`{"version": 2, "downscale_clean": 1}`))
	if _, err := ReadManifest(bad); err == nil || !strings.Contains(err.Error(), "version 2") {
		t.Errorf("ReadManifest version 2: %v", err)
	}
	writeFile(t, filepath.Join(bad, ManifestFile), []byte(`{"version": 1, "downscale_clean": 0}`))
	if _, err := ReadManifest(bad); err == nil {
		t.Errorf("ReadManifest accepted downscale_clean 0")
	}
}

// TestNumberedGaps: missing names are inferred only from a consistent
// numbering.
func TestNumberedGaps(t *testing.T) {
	for _, c := range []struct {
		names []string
		exp   int
		want  []string
	}{
		{[]string{"0001.png", "0003.png"}, 4, []string{"0002.png", "0004.png"}},
		{[]string{"0802.png", "0803.png"}, 3, []string{"0804.png"}}, // a run starting above 1
		{[]string{"1.png", "3.png"}, 3, []string{"2.png"}},
		{[]string{"0001.png", "002.png"}, 4, nil},  // widths differ
		{[]string{"0001.png", "0002.jpg"}, 4, nil}, // extensions differ
		{[]string{"a001.png"}, 4, nil},             // not a number
		{[]string{"0001.png", "0009.png"}, 4, nil}, // does not fit a run of 4
		{[]string{"0001.png", "0002.png"}, 2, nil}, // nothing missing
	} {
		if got := numberedGaps(c.names, c.exp); !slices.Equal(got, c.want) {
			t.Errorf("numberedGaps(%q, %d) = %q, want %q", c.names, c.exp, got, c.want)
		}
	}
}

// TestCopyFIFORefused: a named pipe among the download's images (hostile
// case pr15) is refused at once, naming it, when --copy would read it,
// instead of waiting forever for a writer in open(2).
func TestCopyFIFORefused(t *testing.T) {
	from, _ := siddTree(t, 3, 3)
	scene := sceneName(4)
	dir := filepath.Join(from, siddRoot, siddData, scene)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, siddGT)
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	writePNG(t, filepath.Join(dir, siddNoisy), 4)
	defer func() { // release a reader if one blocked after all
		if fd, err := syscall.Open(fifo, syscall.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			syscall.Close(fd)
		}
	}()
	done := make(chan error, 1)
	go func() {
		_, err := Run(Options{Dataset: SIDD, From: from, To: t.TempDir(), AllowPartial: true, Copy: true})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), fifo) || !strings.Contains(err.Error(), "named pipe") {
			t.Fatalf("prepare --copy with a FIFO: %v, want an error naming %s as a named pipe", err, fifo)
		}
	case <-time.After(time.Second):
		t.Fatal("prepare --copy still blocked on the FIFO after 1 s")
	}
}
