package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/spf13/pflag"

	"github.com/ludvae/ludvae/model/images"
	"github.com/ludvae/ludvae/synth/metrics"
	"github.com/ludvae/ludvae/synth/noisestats"
)

// runEval is `ludvae eval` (PSNR/SSIM of restored images against the
// truth) and `ludvae eval noise` (noise statistics of degradations).
func runEval(args []string) error { return evalCommand(args, os.Stdout, os.Stderr) }

// evalCommand runs `ludvae eval` with its report on stdout and warnings
// and usage on stderr.
func evalCommand(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "noise" {
		return evalNoiseCommand(args[1:], stdout, stderr)
	}
	fs := pflag.NewFlagSet("eval", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	restored := fs.String("restored", "", "folder of restored (or synthesized) images (required)")
	truth := fs.String("truth", "", "folder of ground-truth images, paired with --restored by name (required)")
	border := fs.Int("border", 0, "pixels cropped from every side before measuring (KAIR uses the SR scale)")
	asJSON := fs.Bool("json", false, "print a JSON document instead of a table")
	yOnly := fs.Bool("y", false, "measure the luma Y only (KAIR's rgb2ycbcr(only_y=True) on the 8-bit images)")
	workers := fs.Int("workers", runtime.NumCPU(), "images measured in parallel")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: ludvae eval --restored DIR --truth DIR [--border N] [--json] [--y]
       ludvae eval noise --synthetic DIR [--synthetic DIR...] --real DIR --clean DIR [--bins 16] [--plot OUT.png] [--json]

PSNR and SSIM with KAIR's definitions (utils_image.calculate_psnr/ssim on
the images quantized to 8 bits) per image and their mean. Files pair by
their path under the folder without the extension (the base name for flat
folders): restored/0001.png pairs with truth/0001.jpg. Run
`+"`ludvae eval noise --help`"+` for the noise statistics.

flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err // pflag.ErrHelp after --help: main exits 0
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (did you mean `ludvae eval noise`?)", fs.Arg(0))
	}
	switch {
	case *restored == "":
		return errors.New("--restored is required")
	case *truth == "":
		return errors.New("--truth is required")
	case *border < 0:
		return fmt.Errorf("--border %d: must be >= 0", *border)
	case *workers < 1:
		return fmt.Errorf("--workers %d: must be >= 1", *workers)
	}
	rest, err := indexFolder(*restored, "--restored")
	if err != nil {
		return err
	}
	tru, err := indexFolder(*truth, "--truth")
	if err != nil {
		return err
	}
	keys := commonKeys(rest, tru)
	onlyRest, onlyTruth := missingKeys(rest, keys), missingKeys(tru, keys)
	reportUnmatched(stderr, onlyRest, "--restored "+*restored, "--truth "+*truth)
	reportUnmatched(stderr, onlyTruth, "--truth "+*truth, "--restored "+*restored)
	if len(keys) == 0 {
		return fmt.Errorf("no image in --restored %s has a same-named image in --truth %s", *restored, *truth)
	}

	results := make([]imageScore, len(keys))
	err = forEachParallel(len(keys), *workers, func(_, i int) error {
		r, err := scorePair(rest[keys[i]], tru[keys[i]], *border, *yOnly)
		if err != nil {
			return err
		}
		r.Name = keys[i]
		results[i] = r
		return nil
	})
	if err != nil {
		return err
	}
	mean, excluded := scoreMeans(results)
	reportNoSSIM(stderr, excluded, *border)
	if *asJSON {
		doc := evalDoc{Border: *border, Channel: "rgb", UnmatchedRestored: onlyRest, UnmatchedTruth: onlyTruth, NoSSIM: excluded}
		if *yOnly {
			doc.Channel = "y"
		}
		for _, r := range results {
			doc.Images = append(doc.Images, evalImageDoc{r.Name, jsonFloat(r.PSNR), jsonFloat(r.SSIM)})
		}
		doc.Mean.PSNR, doc.Mean.SSIM = jsonFloat(mean.PSNR), jsonFloat(mean.SSIM)
		return writeJSON(stdout, doc)
	}
	width := len("image")
	for _, r := range results {
		width = max(width, len(r.Name))
	}
	meanLabel := fmt.Sprintf("mean of %d", len(results))
	width = max(width, len(meanLabel))
	channel := "RGB"
	if *yOnly {
		channel = "Y"
	}
	fmt.Fprintf(stdout, "%-*s  %10s  %8s   (%s, border %d)\n", width, "image", "PSNR (dB)", "SSIM", channel, *border)
	for _, r := range results {
		fmt.Fprintf(stdout, "%-*s  %10.4f  %8s\n", width, r.Name, r.PSNR, ssimText(r.SSIM))
	}
	fmt.Fprintf(stdout, "%-*s  %10.4f  %8s\n", width, meanLabel, mean.PSNR, ssimText(mean.SSIM))
	if note := ssimNote(len(results), len(excluded)); note != "" {
		fmt.Fprintln(stdout, note)
	}
	return nil
}

