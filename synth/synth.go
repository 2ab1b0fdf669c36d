package synth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
	"github.com/ludvae/ludvae/train"
	"github.com/ludvae/ludvae/train/images"
)

// Output layout, read as it is by KAIR (dataroot_H / dataroot_L) and by
// BasicSR/ESRGAN (dataroot_gt / dataroot_lq): matching file names in
//
//	OUT/H/NAME_sK.png   the clean image (HR for super-resolution)
//	OUT/L/NAME_sK.png   its K-th synthetic degraded version (LR for SR)
//	OUT/manifest.jsonl  one line per pair: source, σx, temperature, seed, stream
//
// With --samples 1 the names are NAME.png.
const (
	DirH     = "H"
	DirL     = "L"
	Manifest = "manifest.jsonl"
)

// Record is one line of the manifest.
type Record struct {
	L           string  `json:"L"`
	H           string  `json:"H"`
	Source      string  `json:"source"`
	Sigma       float64 `json:"sigma"`
	Temperature float64 `json:"temperature"`
	Seed        uint64  `json:"seed"`
	Stream      uint64  `json:"stream"`
	Mode        string  `json:"mode"`
	SRScale     int     `json:"sr_scale"`
}

// job is one input image, decoded ahead of the model.
type job struct {
	index int
	path  string
	img   *images.Image // input to the model (LR for SR)
	hr    *images.Image // the clean target (HR for SR, else img)
	err   error
}

