package prepare

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ludvae/ludvae/internal/atomicfile"
	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/pathguard"
)

// Dataset names accepted in Options.Dataset.
const (
	SIDD    = "sidd"
	AIM19   = "aim19"
	NTIRE20 = "ntire20"
)

// Datasets lists the names Run accepts, in the order help texts show them.
var Datasets = []string{SIDD, AIM19, NTIRE20}

// Expected counts of a complete download. Each comment says where the number
// comes from and how sure it is.
const (
	// SIDDSmallScenes is the number of scene folders in SIDD-Small sRGB
	// (SIDD_Small_sRGB_Only/Data), each holding one GT_SRGB_010.PNG /
	// NOISY_SRGB_010.PNG pair: the SIDD site lists SIDD-Small as 160 image
	// pairs (Abdelhamed, Lin, Brown, CVPR 2018: 160 of the 200 scene
	// instances; SIDD-Medium has two pairs per instance, 320). High confidence.
	SIDDSmallScenes = 160

	// NTIRE20Clean is the size of NTIRE 2020 Real-World SR track 1's
	// Corrupted-tr-y: the 800 DIV2K training HR images (0001.png–0800.png)
	// that define the clean target domain (Lugmayr et al., "NTIRE 2020
	// Challenge on Real-World Image Super-Resolution", CVPRW 2020). High
	// confidence.
	NTIRE20Clean = 800
	// NTIRE20Noisy is the size of Corrupted-tr-x: the 2650 Flickr2K images
	// degraded with the track's unknown corruption (same report). High
	// confidence.
	NTIRE20Noisy = 2650

	// AIM19Clean is the size of AIM 2019 Real-World SR track 2's target
	// domain, train-clean-images: the 800 DIV2K training HR images (the
	// validation ground truth continues at 0801.png) (Lugmayr et al., "AIM
	// 2019 Challenge on Real-World Image Super-Resolution", ICCVW 2019).
	// Medium-high confidence: taken from the report's description of the
	// data and the DIV2K/Flickr2K split it reuses, not counted in an unpacked
	// archive.
	AIM19Clean = 800
	// AIM19Noisy is the size of the source domain, train-noisy-images: 2650
	// Flickr2K images with the challenge's synthetic degradation (same
	// report). Medium-high confidence, as AIM19Clean.
	AIM19Noisy = 2650
)

// ManifestFile is the name of the record Run writes into Options.To.
const ManifestFile = "prepare.json"

// The folders Run creates in Options.To.
const (
	CleanDir = "clean"
	NoisyDir = "noisy"
)

// Options says what Run prepares and how.
type Options struct {
	// Dataset is one of Datasets: "sidd", "aim19" or "ntire20".
	Dataset string
	// From is the folder the archives were unpacked in (see the package
	// documentation for what each data set accepts).
	From string
	// To is DATA_DIR: Run creates To/clean, To/noisy and To/prepare.json.
	// It may exist; it must not lie inside From.
	To string
	// Disjoint (SIDD only) splits the scenes in two halves so that no scene
	// appears in both domains (see SplitScenes).
	Disjoint bool
	// Copy copies the images instead of creating symlinks to them.
	Copy bool
	// AllowPartial turns a shortfall against the expected counts into a
	// warning (Report.Warnings) instead of an error.
	AllowPartial bool
	// Seed drives the Disjoint split; the same seed always gives the same
	// split.
	Seed int64
	// Progress, if set, is called after each image placed (done of total).
	Progress func(done, total int)
	// Context, if set, stops Run once it is done (a signal): between
	// images, and within a copy every 1 MiB, leaving no partial file (the
	// copy's temporary file is removed) and no prepare.json; Run returns
	// its error. Nil: never cancelled.
	Context context.Context
}

// Report says what Run did. Paths are absolute.
type Report struct {
	Dataset string
	// From and To are the absolute forms of Options.From and Options.To.
	From, To string
	// Layout is how the download was found: "sidd-small", "raw", "deflow"
	// or "mixed" (DeFlow's scale folders for one of the two SR folders).
	Layout string
	// CleanSource and NoisySource are the folders the images came from.
	CleanSource, NoisySource string
	// CleanDir, NoisyDir and Manifest are the folders and the file written.
	CleanDir, NoisyDir, Manifest string
	// Clean and Noisy count the images now in CleanDir and NoisyDir.
	Clean, Noisy int
	// ExpectedClean and ExpectedNoisy are the counts of a complete download.
	ExpectedClean, ExpectedNoisy int
	// Created counts the files this run linked or copied; Existing those
	// that were already in place from an earlier run.
	Created, Existing int
	// DownscaleClean is prepare.json's downscale_clean (see the package
	// documentation).
	DownscaleClean int
	// CleanScenes and NoisyScenes are SIDD's scene folders per domain with
	// Options.Disjoint (nil otherwise).
	CleanScenes, NoisyScenes []string
	// Warnings are the shortfalls accepted under AllowPartial and other
	// notes, one sentence each.
	Warnings []string
}