// imageScore is the PSNR and SSIM of one pair.
type imageScore struct {
	Name       string
	PSNR, SSIM float64
}

// scorePair loads a restored and a truth image and measures them.
func scorePair(restoredPath, truthPath string, border int, yOnly bool) (imageScore, error) {
	a, err := images.Load(restoredPath)
	if err != nil {
		return imageScore{}, err
	}
	b, err := images.Load(truthPath)
	if err != nil {
		return imageScore{}, err
	}
	if a.W != b.W || a.H != b.H {
		return imageScore{}, fmt.Errorf("%s is %dx%d but %s is %dx%d", restoredPath, a.W, a.H, truthPath, b.W, b.H)
	}
	if 2*border >= a.W || 2*border >= a.H {
		return imageScore{}, fmt.Errorf("--border %d leaves nothing of the %dx%d images %s and %s", border, a.W, a.H, restoredPath, truthPath)
	}
	qa, qb := images.ToUint8(a), images.ToUint8(b)
	c := images.Channels
	if yOnly {
		qa, qb, c = kairY(qa), kairY(qb), 1
	}
	return imageScore{
		PSNR: metrics.PSNRUint8(qa, qb, a.H, a.W, c, border),
		SSIM: metrics.SSIMUint8(qa, qb, a.H, a.W, c, border),
	}, nil
}

// kairY is KAIR's rgb2ycbcr(img, only_y=True) on an 8-bit HWC RGB image:
// round(dot(rgb, [65.481, 128.553, 24.966]) / 255 + 16) in float64, numpy's
// round half to even, as uint8 (ITU-R BT.601 luma on the 16–235 range).
func kairY(rgb []uint8) []uint8 {
	y := make([]uint8, len(rgb)/3)
	for i := range y {
		r, g, b := float64(rgb[3*i]), float64(rgb[3*i+1]), float64(rgb[3*i+2])
		y[i] = uint8(math.RoundToEven((r*65.481+g*128.553+b*24.966)/255 + 16))
	}
	return y
}

// evalDoc is the --json output of `ludvae eval`.
type evalDoc struct {
	Images []evalImageDoc `json:"images"`
	Mean   struct {
		PSNR jsonFloat `json:"psnr"`
		SSIM jsonFloat `json:"ssim"`
	} `json:"mean"`
	Border            int      `json:"border"`
	Channel           string   `json:"channel"`
	UnmatchedRestored []string `json:"unmatched_restored,omitempty"`
	UnmatchedTruth    []string `json:"unmatched_truth,omitempty"`
	NoSSIM            []string `json:"no_ssim,omitempty"` // too small for SSIM's window: left out of its mean
}

type evalImageDoc struct {
	Name string    `json:"name"`
	PSNR jsonFloat `json:"psnr"`
	SSIM jsonFloat `json:"ssim"`
}

// jsonFloat is a float64 that encodes NaN and ±Inf (a PSNR of identical
// images is +Inf) as JSON null.
type jsonFloat float64

// MarshalJSON writes f, or null when it is not finite.
func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(v)
}

