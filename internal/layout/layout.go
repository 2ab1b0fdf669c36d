// Package layout chooses the memory layout a network runs in on the CPU,
// channels-last (NHWC), NCHW or (LUD-VAE's training) oneDNN's own blocked
// layout, by timing them on the actual model and input size, as cuDNN's
// benchmark mode times its algorithms: which one oneDNN runs faster
// depends on the CPU (an AVX2-only EPYC ran a training step 15–20 %
// faster in NCHW, the development machine 4 % faster in NHWC), so no
// fixed choice is right everywhere.
//
// The choice is cached per CPU model, instruction set, thread count,
// libtorch, task and shape in the user's cache folder
// (os.UserCacheDir()/ludvae/layout.json, written atomically), so only the
// first run of a shape on a machine pays for the timing. The layouts
// compute the same function; they differ in float32 rounding only, and
// the timing runs on a throwaway copy of the network, so a seeded run's
// results do not depend on which layout was chosen beyond that rounding.
//
// The package knows nothing of libtorch: the caller times one iteration
// in a given layout, and says which layouts its network can run in.
package layout

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ludvae/ludvae/internal/atomicfile"
	"github.com/ludvae/ludvae/internal/images"
)

// Layout is a memory layout of the network's weights and activations.
type Layout string

const (
	// NCHW is torch's default, contiguous layout.
	NCHW Layout = "nchw"
	// NHWC is channels-last.
	NHWC Layout = "nhwc"
	// Blocked keeps the weights NCHW and the activations in oneDNN's own
	// blocked memory order from one convolution to the next, so oneDNN
	// does not reorder them to and from NCHW around each convolution. Only
	// LUD-VAE's training runs in it, on the CPU in float32 with oneDNN on;
	// it runs NCHW's oneDNN kernels, so its results are NCHW's up to the
	// order of a few sums (bit for bit for most batches on two threads).
	Blocked Layout = "blocked"
	// Auto chooses by timing (Choose); on CUDA it means NHWC.
	Auto Layout = "auto"
)

// Flag is the usage text of the --layout flag that train, synth, restore
// and bench share.
const Flag = "memory layout of the network: auto (CPU: time the layouts at start and keep the fastest, cached per CPU and shape; CUDA: nhwc), nchw, nhwc (channels-last), or blocked (oneDNN's own; LUD-VAE training on the CPU only)"

// Parse reads a --layout value ("" is auto); flag names the flag in the
// error.
func Parse(flag, s string) (Layout, error) {
	switch l := Layout(strings.ToLower(s)); l {
	case "":
		return Auto, nil
	case NCHW, NHWC, Blocked, Auto:
		return l, nil
	case "channels-last", "channels_last":
		return NHWC, nil
	}
	return "", fmt.Errorf("%s %q: expected auto, nchw, nhwc (channels-last) or blocked", flag, s)
}

// Dense are the layouts every network runs in: NCHW and NHWC.
var Dense = []Layout{NCHW, NHWC}

// ParseDense is Parse for a command whose network runs only in NCHW or
// NHWC (synthesis, restore): blocked is refused too, naming the flag.
func ParseDense(flag, s string) (Layout, error) {
	l, err := Parse(flag, s)
	if err == nil && l == Blocked {
		return "", fmt.Errorf("%s blocked: only LUD-VAE training (train, bench train) runs in the blocked layout; expected auto, nchw or nhwc", flag)
	}
	return l, err
}

// Key names what a timing depends on. Two runs with the same key reuse
// one measurement.
type Key struct {
	CPU        string `json:"cpu"`        // the CPU model, /proc/cpuinfo's "model name"
	Capability string `json:"capability"` // libtorch's kernels' instruction set (AVX2, AVX512)
	Threads    int    `json:"threads"`
	Libtorch   string `json:"libtorch"`
	Task       string `json:"task"`  // "train", "synth", "restore-train", ...
	Shape      string `json:"shape"` // the model and input, e.g. "filters128-levels3-batch4x32x32"
	Precision  string `json:"precision"`
}

func (k Key) String() string {
	return strings.Join([]string{k.CPU, k.Capability, fmt.Sprintf("threads%d", k.Threads), "libtorch" + k.Libtorch, k.Task, k.Shape, k.Precision}, "|")
}

