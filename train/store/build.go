package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ludvae/ludvae/internal/atomicfile"
	"github.com/ludvae/ludvae/internal/images"
	runjob "github.com/ludvae/ludvae/internal/job" // the package; this file names its own entries job
	"github.com/ludvae/ludvae/internal/pidlock"
)

// Options say how to build a store.
type Options struct {
	Downscale int                   // shrink every image by this factor (MATLAB bicubic, 8-bit); 0 or 1: none
	Workers   int                   // images decoded at once; 0: job.Workers(0), at most MaxWorkers
	Log       io.Writer             // what the build says besides progress; nil: nothing
	Progress  func(done, total int) // called from one goroutine as images are decoded
	// SaveEvery is how often an unfinished build commits its progress, so
	// that a killed build resumes where it was (default 30 s).
	SaveEvery time.Duration
}

// MaxWorkers bounds the default count of images decoded at once: each
// holds about 25 bytes a pixel while it is converted (400 MB for a
// 5328×3000 photo), so a 64-core host would otherwise need 25 GB to build.
const MaxWorkers = 8

// Summary says what a build did.
type Summary struct {
	Images  int   // entries with pixels
	Failed  int   // entries with an Error
	Decoded int   // files decoded by this build
	Reused  int   // files unchanged since the last build
	Removed int   // entries whose file is gone
	Pixels  int64 // width×height summed over the stored images
	Bytes   int64 // pixel bytes on disk
	Elapsed time.Duration
}

func (s Summary) String() string {
	return fmt.Sprintf("%d images (%d decoded, %d unchanged, %d removed, %d unreadable), %.2f Gpx, %s on disk, %.1f s",
		s.Images, s.Decoded, s.Reused, s.Removed, s.Failed, float64(s.Pixels)/1e9, HumanBytes(s.Bytes), s.Elapsed.Seconds())
}

// HumanBytes writes n bytes with a binary unit.
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Build makes dir the store of the image files under source (found as
// images.Find finds them), or brings an existing one up to date: files
// whose size and modification time are unchanged are kept, new and changed
// ones decoded, removed ones dropped. Files that cannot be decoded become
// entries with an Error (tried again at every build). Another process
// building the same store is waited for. Cancelling ctx stops the build
// with its progress committed, so the next one resumes.
func Build(ctx context.Context, dir, source string, opt Options) (Summary, error) {
	start := time.Now()
	_, statErr := os.Stat(dir)
	fresh := errors.Is(statErr, fs.ErrNotExist)
	b, err := newBuilder(ctx, dir, source, opt)
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		// A store on storage this process cannot write (a read-only
		// mount, another user's folder): usable as it is if it is up to
		// date, which needs no lock, as nothing is written.
		sum, rerr := checkReadOnly(ctx, dir, source, opt, err)
		sum.Elapsed = time.Since(start)
		return sum, rerr
	}
	if err != nil {
		return Summary{}, err
	}
	defer b.lock.Release()
	sum, err := b.run(ctx)
	sum.Elapsed = time.Since(start)
	if err != nil && fresh {
		// A build that failed before it stored anything (no images in
		// source, say) leaves no store folder beside the images.
		os.Remove(filepath.Join(dir, "px")) // only if empty
		if _, perr := os.Stat(filepath.Join(dir, "px")); errors.Is(perr, fs.ErrNotExist) {
			b.lock.Release()
			os.Remove(filepath.Join(dir, lockName))
			os.Remove(dir) // only if empty
		}
	}
	return sum, err
}

type builder struct {
	dir, source string
	opt         Options
	log         io.Writer
	lock        *pidlock.Lock
	old         map[string]*Entry
	oldIdx      *Index // the index found, when it is of this source
	idx         Index
	nextID      int
}