// item is one image to place: its source file (absolute) and its name in
// the clean or noisy folder.
type item struct {
	src, name string
}

// plan is what a data set's finder proposes; Run checks and executes it.
type plan struct {
	layout                   string
	cleanSource, noisySource string
	clean, noisy             []item
	expClean, expNoisy       int
	downscale                int
	// shortfalls are errors unless AllowPartial; warnings never are.
	shortfalls, warnings     []string
	cleanScenes, noisyScenes []string
}

// maxListed bounds how many names an error message lists.
const maxListed = 10

// Run prepares opts.Dataset from opts.From into opts.To. It checks
// everything before it writes anything: the counts, and that no file it
// would create exists with other contents (it never overwrites one) and no
// file it would not create sits in To/clean or To/noisy. Re-running it on
// the same tree with the same options changes nothing and succeeds.
func Run(opts Options) (Report, error) {
	var rep Report
	if !isDataset(opts.Dataset) {
		return rep, fmt.Errorf("prepare: unknown dataset %q (want %s)", opts.Dataset, strings.Join(Datasets, ", "))
	}
	if opts.Disjoint && opts.Dataset != SIDD {
		return rep, fmt.Errorf("prepare: --disjoint applies to sidd only (%s's two domains already show different images)", opts.Dataset)
	}
	if opts.From == "" {
		return rep, errors.New("prepare: no source folder (--from)")
	}
	if opts.To == "" {
		return rep, errors.New("prepare: no destination folder (--to)")
	}
	from, err := filepath.Abs(opts.From)
	if err != nil {
		return rep, fmt.Errorf("prepare: --from %s: %w", opts.From, err)
	}
	if st, err := os.Stat(from); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return rep, fmt.Errorf("prepare: --from %s: no such folder", opts.From)
		}
		return rep, fmt.Errorf("prepare: --from: %w", err)
	} else if !st.IsDir() {
		return rep, fmt.Errorf("prepare: --from %s is not a folder (unpack the archives first)", opts.From)
	}
	to, err := filepath.Abs(opts.To)
	if err != nil {
		return rep, fmt.Errorf("prepare: --to %s: %w", opts.To, err)
	}
	rFrom, rTo := resolve(from), resolve(to)
	if within(rTo, rFrom) {
		return rep, fmt.Errorf("prepare: --to %s lies inside --from %s: choose a folder outside the downloads", opts.To, opts.From)
	}
	if st, err := os.Stat(to); err == nil && !st.IsDir() {
		return rep, fmt.Errorf("prepare: --to %s exists and is not a folder", opts.To)
	}

	var p plan
	switch opts.Dataset {
	case SIDD:
		p, err = planSIDD(from, opts.Disjoint, opts.Seed)
	case AIM19:
		p, err = planSR(from, aim19Spec)
	case NTIRE20:
		p, err = planSR(from, ntire20Spec)
	}
	if err != nil {
		return rep, err
	}
	if len(p.shortfalls) > 0 && !opts.AllowPartial {
		return rep, fmt.Errorf("prepare %s: %s; use --allow-partial to prepare what is there",
			opts.Dataset, strings.Join(p.shortfalls, "; "))
	}
	if len(p.clean) == 0 || len(p.noisy) == 0 {
		return rep, fmt.Errorf("prepare %s: nothing to prepare (%d clean, %d degraded images found): %s",
			opts.Dataset, len(p.clean), len(p.noisy), strings.Join(p.shortfalls, "; "))
	}
	warnings := append(append([]string(nil), p.shortfalls...), p.warnings...)

	cleanDir, noisyDir := filepath.Join(to, CleanDir), filepath.Join(to, NoisyDir)
	for _, d := range []struct {
		dir   string
		items []item
	}{{cleanDir, p.clean}, {noisyDir, p.noisy}} {
		if err := checkUnique(d.dir, d.items); err != nil {
			return rep, err
		}
		if err := checkDest(d.dir, d.items, opts.Copy); err != nil {
			return rep, err
		}
	}

	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	created, existing := 0, 0
	total := len(p.clean) + len(p.noisy)
	for _, d := range []struct {
		dir   string
		items []item
	}{{cleanDir, p.clean}, {noisyDir, p.noisy}} {
		if err := os.MkdirAll(d.dir, 0o755); err != nil {
			return rep, fmt.Errorf("prepare: %w", err)
		}
		for _, it := range d.items {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			made, err := place(ctx, filepath.Join(d.dir, it.name), it.src, opts.Copy)
			if err != nil {
				return rep, err
			}
			if made {
				created++
			} else {
				existing++
			}
			if opts.Progress != nil {
				opts.Progress(created+existing, total)
			}
		}
	}

	mode := "symlink"
	if opts.Copy {
		mode = "copy"
	}
	m := Manifest{
		Version:        ManifestVersion,
		Dataset:        opts.Dataset,
		From:           from,
		Layout:         p.layout,
		CleanSource:    p.cleanSource,
		NoisySource:    p.noisySource,
		Clean:          len(p.clean),
		Noisy:          len(p.noisy),
		ExpectedClean:  p.expClean,
		ExpectedNoisy:  p.expNoisy,
		DownscaleClean: p.downscale,
		Mode:           mode,
		Options:        ManifestOptions{Disjoint: opts.Disjoint, Seed: opts.Seed, AllowPartial: opts.AllowPartial},
		CleanScenes:    p.cleanScenes,
		NoisyScenes:    p.noisyScenes,
		Warnings:       warnings,
	}
	manifest := filepath.Join(to, ManifestFile)
	if err := writeManifest(manifest, m); err != nil {
		return rep, err
	}
	return Report{
		Dataset: opts.Dataset, From: from, To: to, Layout: p.layout,
		CleanSource: p.cleanSource, NoisySource: p.noisySource,
		CleanDir: cleanDir, NoisyDir: noisyDir, Manifest: manifest,
		Clean: len(p.clean), Noisy: len(p.noisy),
		ExpectedClean: p.expClean, ExpectedNoisy: p.expNoisy,
		Created: created, Existing: existing, DownscaleClean: p.downscale,
		CleanScenes: p.cleanScenes, NoisyScenes: p.noisyScenes,
		Warnings: warnings,
	}, nil
}