// Run synthesizes the data set. Decoding and PNG encoding run on goroutines
// around the model; progress goes to log.
func Run(o Options, log io.Writer) error {
	if err := o.Validate(); err != nil {
		return err
	}
	defer tb.LockThread()()
	tb.SetNumThreads(o.Threads)
	dev, err := tb.ParseDevice(o.Device)
	if err != nil {
		return fmt.Errorf("--device: %w", err)
	}
	paths, err := images.Find(o.Clean)
	if err != nil {
		return fmt.Errorf("--clean: %w", err)
	}
	m, err := model.Load(o.Model, tb.Options{DType: tb.Float32, Device: dev})
	if err != nil {
		return fmt.Errorf("--model: %w", err)
	}
	defer m.Close()
	if err := m.ToChannelsLast(); err != nil {
		return err
	}
	// Not cuDNN's benchmark mode: it times algorithms per shape, and its
	// pick can change from run to run (and with it the last bit of some
	// pixels), while a data set must come out the same for the same seed;
	// edge tiles and images of many sizes would also re-time it each time.
	tb.SetCuDNNBenchmark(false)
	for _, d := range []string{DirH, DirL} {
		if err := os.MkdirAll(filepath.Join(o.Out, d), 0o755); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	manifest, err := os.Create(filepath.Join(o.Out, Manifest))
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	defer manifest.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // stops the decoders when Run returns early
	jobs := train.Ahead(ctx, 0, len(paths)-1, 2*runtime.NumCPU(), func(i int) job { return decode(i, paths[i], o.SRScale) })
	bar := train.NewProgress(log, len(paths)*o.Samples, "synth", "img")
	done := 0
	var writers sync.WaitGroup
	writeErrs := make(chan error, len(paths)*o.Samples)
	enc := json.NewEncoder(manifest)
	slots := make(chan struct{}, 2*runtime.NumCPU())
	for j := range jobs {
		if j.err != nil {
			return j.err
		}
		name := strings.TrimSuffix(filepath.Base(j.path), filepath.Ext(j.path))
		for k := range o.Samples {
			rec := o.record(j, k, name)
			out, err := o.translate(m, dev, j.img, rec)
			if err != nil {
				return fmt.Errorf("%s: %w", j.path, err)
			}
			if o.mapsBack() {
				o.Norm.FromClean(out) // and clamps, as the authors clamp only when saving
			}
			writers.Add(1)
			slots <- struct{}{} // bounds the images waiting to be encoded
			go func(hr, out *images.Image, rec Record) {
				defer writers.Done()
				writeErrs <- writePair(o.Out, hr, out, rec)
				<-slots
			}(j.hr, out, rec)
			if err := enc.Encode(rec); err != nil {
				return fmt.Errorf("manifest: %w", err)
			}
			done++
			bar.Set(done, "")
		}
	}
	writers.Wait()
	close(writeErrs)
	for err := range writeErrs {
		if err != nil {
			return err
		}
	}
	bar.Finish()
	l, h := "degraded", "clean"
	if o.Mode == "n2c" {
		l, h = "clean estimates", "inputs"
	}
	fmt.Fprintf(log, "wrote %d pairs to %s (%s/ %s, %s/ %s, %s)\n", len(paths)*o.Samples, o.Out, DirL, l, DirH, h, Manifest)
	return nil
}

// record fixes the draws of sample k of image j: σ (and the temperature, if
// given a range) from a generator keyed by (seed, stream), the model's noise
// from the same stream, so outputs do not depend on scheduling and the same
// seed gives the same bytes.
func (o *Options) record(j job, k int, name string) Record {
	stream := uint64(j.index*o.Samples + k)
	rng := rand.New(rand.NewPCG(o.Seed, stream))
	sigma := o.SigmaMin + (o.SigmaMax-o.SigmaMin)*rng.Float64()
	temperature := o.Temperature
	if o.Mode == "n2c" {
		temperature = 0 // its degradation latents are all 0
	} else if o.TemperatureMax > o.Temperature {
		temperature += (o.TemperatureMax - o.Temperature) * rng.Float64()
	}
	file := name + ".png"
	if o.Samples > 1 {
		file = fmt.Sprintf("%s_s%d.png", name, k)
	}
	src, _ := filepath.Abs(j.path)
	return Record{L: DirL + "/" + file, H: DirH + "/" + file, Source: src, Sigma: sigma, Temperature: temperature,
		Seed: o.Seed, Stream: stream, Mode: o.Mode, SRScale: o.SRScale}
}

// translate runs the model on one image, tile by tile; its output is clamped
// to [0, 1] unless it is still to be mapped back (mapsBack).
func (o *Options) translate(m *model.LUDVAE, dev tb.Device, img *images.Image, rec Record) (out *images.Image, err error) {
	err = tb.Try(func() {
		tb.WithScope(func(*tb.Scope) {
			x := tb.FromSlice(img.Pix, 1, 3, int64(img.H), int64(img.W)).ToDevice(dev).ChannelsLast()
			sigma := tb.Full([]int64{1}, rec.Sigma, tb.Options{Device: dev})
			gen := func(x *tb.Tensor, n model.Noise) (*tb.Tensor, error) {
				if o.Mode == "n2c" {
					h, err := o.n2cInput(m, x, sigma, n)
					if err != nil {
						return nil, err
					}
					return m.TranslateH(h, 0, n) // every degradation latent 0
				}
				return m.Translate(x, sigma, rec.Temperature, n)
			}
			var y *tb.Tensor
			var err error
			tb.WithPrecision(tb.Precision(o.Precision), dev, func() {
				y, err = Tiled(x, o.Tile, Margin(m.Config.Levels), model.Noise{Seed: rec.Seed, Stream: rec.Stream}, gen)
			})
			if err != nil {
				panic(err)
			}
			if !o.mapsBack() {
				y = y.Clamp(0, 1)
			}
			out = &images.Image{W: img.W, H: img.H, Pix: y.Float32s()}
		})
	})
	return out, err
}

// decode reads input i; for super-resolution it also makes the LR input.
func decode(i int, path string, srScale int) job {
	img, err := images.Load(path)
	if err != nil {
		return job{err: err}
	}
	j := job{index: i, path: path, img: img, hr: img}
	if srScale > 1 {
		if img.W%srScale != 0 || img.H%srScale != 0 {
			// crop HR to a multiple of the scale, as SR data preparation does
			img = img.Crop(0, 0, img.W/srScale*srScale, img.H/srScale*srScale)
			j.hr = img
		}
		j.img = images.Downscale8(img, srScale)
	}
	return j
}

// mapsBack reports whether outputs go back to the degraded colour
// statistics: C2N's do; N2C's clean estimate stays in the clean ones.
func (o *Options) mapsBack() bool { return o.Norm != nil && o.Mode == "c2n" }

// n2cInput is h(y) for N2C as the authors' main_test.py makes it: the
// degraded image plus its h-noise, then mapped to the clean domain's colour
// statistics and clamped to [0, 1] (without statistics, h(y) as it is).
func (o *Options) n2cInput(m *model.LUDVAE, y, sigma *tb.Tensor, n model.Noise) (*tb.Tensor, error) {
	h, err := m.Preprocess(y, sigma, n)
	if err != nil || o.Norm == nil {
		return h, err
	}
	err = tb.Try(func() {
		every := make([]bool, h.Size(0))
		for i := range every {
			every[i] = true
		}
		h = o.Norm.ToCleanRows(every, h)[0]
	})
	return h, err
}

// writePair writes the degraded output and its clean counterpart.
func writePair(dir string, hr, out *images.Image, rec Record) error {
	if err := images.SavePNG(filepath.Join(dir, rec.L), out, 8); err != nil {
		return err
	}
	return images.SavePNG(filepath.Join(dir, rec.H), hr, 8)
}