func newBuilder(ctx context.Context, dir, source string, opt Options) (*builder, error) {
	abs, err := filepath.Abs(source)
	if err != nil {
		return nil, err
	}
	opt.Downscale = max(opt.Downscale, 1)
	b := &builder{dir: dir, source: source, opt: opt, log: opt.Log, old: map[string]*Entry{}, nextID: 1}
	if b.log == nil {
		b.log = io.Discard
	}
	b.idx = Index{Format: Format, Version: Version, Source: abs, Downscale: opt.Downscale, Tile: Tile}
	if err := os.MkdirAll(filepath.Join(dir, "px"), 0o755); err != nil {
		return nil, fmt.Errorf("store %s: %w", dir, err)
	}
	if b.lock, err = acquire(ctx, dir, b.log); err != nil {
		return nil, err
	}
	if err := b.readOld(); err != nil {
		b.lock.Release()
		return nil, err
	}
	return b, nil
}

// readOld takes over what an earlier build left that still holds.
func (b *builder) readOld() error {
	old, err := readIndex(b.dir)
	var verr *VersionError
	switch {
	case errors.Is(err, ErrNotStore):
		return nil
	case errors.As(err, &verr) && verr.Version > Version:
		return err // a newer ludvae's store is not ours to rewrite
	case err != nil:
		fmt.Fprintf(b.log, "%v; rebuilding it\n", err)
		return nil
	case old.Downscale != b.idx.Downscale:
		fmt.Fprintf(b.log, "store %s holds images downscaled ×%d; rebuilding it for ×%d\n", b.dir, old.Downscale, b.idx.Downscale)
		return nil
	case !old.Complete:
		fmt.Fprintf(b.log, "store %s: resuming an interrupted build (%d images were done)\n", b.dir, len(old.Images))
	}
	if old.Source != b.idx.Source {
		// The same folder seen from elsewhere (a container's mount, a
		// renamed parent): its files are compared one by one as usual.
		fmt.Fprintf(b.log, "store %s was built from %s; now from %s\n", b.dir, old.Source, b.idx.Source)
	}
	b.oldIdx = old
	for i := range old.Images {
		e := &old.Images[i]
		b.old[e.Path] = e
		if n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(e.File, "px/"), ".raw")); err == nil {
			b.nextID = max(b.nextID, n+1)
		}
	}
	return nil
}

// job is an entry to decode: its index in b.idx.Images and source file.
type job struct {
	i    int
	path string
}

type result struct {
	i   int
	e   Entry
	err error // fatal: the store could not be written
}

func (b *builder) run(ctx context.Context) (Summary, error) {
	paths, err := images.FindNoting(ctx, b.source, b.log)
	if err != nil {
		return Summary{}, err
	}
	todo, sum := b.plan(paths)
	if len(todo) == 0 && sum.Removed == 0 && b.unchanged() {
		return b.summarize(sum), nil
	}
	done := make([]bool, len(b.idx.Images))
	for i, e := range b.idx.Images {
		done[i] = e.Width > 0 // reused; those to decode have no size yet
	}
	if err := b.decodeAll(ctx, todo, done, &sum); err != nil {
		b.commitPartial(done)
		return b.summarize(sum), err
	}
	b.idx.Complete = true
	if err := writeIndex(b.dir, &b.idx); err != nil {
		return b.summarize(sum), fmt.Errorf("store %s: writing the index: %w", b.dir, err)
	}
	b.sweep()
	return b.summarize(sum), nil
}

// plan lists the entries of paths, reusing the unchanged ones, and returns
// those to decode.
func (b *builder) plan(paths []string) ([]job, Summary) {
	var todo []job
	var sum Summary
	seen := map[string]bool{}
	for _, p := range paths {
		rel, err := filepath.Rel(b.source, p)
		if err != nil {
			rel = p
		}
		e := Entry{Path: filepath.ToSlash(rel)}
		seen[e.Path] = true
		st, err := os.Stat(p)
		switch {
		case err != nil:
			e.Error = unwrapPath(err).Error()
		case !st.Mode().IsRegular():
			e.Error = fmt.Sprintf("not a regular file (%s)", st.Mode().Type())
		default:
			e.Size, e.MtimeNS = st.Size(), st.ModTime().UnixNano()
			if o := b.old[e.Path]; o != nil && o.Error == "" && o.Size == e.Size && o.MtimeNS == e.MtimeNS && b.intact(o) {
				e = *o
				sum.Reused++
			} else {
				e.File = fmt.Sprintf("px/%06d.raw", b.nextID)
				b.nextID++
				todo = append(todo, job{i: len(b.idx.Images), path: p})
			}
		}
		b.idx.Images = append(b.idx.Images, e)
	}
	for p := range b.old {
		if !seen[p] {
			sum.Removed++
		}
	}
	return todo, sum
}