// Choice is a layout and the timings it was chosen by (zero when forced,
// and for a layout not timed).
type Choice struct {
	Layout    Layout  `json:"layout"`
	NCHWMs    float64 `json:"nchw_ms"`
	NHWCMs    float64 `json:"nhwc_ms"`
	BlockedMs float64 `json:"blocked_ms,omitempty"`
	When      string  `json:"measured,omitempty"` // RFC 3339
	// Load is the 1-minute load average when the layouts were timed, and
	// CPUs the cores the process could use; Load > CPUs marks a timing
	// taken on busy cores (see Choose).
	Load    float64 `json:"load,omitempty"`
	CPUs    int     `json:"cpus,omitempty"`
	Cached  bool    `json:"-"` // read from the cache, not timed now
	Forced  bool    `json:"-"` // --layout nchw or nhwc
	Retimed string  `json:"-"` // why a cached choice was timed again, or ""
}

// Ms is the time per iteration l was timed at (0 if not timed).
func (c Choice) Ms(l Layout) float64 {
	switch l {
	case NCHW:
		return c.NCHWMs
	case NHWC:
		return c.NHWCMs
	case Blocked:
		return c.BlockedMs
	}
	return 0
}

func (c *Choice) setMs(l Layout, ms float64) {
	switch l {
	case NCHW:
		c.NCHWMs = ms
	case NHWC:
		c.NHWCMs = ms
	case Blocked:
		c.BlockedMs = ms
	}
}

// timed says whether c holds a timing of every layout in ls.
func (c Choice) timed(ls []Layout) bool {
	for _, l := range ls {
		if c.Ms(l) <= 0 {
			return false
		}
	}
	return true
}

// busy says whether c was timed while other work wanted more cores than
// there were: the two layouts then compete with it unevenly, and a
// layout 20 % slower on idle cores has been seen to win.
func (c Choice) busy() bool { return c.CPUs > 0 && c.Load > float64(c.CPUs) }

// String says what was chosen and why, for the log.
func (c Choice) String() string {
	switch {
	case c.Forced:
		return fmt.Sprintf("layout %s (--layout)", c.Layout)
	case c.NCHWMs == 0 && c.NHWCMs == 0 && c.BlockedMs == 0:
		return fmt.Sprintf("layout %s", c.Layout)
	}
	how := "timed now"
	if c.Cached {
		how = "timed " + c.When + ", cached"
	}
	if c.busy() {
		how += fmt.Sprintf(", on busy cores: load %.1f on %d; timed again when they are not", c.Load, c.CPUs)
	}
	if c.Retimed != "" {
		how += "; " + c.Retimed
	}
	times := fmt.Sprintf("nchw %.1f ms, nhwc %.1f ms", c.NCHWMs, c.NHWCMs)
	if c.BlockedMs > 0 {
		times += fmt.Sprintf(", blocked %.1f ms", c.BlockedMs)
	}
	return fmt.Sprintf("layout %s: %s per iteration (%s)", c.Layout, times, how)
}

// Timer runs one iteration of the real work in layout l (the network
// already converted to it), returning an error if it cannot.
type Timer func(l Layout) error

// Options tune Choose. Zero values take the defaults.
type Options struct {
	// Candidates are the layouts Auto times, in order, and the ones that
	// may be forced (default Dense: NCHW and NHWC).
	Candidates []Layout
	Warmup     int    // untimed iterations per layout first (default 1)
	Iters      int    // timed iterations per layout (default 2)
	Cache      string // the cache file (default CachePath())
	// Prepare, when not nil, converts the throwaway network to layout l
	// before its iterations, and returns a function that undoes whatever
	// it set up.
	Prepare func(l Layout) (done func(), err error)
	// Load returns the 1-minute load average and the cores this process
	// may use (default: /proc/loadavg and runtime.NumCPU; ok false where
	// the system does not say).
	Load func() (load float64, cpus int, ok bool)
}

var (
	mu   sync.Mutex            // one measurement at a time per process
	seen = map[string]Choice{} // this process's choices: one per key, whatever the file holds later
)