func isDataset(name string) bool {
	for _, d := range Datasets {
		if name == d {
			return true
		}
	}
	return false
}

// resolve returns the absolute path p with symlinks resolved as far as the
// path exists (the rest, not yet created, is appended unchanged).
func resolve(p string) string {
	rest := ""
	for cur := p; ; {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return p
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// within reports whether path is parent or lies below it.
func within(path, parent string) bool {
	rel, err := filepath.Rel(parent, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// listSome formats up to maxListed names and how many more there are.
func listSome(names []string) string {
	if len(names) <= maxListed {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:maxListed], ", "), len(names)-maxListed)
}

func checkUnique(dir string, items []item) error {
	seen := make(map[string]string, len(items))
	for _, it := range items {
		if prev, ok := seen[it.name]; ok {
			return fmt.Errorf("prepare: %s and %s would both become %s", prev, it.src, filepath.Join(dir, it.name))
		}
		seen[it.name] = it.src
	}
	return nil
}

// checkDest verifies, before anything is written, that every planned file
// in dir is either absent or already the same file placed the same way, and
// that dir holds nothing else.
func checkDest(dir string, items []item, copyMode bool) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	planned := make(map[string]bool, len(items))
	for _, it := range items {
		planned[it.name] = true
	}
	var extra []string
	for _, e := range entries {
		if !planned[e.Name()] && !atomicfile.IsTemp(e.Name()) {
			extra = append(extra, e.Name())
		}
	}
	if len(extra) > 0 {
		return fmt.Errorf("prepare: %s holds %d entries this run would not create (%s): an earlier run with other options or another data set? Use an empty --to",
			dir, len(extra), listSome(extra))
	}
	var conflicts []string
	for _, it := range items {
		if _, err := inPlace(filepath.Join(dir, it.name), it.src, copyMode); err != nil {
			conflicts = append(conflicts, err.Error())
		}
	}
	if len(conflicts) > 0 {
		return fmt.Errorf("prepare: %d files exist and differ from what this run would place (it never overwrites): %s",
			len(conflicts), listSome(conflicts))
	}
	return nil
}

// inPlace reports whether dst already holds src the way this run places it
// (a symlink resolving to src, or a regular file with src's contents with
// copyMode). An existing dst that is anything else is an error naming it.
func inPlace(dst, src string, copyMode bool) (bool, error) {
	lst, err := os.Lstat(dst)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	srcSt, err := os.Stat(src)
	if err != nil {
		return false, fmt.Errorf("source %s: %w", src, err)
	}
	switch {
	case lst.Mode()&os.ModeSymlink != 0:
		target, _ := os.Readlink(dst)
		if copyMode {
			return false, fmt.Errorf("%s is a symlink (to %s) where --copy would put a copy", dst, target)
		}
		st, err := os.Stat(dst)
		if err != nil {
			return false, fmt.Errorf("%s is a dangling symlink (to %s)", dst, target)
		}
		if !os.SameFile(st, srcSt) {
			return false, fmt.Errorf("%s links to %s, not %s", dst, target, src)
		}
		return true, nil
	case lst.Mode().IsRegular():
		if !copyMode {
			return false, fmt.Errorf("%s is a regular file where a symlink to %s would go (an earlier --copy run?)", dst, src)
		}
		same, err := sameContents(dst, src, lst, srcSt)
		if err != nil {
			return false, err
		}
		if !same {
			return false, fmt.Errorf("%s differs from %s", dst, src)
		}
		return true, nil
	default:
		return false, fmt.Errorf("%s exists and is not a file (%v)", dst, lst.Mode().Type())
	}
}

func sameContents(a, b string, aSt, bSt os.FileInfo) (bool, error) {
	if os.SameFile(aSt, bSt) {
		return true, nil
	}
	if aSt.Size() != bSt.Size() {
		return false, nil
	}
	fa, err := pathguard.OpenRegular(a)
	if err != nil {
		return false, err
	}
	defer fa.Close()
	fb, err := pathguard.OpenRegular(b)
	if err != nil {
		return false, err
	}
	defer fb.Close()
	ra, rb := bufio.NewReaderSize(fa, 1<<16), bufio.NewReaderSize(fb, 1<<16)
	bufA, bufB := make([]byte, 1<<16), make([]byte, 1<<16)
	for {
		na, errA := io.ReadFull(ra, bufA)
		nb, errB := io.ReadFull(rb, bufB)
		if na != nb || !bytes.Equal(bufA[:na], bufB[:nb]) {
			return false, nil
		}
		if errA == io.EOF || errA == io.ErrUnexpectedEOF {
			return errB == io.EOF || errB == io.ErrUnexpectedEOF, nil
		}
		if errA != nil {
			return false, errA
		}
		if errB != nil {
			return false, errB
		}
	}
}

// place puts src at dst (a symlink to the absolute src, or a copy) unless it
// is already there; made reports whether it wrote anything.
func place(ctx context.Context, dst, src string, copyMode bool) (made bool, err error) {
	ok, err := inPlace(dst, src, copyMode)
	if err != nil {
		return false, fmt.Errorf("prepare: %w", err)
	}
	if ok {
		return false, nil
	}
	if !copyMode {
		if err := os.Symlink(src, dst); err != nil {
			return false, fmt.Errorf("prepare: %w", err)
		}
		return true, nil
	}
	if err := copyFile(ctx, dst, src); err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, fmt.Errorf("prepare: copy %s to %s: %w", src, dst, err)
	}
	return true, nil
}

// copyFile copies src to dst through a temporary file in dst's folder
// (package atomicfile), so that dst never exists half-written, and never
// replaces a dst that appeared since the checks. Cancelling ctx stops it
// within 1 MiB, the temporary file removed.
func copyFile(ctx context.Context, dst, src string) error {
	in, err := pathguard.OpenRegular(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return atomicfile.WriteNew(dst, func(w io.Writer) error {
		buf := make([]byte, 1<<20)
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			n, err := in.Read(buf)
			if n > 0 {
				if _, werr := w.Write(buf[:n]); werr != nil {
					return werr
				}
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
	})
}

// imageFiles lists the image files (internal/images' extensions) directly in
// dir, sorted by name.
func imageFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() || e.Type()&os.ModeSymlink != 0 {
			if images.IsImageFile(e.Name()) {
				names = append(names, e.Name())
			}
		}
	}
	sort.Strings(names)
	return names, nil
}