// checkReadOnly checks, without the lock or any write, that the store at
// dir is complete and up to date with source; werr is why it cannot be
// written, said if it is not.
func checkReadOnly(ctx context.Context, dir, source string, opt Options, werr error) (Summary, error) {
	abs, err := filepath.Abs(source)
	if err != nil {
		return Summary{}, err
	}
	opt.Downscale = max(opt.Downscale, 1)
	b := &builder{dir: dir, source: source, opt: opt, log: opt.Log, old: map[string]*Entry{}, nextID: 1}
	if b.log == nil {
		b.log = io.Discard
	}
	b.idx = Index{Format: Format, Version: Version, Source: abs, Downscale: opt.Downscale, Tile: Tile}
	if err := b.readOld(); err != nil {
		return Summary{}, err
	}
	paths, err := images.FindNoting(ctx, source, b.log)
	if err != nil {
		return Summary{}, err
	}
	todo, sum := b.plan(paths)
	if len(todo) == 0 && sum.Removed == 0 && b.unchanged() {
		fmt.Fprintf(b.log, "store %s is read-only here; it is up to date, so it is used as it is\n", dir)
		return b.summarize(sum), nil
	}
	return Summary{}, fmt.Errorf("store %s cannot be written (%w) and is not up to date with %s (%d images to decode, %d removed): build it where it can be written (--store-dir) or name a store that is complete", dir, werr, source, len(todo), sum.Removed)
}

// intact reports whether the pixel file of an unchanged entry is still
// what the index says: a regular file of the entry's size. A truncated,
// missing or replaced file is decoded again, so that `prepare store`
// repairs the damage Open reports (hostile case st08). It only stats:
// checking every byte would cost as much as decoding.
func (b *builder) intact(e *Entry) bool {
	if !validFile(e.File) {
		return false
	}
	st, err := os.Lstat(filepath.Join(b.dir, filepath.FromSlash(e.File)))
	if err != nil || !st.Mode().IsRegular() || st.Size() != e.pixelBytes() {
		fmt.Fprintf(b.log, "store %s: the pixels of %s (%s) are missing or damaged; decoding it again\n", b.dir, e.Path, e.File)
		return false
	}
	return true
}

// unchanged reports whether the store on disk already is the planned one.
func (b *builder) unchanged() bool {
	o := b.oldIdx
	return o != nil && o.Complete && o.Source == b.idx.Source && slices.Equal(o.Images, b.idx.Images)
}