// jsonFloats converts a slice to jsonFloat values.
func jsonFloats(v []float64) []jsonFloat {
	out := make([]jsonFloat, len(v))
	for i, x := range v {
		out[i] = jsonFloat(x)
	}
	return out
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// indexFolder lists the images under dir (recursively) keyed by their path
// relative to dir without the extension, with '/' separators. Two files
// with the same key (a.png and a.jpg) are an error naming both.
func indexFolder(dir, flag string) (map[string]string, error) {
	paths, err := images.Find(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	idx := make(map[string]string, len(paths))
	for _, p := range paths {
		k := imageKey(dir, p)
		if prev, dup := idx[k]; dup {
			return nil, fmt.Errorf("%s %s: %s and %s have the same name without extension", flag, dir, prev, p)
		}
		idx[k] = p
	}
	return idx, nil
}

// imageKey is path relative to dir without its extension, '/'-separated.
func imageKey(dir, path string) string {
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		rel = filepath.Base(path)
	}
	return filepath.ToSlash(strings.TrimSuffix(rel, filepath.Ext(rel)))
}

// commonKeys returns the keys present in every index, sorted.
func commonKeys(first map[string]string, rest ...map[string]string) []string {
	var keys []string
outer:
	for k := range first {
		for _, idx := range rest {
			if _, ok := idx[k]; !ok {
				continue outer
			}
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// missingKeys returns idx's keys that are not in keep, sorted.
func missingKeys(idx map[string]string, keep []string) []string {
	in := make(map[string]bool, len(keep))
	for _, k := range keep {
		in[k] = true
	}
	var out []string
	for k := range idx {
		if !in[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// reportUnmatched warns on w about names in `from` left out because `other`
// lacks them, listing up to ten.
func reportUnmatched(w io.Writer, names []string, from, other string) {
	if len(names) == 0 {
		return
	}
	list := names
	more := ""
	if len(list) > 10 {
		list, more = list[:10], fmt.Sprintf(" … and %d more", len(names)-10)
	}
	fmt.Fprintf(w, "warning: %d image(s) in %s have no counterpart in %s and are left out: %s%s\n",
		len(names), from, other, strings.Join(list, ", "), more)
}

// forEachParallel calls fn(worker, i) for i in [0, n) on up to workers
// goroutines numbered 0..workers−1 (calls with the same worker number never
// overlap), taking indices in increasing order, and returns the error of
// the lowest failing index (no new index starts after a failure).
func forEachParallel(n, workers int, fn func(worker, i int) error) error {
	errs := make([]error, n)
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for w := range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if errs[i] = fn(w, i); errs[i] != nil {
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// ---- ludvae eval noise ----

// evalNoiseCommand is `ludvae eval noise`.
func evalNoiseCommand(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("eval noise", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	synthetic := fs.StringArray("synthetic", nil, "folder of synthetic degradations of the --clean images (repeat for several; columns are named by the folder's base name)")
	real := fs.String("real", "", "folder of real degraded versions of the --clean images (required)")
	clean := fs.String("clean", "", "folder of the clean images (required)")
	bins := fs.Int("bins", 16, "clean-intensity bins over [0,1] for the noise std")
	plot := fs.String("plot", "", "write a PNG plot of noise std vs intensity per channel to this file")
	asJSON := fs.Bool("json", false, "print a JSON document instead of a table")
	workers := fs.Int("workers", runtime.NumCPU(), "image sets measured in parallel")
	fs.Usage = func() {
		cfg := noisestats.DefaultConfig()
		fmt.Fprintf(fs.Output(), `usage: ludvae eval noise --synthetic DIR [--synthetic DIR...] --real DIR --clean DIR [--bins 16] [--plot OUT.png] [--json]

Compares degradations of the same clean images: the noise is degraded −
clean (computed on [0,1] values, reported in 0–255 grey levels). Per channel
it measures the noise std in each clean-intensity bin (signal dependence),
the correlation of the noise with itself shifted 1 and 2 pixels
horizontally and vertically, and KL(real‖synthetic) in nats between noise
histograms (bins of width %g centred on the integers over [−%g, %g], values
beyond in the edge bins, every bin's probability floored by %g and
renormalized). It also reports the metrics noise models are compared by in
the literature, per image then averaged: DANet's AKLD (local variances from
a 7×7 Gaussian window, KL of zero-mean Gaussians per pixel) and NAFlow's
KLD (256 bins over [−1, 1] on the [0,1] scale, empty bins dropped). Files
pair by path without extension; only names present in --clean, --real and
every --synthetic folder are measured.

flags:
`, cfg.HistStep, cfg.HistLimit, cfg.HistLimit, cfg.Epsilon)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err // pflag.ErrHelp after --help: main exits 0
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case len(*synthetic) == 0:
		return errors.New("--synthetic is required (repeat it to compare several)")
	case *real == "":
		return errors.New("--real is required")
	case *clean == "":
		return errors.New("--clean is required")
	case *bins < 1 || *bins > 1024:
		return fmt.Errorf("--bins %d: must be in 1..1024", *bins)
	case *workers < 1:
		return fmt.Errorf("--workers %d: must be >= 1", *workers)
	}
	cfg := noisestats.DefaultConfig()
	cfg.Bins = *bins

	// Sources: the real noise first, then each synthetic folder.
	type source struct {
		name, dir, flag string
		idx             map[string]string
	}
	sources := []*source{{name: "real", dir: *real, flag: "--real"}}
	names := map[string]bool{"real": true}
	for _, d := range *synthetic {
		name := filepath.Base(filepath.Clean(d))
		if names[name] {
			name = d
		}
		for i := 2; names[name]; i++ {
			name = fmt.Sprintf("%s#%d", d, i)
		}
		names[name] = true
		sources = append(sources, &source{name: name, dir: d, flag: "--synthetic"})
	}
	cleanIdx, err := indexFolder(*clean, "--clean")
	if err != nil {
		return err
	}
	all := []map[string]string{}
	for _, s := range sources {
		if s.idx, err = indexFolder(s.dir, s.flag); err != nil {
			return err
		}
		all = append(all, s.idx)
	}
	keys := commonKeys(cleanIdx, all...)
	reportUnmatched(stderr, missingKeys(cleanIdx, keys), "--clean "+*clean, "--real and every --synthetic folder")
	for _, s := range sources {
		reportUnmatched(stderr, missingKeys(s.idx, keys), s.flag+" "+s.dir, "--clean and the other folders")
	}
	if len(keys) == 0 {
		return fmt.Errorf("no image name is present in --clean %s, --real %s and every --synthetic folder", *clean, *real)
	}

	// One set of accumulators per worker, merged at the end.
	nw := min(*workers, len(keys))
	accs := make([][]*noisestats.Accumulator, nw)
	for w := range accs {
		accs[w] = make([]*noisestats.Accumulator, len(sources))
		for s := range sources {
			if accs[w][s], err = noisestats.NewAccumulator(cfg); err != nil {
				return err
			}
		}
	}
	fields := newFieldScores(len(sources), len(keys))
	err = forEachParallel(len(keys), nw, func(w, i int) error {
		k := keys[i]
		cl, err := images.Load(cleanIdx[k])
		if err != nil {
			return err
		}
		noises, paths := make([]*images.Image, len(sources)), make([]string, len(sources))
		for s, src := range sources {
			path := src.idx[k]
			d, err := images.Load(path)
			if err != nil {
				return err
			}
			if d.W != cl.W || d.H != cl.H {
				return fmt.Errorf("%s is %dx%d but its clean image %s is %dx%d", path, d.W, d.H, cleanIdx[k], cl.W, cl.H)
			}
			if noises[s], err = noisestats.Noise(d, cl); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if err := accs[w][s].AddNoise(noises[s], cl); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			paths[s] = path
		}
		return fields.measure(i, noises, paths)
	})
	if err != nil {
		return err
	}
	stats := make([]*noisestats.Stats, len(sources))
	for s := range sources {
		for w := 1; w < nw; w++ {
			if err := accs[0][s].Merge(accs[w][s]); err != nil {
				return err
			}
		}
		stats[s] = accs[0][s].Stats()
	}
	cmps := make([]noisestats.Comparison, len(sources))
	for s := range sources {
		if cmps[s], err = noisestats.Compare(stats[0], stats[s]); err != nil {
			return err
		}
	}

	if *plot != "" {
		series := make([]noisestats.Series, len(sources))
		for s, src := range sources {
			series[s] = noisestats.Series{Name: src.name, Stats: stats[s]}
		}
		img, err := noisestats.Plot(series)
		if err != nil {
			return err
		}
		if err := images.WritePNG(*plot, img); err != nil {
			return fmt.Errorf("--plot %s: %w", *plot, err)
		}
	}

	srcNames := make([]string, len(sources))
	dirs := make([]string, len(sources))
	for s, src := range sources {
		srcNames[s], dirs[s] = src.name, src.dir
	}
	if *asJSON {
		return writeJSON(stdout, noiseDocument(len(keys), cfg, srcNames, dirs, stats, cmps, fields.means()))
	}
	printNoiseTable(stdout, len(keys), srcNames, stats, cmps, fields.means())
	if *plot != "" {
		fmt.Fprintf(stdout, "\nwrote the noise std plot to %s\n", *plot)
	}
	return nil
}

// printNoiseTable writes the statistics as a table: one row per statistic,
// one column per source (real first); synthetic cells show the value and,
// in parentheses, its difference from the real one.
func printNoiseTable(w io.Writer, pairs int, names []string, stats []*noisestats.Stats, cmps []noisestats.Comparison, fields []noisestats.Field) {
	const labelW, cellW = 24, 22
	chans := []string{"R", "G", "B"}
	fmt.Fprintf(w, "noise = degraded − clean over %d image(s), %d pixels per channel; std in grey levels (0–255), KL in nats\n\n",
		pairs, stats[0].Pixels)
	fmt.Fprintf(w, "%-*s", labelW, "statistic")
	for _, n := range names {
		fmt.Fprintf(w, "  %*s", cellW, n)
	}
	fmt.Fprintln(w)
	row := func(label string, prec int, get func(s int) float64, diff bool) {
		vals := make([]float64, len(names))
		defined := false
		for s := range names {
			vals[s] = get(s)
			defined = defined || !math.IsNaN(vals[s])
		}
		if !defined {
			return
		}
		fmt.Fprintf(w, "%-*s", labelW, label)
		for s, v := range vals {
			cell := fmtNum(v, prec)
			if diff && s > 0 {
				cell += " (" + fmtSigned(v-vals[0], prec) + ")"
			}
			fmt.Fprintf(w, "  %*s", cellW, cell)
		}
		fmt.Fprintln(w)
	}
	section := func(title string) { fmt.Fprintf(w, "%s\n", title) }

	section("-- noise level")
	for c := range chans {
		row("mean "+chans[c], 3, func(s int) float64 { return stats[s].Mean[c] }, true)
	}
	for c := range chans {
		row("std "+chans[c], 3, func(s int) float64 { return stats[s].Std[c] }, true)
	}
	row("std all", 3, func(s int) float64 { return stats[s].StdAll }, true)

	section("-- std per clean-intensity bin")
	edges := noisestats.BinEdges(stats[0].Config.Bins)
	for c := range chans {
		for b := 0; b < stats[0].Config.Bins; b++ {
			label := fmt.Sprintf("std %s [%.3f,%.3f)", chans[c], edges[b], edges[b+1])
			if b == stats[0].Config.Bins-1 {
				label = fmt.Sprintf("std %s [%.3f,%.3f]", chans[c], edges[b], edges[b+1])
			}
			row(label, 3, func(s int) float64 { return stats[s].BinStd[c][b] }, true)
		}
	}

	section("-- spatial correlation")
	for lag := 1; lag <= noisestats.MaxLag; lag++ {
		for c := range chans {
			row(fmt.Sprintf("corr horiz lag %d %s", lag, chans[c]), 4, func(s int) float64 { return stats[s].CorrH[c][lag-1] }, true)
			row(fmt.Sprintf("corr vert lag %d %s", lag, chans[c]), 4, func(s int) float64 { return stats[s].CorrV[c][lag-1] }, true)
		}
		row(fmt.Sprintf("corr lag %d mean", lag), 4, func(s int) float64 { return stats[s].CorrMean(lag) }, true)
	}

	section("-- KL(real‖synthetic) of noise histograms")
	for c := range chans {
		row("KL "+chans[c], 4, func(s int) float64 { return cmps[s].KL[c] }, false)
	}
	row("KL all", 4, func(s int) float64 { return cmps[s].KLAll }, false)

	section("-- the literature's metrics, per image then averaged (lower is closer)")
	row("AKLD (DANet)", 4, func(s int) float64 { return fields[s].AKLD }, false)
	row("KLD (NAFlow, 256 bins)", 4, func(s int) float64 { return fields[s].KLD }, false)

	section("-- summary (difference synthetic − real in parentheses)")
	row("std all", 3, func(s int) float64 { return cmps[s].SynthStd }, true)
	row("std curve RMSE vs real", 3, func(s int) float64 { return cmps[s].StdCurveRMSE }, false)
	row("corr lag 1 mean", 4, func(s int) float64 { return cmps[s].SynthCorr1 }, true)
	row("corr lag 2 mean", 4, func(s int) float64 { return cmps[s].SynthCorr2 }, true)
	row("KL all", 4, func(s int) float64 { return cmps[s].KLAll }, false)
	row("AKLD", 4, func(s int) float64 { return fields[s].AKLD }, false)
	row("KLD", 4, func(s int) float64 { return fields[s].KLD }, false)
}

func fmtNum(v float64, prec int) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

func fmtSigned(v float64, prec int) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%+.*f", prec, v)
}

// noiseDoc is the --json output of `ludvae eval noise`.
type noiseDoc struct {
	Pairs  int `json:"pairs"`
	Config struct {
		Bins      int     `json:"bins"`
		HistLimit float64 `json:"hist_limit"`
		HistStep  float64 `json:"hist_step"`
		Epsilon   float64 `json:"kl_epsilon"`
	} `json:"config"`
	BinEdges []float64        `json:"bin_edges"`
	Sources  []noiseSourceDoc `json:"sources"`
}

type noiseSourceDoc struct {
	Name  string        `json:"name"`
	Dir   string        `json:"dir"`
	Stats noiseStatsDoc `json:"stats"`
	Real  *noiseCmpDoc  `json:"vs_real,omitempty"`
}

type noiseStatsDoc struct {
	Pixels   int64         `json:"pixels_per_channel"`
	Mean     []jsonFloat   `json:"mean"`
	Std      []jsonFloat   `json:"std"`
	StdAll   jsonFloat     `json:"std_all"`
	BinStd   [][]jsonFloat `json:"bin_std"`
	BinCount [][]int64     `json:"bin_count"`
	CorrH    [][]jsonFloat `json:"corr_horizontal"`
	CorrV    [][]jsonFloat `json:"corr_vertical"`
	CorrMean []jsonFloat   `json:"corr_mean"`
}

type noiseCmpDoc struct {
	StdDiff      jsonFloat   `json:"std_diff"`
	StdCurveRMSE jsonFloat   `json:"std_curve_rmse"`
	Corr1Diff    jsonFloat   `json:"corr_lag1_diff"`
	Corr2Diff    jsonFloat   `json:"corr_lag2_diff"`
	KL           []jsonFloat `json:"kl"`
	KLAll        jsonFloat   `json:"kl_all"`
	AKLD         jsonFloat   `json:"akld"` // DANet's, averaged over images
	KLD          jsonFloat   `json:"kld"`  // NAFlow's, averaged over images
}

func noiseDocument(pairs int, cfg noisestats.Config, names, dirs []string, stats []*noisestats.Stats, cmps []noisestats.Comparison, fields []noisestats.Field) noiseDoc {
	var doc noiseDoc
	doc.Pairs = pairs
	doc.Config.Bins, doc.Config.HistLimit, doc.Config.HistStep, doc.Config.Epsilon = cfg.Bins, cfg.HistLimit, cfg.HistStep, cfg.Epsilon
	doc.BinEdges = noisestats.BinEdges(cfg.Bins)
	for s, st := range stats {
		sd := noiseStatsDoc{
			Pixels:   st.Pixels,
			Mean:     jsonFloats(st.Mean[:]),
			Std:      jsonFloats(st.Std[:]),
			StdAll:   jsonFloat(st.StdAll),
			CorrMean: []jsonFloat{jsonFloat(st.CorrMean(1)), jsonFloat(st.CorrMean(2))},
		}
		for c := 0; c < noisestats.Channels; c++ {
			sd.BinStd = append(sd.BinStd, jsonFloats(st.BinStd[c]))
			sd.BinCount = append(sd.BinCount, st.BinCount[c])
			sd.CorrH = append(sd.CorrH, jsonFloats(st.CorrH[c][:]))
			sd.CorrV = append(sd.CorrV, jsonFloats(st.CorrV[c][:]))
		}
		src := noiseSourceDoc{Name: names[s], Dir: dirs[s], Stats: sd}
		if s > 0 {
			c := cmps[s]
			src.Real = &noiseCmpDoc{
				StdDiff:      jsonFloat(c.StdDiff),
				StdCurveRMSE: jsonFloat(c.StdCurveRMSE),
				Corr1Diff:    jsonFloat(c.Corr1Diff),
				Corr2Diff:    jsonFloat(c.Corr2Diff),
				KL:           jsonFloats(c.KL[:]),
				KLAll:        jsonFloat(c.KLAll),
				AKLD:         jsonFloat(fields[s].AKLD),
				KLD:          jsonFloat(fields[s].KLD),
			}
		}
		doc.Sources = append(doc.Sources, src)
	}
	return doc
}