// Choose returns the layout forced by want, or for Auto the cached choice
// for key, or times the candidate layouts with run (alternately, after a
// warm-up each: NCHW, NHWC, NCHW, NHWC, ... and keeps each one's fastest,
// so that a burst of load on shared cores does not decide) and caches the
// fastest. When the two fastest are within 5 % of each other, up to two
// more rounds are timed (tooClose). A cached choice that lacks a timing of
// a candidate (taken before the candidate existed) is timed again.
// Alternating does not help against load that lasts: a cached choice
// timed on busy cores (load average above the cores) is timed again by
// the first run that finds the cores no longer busy, and the new timing
// replaces it. A cache that cannot be read or written costs only the
// timing.
func Choose(want Layout, key Key, o Options, run Timer) (Choice, error) {
	cands := o.Candidates
	if len(cands) == 0 {
		cands = Dense
	}
	if want != Auto {
		if !slices.Contains(cands, want) {
			return Choice{}, fmt.Errorf("layout %q: expected auto or one of %v", want, cands)
		}
		return Choice{Layout: want, Forced: true}, nil
	}
	mu.Lock()
	defer mu.Unlock()
	path := o.Cache
	if path == "" {
		path = CachePath()
	}
	memo := path + "\x00" + key.String() + "\x00" + fmt.Sprint(cands)
	if c, ok := seen[memo]; ok {
		c.Cached, c.Retimed = true, ""
		return c, nil
	}
	loadNow := o.Load
	if loadNow == nil {
		loadNow = loadAverage
	}
	load, cpus, loadOK := loadNow()
	current := Choice{Load: load, CPUs: cpus}
	retimed := ""
	cache := readCache(path)
	if c, ok := cache[key.String()]; ok && slices.Contains(cands, c.Layout) && c.timed(cands) {
		if !c.busy() || !loadOK || current.busy() {
			c.Cached = true
			seen[memo] = c
			return c, nil
		}
		retimed = fmt.Sprintf("the cached timing (%s, %s) was taken at load %.1f on %d cores", c.Layout, c.When, c.Load, c.CPUs)
	}
	warmup, iters := o.Warmup, o.Iters
	if warmup <= 0 {
		warmup = 1
	}
	if iters <= 0 {
		iters = 2
	}
	best := map[Layout]time.Duration{}
	for i := -warmup; i < iters || i < iters+extraRounds && tooClose(best, cands); i++ {
		for _, l := range cands {
			d, err := timeOne(l, o.Prepare, run)
			if err != nil {
				return Choice{}, fmt.Errorf("timing layout %s: %w", l, err)
			}
			if b, ok := best[l]; i >= 0 && (!ok || d < b) {
				best[l] = d
			}
		}
	}
	c := Choice{Layout: cands[0], When: time.Now().UTC().Format(time.RFC3339)}
	for _, l := range cands {
		c.setMs(l, ms(best[l]))
		if best[l] < best[c.Layout] {
			c.Layout = l
		}
	}
	if loadOK {
		c.Load, c.CPUs = load, cpus
	}
	c.Retimed = retimed
	seen[memo] = c
	if path != "" {
		cache = readCache(path) // another process may have added its own
		cache[key.String()] = c
		_ = writeCache(path, cache) // a read-only cache folder costs a timing next time, nothing else
	}
	return c, nil
}

// Timings of two layouts within closeMargin of each other are decided by
// noise as much as by the layouts: on a virtual machine's idle cores one
// training step varied by 10 % between runs, and the blocked layout, the
// fastest in four forced rounds under an AVX2 cap, lost the start-up
// timing twice. Choose then times up to extraRounds more rounds of every
// candidate, alternating as before, and keeps each one's fastest.
const (
	closeMargin = 0.05
	extraRounds = 2
)

// tooClose says whether the two fastest of the candidates' best timings are
// within closeMargin of each other (false before every one was timed).
func tooClose(best map[Layout]time.Duration, cands []Layout) bool {
	if len(best) < len(cands) || len(cands) < 2 {
		return false
	}
	ds := make([]time.Duration, 0, len(cands))
	for _, l := range cands {
		ds = append(ds, best[l])
	}
	slices.Sort(ds)
	return ds[0] > 0 && float64(ds[1]-ds[0]) <= closeMargin*float64(ds[0])
}

// Device is what ChooseOn asks of the device the network runs on.
type Device interface{ IsCUDA() bool }