// decodeAll decodes todo on the workers, committing progress every
// SaveEvery.
func (b *builder) decodeAll(ctx context.Context, todo []job, done []bool, sum *Summary) error {
	if len(todo) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan job)
	results := make(chan result)
	workers := b.opt.Workers
	if workers <= 0 {
		workers = min(runjob.Workers(0), MaxWorkers)
	}
	var wg sync.WaitGroup
	for range min(workers, len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				e, err := b.decode(j.path, b.idx.Images[j.i])
				results <- result{j.i, e, err}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for _, j := range todo {
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	every := b.opt.SaveEvery
	if every <= 0 {
		every = 30 * time.Second
	}
	saved := time.Now()
	var first error
	n := 0
	for r := range results {
		if r.err != nil {
			first = firstErr(first, r.err)
			cancel()
			continue
		}
		b.idx.Images[r.i] = r.e
		done[r.i] = r.e.Error == ""
		n++
		sum.Decoded++
		if b.opt.Progress != nil {
			b.opt.Progress(n, len(todo))
		}
		if time.Since(saved) > every && first == nil && ctx.Err() == nil {
			b.commitPartial(done)
			saved = time.Now()
		}
	}
	if first == nil {
		first = ctx.Err()
	}
	return first
}

func firstErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// decode reads one source file into its pixel file. A file that cannot be
// decoded gives an entry with an Error; only a failure to write the store
// is an error.
func (b *builder) decode(path string, e Entry) (Entry, error) {
	px, err := b.pixels(path)
	if err != nil {
		var fe *images.FileError
		if errors.As(err, &fe) {
			err = fe.Err
		}
		e.Error, e.File = err.Error(), ""
		return e, nil
	}
	e.SourceWidth, e.SourceHeight, e.Width, e.Height = px.srcW, px.srcH, px.w, px.h
	e.DType, e.Sum, e.SumSq = px.dtype, px.sum, px.sq
	name := filepath.Join(b.dir, filepath.FromSlash(e.File))
	err = atomicfile.Write(name, func(w io.Writer) error {
		return writeTiled(w, px.raw, px.w, px.h, sampleBytes(px.dtype))
	})
	if err != nil {
		return e, fmt.Errorf("store %s: writing the pixels of %s: %w", b.dir, path, err)
	}
	return e, nil
}

// pixels is an image as the store keeps it: interleaved samples, their
// dtype and sums, and its size before and after any downscaling.
type pixels struct {
	raw              []byte
	dtype            string
	w, h, srcW, srcH int
	sum, sq          [3]float64
}

// pixels decodes path. 8-bit files that need no downscaling go straight
// to their samples (images.Load8), without a float32 copy four times
// their size; the rest through Load's float32 image.
func (b *builder) pixels(path string) (pixels, error) {
	if b.idx.Downscale == 1 {
		hwc, w, h, m, err := images.Load8(path)
		if err != nil {
			return pixels{}, err
		}
		if hwc != nil {
			px := pixels{raw: hwc, dtype: "uint8", w: w, h: h, srcW: w, srcH: h}
			px.sum, px.sq = channelSums8(hwc)
			return px, nil
		}
		return fromImage(m, m), nil
	}
	m, err := images.Load(path)
	if err != nil {
		return pixels{}, err
	}
	return fromImage(m, images.Downscale8(m, b.idx.Downscale)), nil
}

// fromImage is the stored form of m, decoded from src.
func fromImage(src, m *images.Image) pixels {
	raw, dtype := encode(m)
	px := pixels{raw: raw, dtype: dtype, w: m.W, h: m.H, srcW: src.W, srcH: src.H}
	px.sum, px.sq = channelSums(m)
	return px
}

// commitPartial writes an incomplete index of the entries done, so that a
// later build resumes from them (best effort: the disk may be full).
func (b *builder) commitPartial(done []bool) {
	part := b.idx
	part.Complete = false
	part.Images = nil
	for i, e := range b.idx.Images {
		if done[i] {
			part.Images = append(part.Images, e)
		}
	}
	if err := writeIndex(b.dir, &part); err != nil {
		fmt.Fprintf(b.log, "store %s: could not save the build's progress: %v\n", b.dir, err)
	}
}

// sweep removes pixel files no entry names and temporary files that
// crashed builds left.
func (b *builder) sweep() {
	keep := map[string]bool{}
	for _, e := range b.idx.Images {
		keep[e.File] = true
	}
	px, _ := os.ReadDir(filepath.Join(b.dir, "px"))
	for _, d := range px {
		if !keep["px/"+d.Name()] {
			os.Remove(filepath.Join(b.dir, "px", d.Name()))
		}
	}
	top, _ := os.ReadDir(b.dir)
	for _, d := range top {
		if atomicfile.IsTemp(d.Name()) {
			os.Remove(filepath.Join(b.dir, d.Name()))
		}
	}
}

func (b *builder) summarize(s Summary) Summary {
	for _, e := range b.idx.Images {
		if e.Error != "" {
			s.Failed++
			continue
		}
		if e.Width == 0 { // not decoded yet
			continue
		}
		s.Images++
		s.Pixels += int64(e.Width) * int64(e.Height)
		s.Bytes += e.pixelBytes()
	}
	return s
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}