// ChooseOn is the rule train, synth and restore share: for Auto on CUDA,
// channels-last, untimed (tensor cores take it; NCHW took 18 % longer per
// training step on an H200), with cudaNote ("" or a clause such as how
// cuDNN picks its algorithms) in the log line; otherwise Choose. It logs
// the choice, followed by what was timed ("one 256² tile").
func ChooseOn(dev Device, want Layout, key Key, o Options, run Timer, what, cudaNote string, log io.Writer) (Choice, error) {
	if want == Auto && dev.IsCUDA() {
		if cudaNote != "" {
			cudaNote = ", " + cudaNote
		}
		fmt.Fprintf(log, "layout nhwc (CUDA: channels-last%s)\n", cudaNote)
		return Choice{Layout: NHWC}, nil
	}
	c, err := Choose(want, key, o, run)
	if err != nil {
		return Choice{}, err
	}
	fmt.Fprintf(log, "%s, %s\n", c, what)
	return c, nil
}

// TimingImage is the image an image-to-image network is timed on: side ×
// side, uniform random pixels of a fixed stream of its own (seed), so the
// timing draws nothing from a run's own generators.
func TimingImage(side int, seed uint64) *images.Image {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	img := &images.Image{W: side, H: side, Pix: make([]float32, 3*side*side)}
	for i := range img.Pix {
		img.Pix[i] = rng.Float32()
	}
	return img
}

func timeOne(l Layout, prepare func(Layout) (func(), error), run Timer) (time.Duration, error) {
	if prepare != nil {
		done, err := prepare(l)
		if err != nil {
			return 0, err
		}
		if done != nil {
			defer done()
		}
	}
	start := now()
	err := run(l)
	return now().Sub(start), err
}

// now is the clock the timings read (the tests' own clock in tests).
var now = time.Now

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// loadAverage is /proc/loadavg's 1-minute figure and the cores this
// process may use.
func loadAverage() (float64, int, bool) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, 0, false
	}
	var load float64
	if _, err := fmt.Sscan(string(b), &load); err != nil {
		return 0, 0, false
	}
	return load, runtime.NumCPU(), true
}

// CachePath is os.UserCacheDir()/ludvae/layout.json ($XDG_CACHE_HOME or
// ~/.cache on Linux), or "" where the system has no cache folder.
func CachePath() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "ludvae", "layout.json")
}

// cacheFile is layout.json: the choices by Key.String().
type cacheFile struct {
	Version int               `json:"version"`
	Choices map[string]Choice `json:"choices"`
}

const cacheVersion = 1

func readCache(path string) map[string]Choice {
	m := map[string]Choice{}
	if path == "" {
		return m
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return m
	}
	var f cacheFile
	if json.Unmarshal(b, &f) != nil || f.Version != cacheVersion {
		return m // unreadable or older: measured again and rewritten
	}
	for k, c := range f.Choices {
		m[k] = c
	}
	return m
}

func writeCache(path string, m map[string]Choice) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteJSON(path, cacheFile{Version: cacheVersion, Choices: m})
}

// CPUModel is the CPU's model name from /proc/cpuinfo ("AMD EPYC 9654
// 96-Core Processor"), or GOARCH where there is none.
func CPUModel() string {
	name, _ := cpuinfo()
	return name
}

// CPUFlags are the vector instruction sets /proc/cpuinfo lists among
// avx, avx2, fma, avx512f, avx512_bf16, avx512_vnni, amx_tile, amx_bf16,
// in that order ("avx avx2 fma" on an AVX2-only machine).
func CPUFlags() string {
	_, flags := cpuinfo()
	return flags
}

var cpuinfoOnce = sync.OnceValues(func() (string, string) { return parseCPUInfo(readProcCPUInfo()) })

func cpuinfo() (string, string) { return cpuinfoOnce() }

func readProcCPUInfo() io.Reader {
	b, _ := os.ReadFile("/proc/cpuinfo") // none: GOARCH and no flags
	return strings.NewReader(string(b))
}

// vectorFlags are the flags CPUFlags reports, in its order.
var vectorFlags = []string{"avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile", "amx_bf16"}

// parseCPUInfo reads the first processor's model name and vector flags.
func parseCPUInfo(r io.Reader) (name, flags string) {
	have := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "model name":
			if name == "" {
				name = strings.Join(strings.Fields(v), " ")
			}
		case "flags":
			if len(have) == 0 {
				for _, f := range strings.Fields(v) {
					have[f] = true
				}
			}
		}
	}
	if name == "" {
		name = runtime.GOARCH
	}
	var fl []string
	for _, f := range vectorFlags {
		if have[f] {
			fl = append(fl, f)
		}
	}
	return name, strings.Join(fl, " ")
}
