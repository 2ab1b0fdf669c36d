package synth

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/job"
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// Output layout, read as it is by KAIR (dataroot_H / dataroot_L) and by
// BasicSR/ESRGAN (dataroot_gt / dataroot_lq): matching file names in
//
//	OUT/H/REL_sK.png    the clean image (HR for super-resolution)
//	OUT/L/REL_sK.png    its K-th synthetic degraded version (LR for SR)
//	OUT/manifest.jsonl  one line per complete pair, in input order: source, σx, temperature, seed, stream
//	OUT/synth.json      the settings that made them (see Settings)
//
// REL is the input's path relative to --clean without its extension (so
// inputs in subfolders keep them); with --samples 1 the names are REL.png.
// A shard writes manifest-shard-I-of-N.jsonl instead of manifest.jsonl.
const (
	DirH     = "H"
	DirL     = "L"
	Manifest = "manifest.jsonl"
)

// Record is one line of the manifest. SourceBase64 is set only when the
// input's path is not valid UTF-8 (see sourceFields).
type Record struct {
	L            string  `json:"L"`
	H            string  `json:"H"`
	Source       string  `json:"source"`
	SourceBase64 string  `json:"source_base64,omitempty"`
	Sigma        float64 `json:"sigma"`
	Temperature  float64 `json:"temperature"`
	Seed         uint64  `json:"seed"`
	Stream       uint64  `json:"stream"`
	Mode         string  `json:"mode"`
	SRScale      int     `json:"sr_scale"`
}

// decoded is one input image, decoded ahead of the model.
type decoded struct {
	in  input
	img *images.Image // input to the model (LR for SR)
	hr  *images.Image // the clean target (HR for SR, else img)
	err error
}

// Run synthesizes the data set (this process's shard of it). Every check
// runs before the first pair is made. Decoding and PNG encoding run on
// goroutines around the model; the manifest lists a pair only once both of
// its files are complete. When ctx is cancelled (a signal), or on any
// error, it stops making pairs, lets the writers finish, lists what is
// complete and says so; the same command run again completes the folder.
// The model runs on rt (made with o.RuntimeSettings).
func Run(ctx context.Context, rt *tb.Runtime, o Options, log io.Writer) error {
	return rt.Do(func() error { return o.run(ctx, rt, log) })
}

// RuntimeSettings are the libtorch settings a synthesis works under
// (tb.NewRuntime): its device, thread count and precision. Not cuDNN's
// benchmark mode: it times algorithms per shape, and its pick can change
// from run to run (and with it the last bit of some pixels), while a data
// set must come out the same for the same seed; edge tiles and images of
// many sizes would also re-time it each time. Options that do not Validate
// have none.
func (o Options) RuntimeSettings() (tb.Settings, error) {
	if err := o.Validate(); err != nil {
		return tb.Settings{}, err
	}
	return tb.ParseSettings(o.Device, o.Threads, o.Precision)
}

func (o *Options) run(ctx context.Context, rt *tb.Runtime, log io.Writer) error {
	if err := o.Validate(); err != nil {
		return err
	}
	dev := rt.Device()
	in, all, err := o.inputs(ctx, log)
	if err != nil {
		return err
	}
	m, err := o.loadModel(dev, log)
	if err != nil {
		return err
	}
	defer m.Close()
	st, err := o.runSettings(strings.SplitN(dev.String(), ":", 2)[0])
	if err != nil {
		return err
	}
	if err := o.claimFolder(st, log); err != nil {
		return err
	}
	var mine []Record
	for _, r := range all {
		if o.mine(int(r.Stream) / o.Samples) {
			mine = append(mine, r)
		}
	}
	done, manifest, err := o.resume(all, mine, log)
	if err != nil {
		return err
	}
	defer manifest.Close()
	if done < len(mine) {
		if _, err := o.ChooseLayout(ctx, rt, m, 0, log); err != nil {
			return err
		}
		o.logBatch(m.Config, log)
	}
	n, err := o.synthesize(ctx, rt, m, in, mine, done, manifest, log)
	if serr := manifest.Sync(); err == nil && serr != nil {
		err = fmt.Errorf("manifest: %w", serr)
	}
	o.report(done+n, len(mine), n, err, log)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("interrupted by a signal: %w", err)
	}
	return err
}

// logBatch states what --batch above 1 does and the memory it takes.
func (o *Options) logBatch(m model.Config, log io.Writer) {
	if o.Batch <= 1 {
		return
	}
	if o.Tile <= 0 {
		fmt.Fprintf(log, "--batch %d: with --tile 0 each image runs whole, one at a time\n", o.Batch)
		return
	}
	side := o.Tile + 2*Margin(m.Levels)
	fmt.Fprintf(log, "--batch %d: up to %d tiles of an image at once, windows of at most %d² pixels: about %.1f GB of activations (%.1f GB a tile)\n",
		o.Batch, o.Batch, side, float64(BatchBytes(m, o.Batch, side, side))/1e9, float64(BatchBytes(m, 1, side, side))/1e9)
}

// loadModel loads --model, refuses non-finite weights, and raises a tile
// below MinTile, saying so.
func (o *Options) loadModel(dev tb.Device, log io.Writer) (*model.LUDVAE, error) {
	m, took, err := model.LoadWeights(o.Model, tb.Options{DType: tb.Float32, Device: dev}, o.Weights)
	if err != nil {
		return nil, fmt.Errorf("--model: %w", err)
	}
	if took == model.WeightsEMA && o.Weights == model.WeightsAuto {
		fmt.Fprintf(log, "--model %s: using its weight average (train --ema; --weights trained for the trained weights)\n", o.Model)
	}
	if err := m.CheckFinite(); err != nil {
		m.Close()
		return nil, fmt.Errorf("--model %s: %w", o.Model, err)
	}
	if least := MinTile(m.Config.Levels); o.Tile > 0 && o.Tile < least {
		fmt.Fprintf(log, "--tile %d raised to %d: a smaller tile recomputes its %d-pixel margins for little output (0 runs whole images)\n", o.Tile, least, Margin(m.Config.Levels))
		o.Tile = least
	}
	return m, nil
}

// synthesize makes the pairs mine[done:] and returns how many it listed.
func (o *Options) synthesize(ctx context.Context, rt *tb.Runtime, m *model.LUDVAE, in []input, mine []Record, done int, manifest io.Writer, log io.Writer) (int, error) {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the decoders when it returns early
	c := &committer{out: o.Out, manifest: manifest, fail: cancel}
	queue := make(chan *pending, 2*rt.Workers())
	committed := make(chan struct{})
	go func() { c.run(queue); close(committed) }()
	bar := job.NewProgress(log, len(mine), "synth", "img")
	bar.Start(done)
	start, todo := time.Now(), len(mine)-done
	err := o.produce(runCtx, rt, m, in, mine[done:], queue, func(n int) {
		if n == min(2, todo) && todo > 1 {
			// after the first pairs, the time the whole folder will take
			each := time.Since(start) / time.Duration(n)
			fmt.Fprintf(log, "expected total time: %v for %d pairs (%v a pair over the first %d; ends about %s)\n",
				(each * time.Duration(todo)).Round(time.Second), todo, each.Round(10*time.Millisecond), n,
				start.Add(each*time.Duration(todo)).Format("15:04 MST"))
		}
		bar.Set(done+n, "")
	})
	close(queue)
	<-committed // every writer has finished
	if c.err != nil {
		err = c.err
	}
	if err != nil {
		bar.Interrupt()
	} else {
		bar.Finish()
	}
	return c.n, err
}

// produce decodes and translates the inputs of todo in order and hands each
// pair to a writer and to the committer's queue, until todo is done, ctx is
// cancelled or something fails.
func (o *Options) produce(ctx context.Context, rt *tb.Runtime, m *model.LUDVAE, in []input, todo []Record, queue chan<- *pending, progress func(int)) error {
	var order []int // the inputs of todo, in order
	for _, r := range todo {
		if i := int(r.Stream) / o.Samples; len(order) == 0 || order[len(order)-1] != i {
			order = append(order, i)
		}
	}
	jobs := job.Ahead(ctx, 0, len(order)-1, 2*rt.Workers(), func(i int) decoded { return decode(in[order[i]], o.SRScale) })
	slots := make(chan struct{}, 2*rt.Workers()) // bounds the images waiting to be encoded
	next := 0
	for j := range jobs {
		if j.err != nil {
			return j.err
		}
		for ; next < len(todo) && int(todo[next].Stream)/o.Samples == j.in.index; next++ {
			rec := todo[next]
			out, err := o.Translate(ctx, rt, m, j.img, rec)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				return fmt.Errorf("%s: %w", j.in.path, err)
			}
			p := &pending{rec: rec, done: make(chan error, 1)}
			slots <- struct{}{}
			go func(hr *images.Image) {
				p.done <- writePair(o.Out, hr, out, rec)
				<-slots
			}(j.hr)
			queue <- p
			progress(next + 1)
		}
	}
	return ctx.Err()
}

// report says what the folder holds now, whether the run finished or not.
func (o *Options) report(listed, total, made int, err error, log io.Writer) {
	where := o.Out
	if o.Shards > 1 {
		where = fmt.Sprintf("%s (shard %d/%d)", o.Out, o.Shard, o.Shards)
	}
	if err != nil {
		fmt.Fprintf(log, "stopped: %d of %d pairs are complete and listed in %s; run the same command again to complete it\n", listed, total, where)
		return
	}
	l, h := "degraded", "clean"
	if o.Mode == "n2c" {
		l, h = "clean estimates", "inputs"
	}
	fmt.Fprintf(log, "wrote %d pairs (%d by this run) to %s (%s/ %s, %s/ %s, %s)\n", listed, made, where, DirL, l, DirH, h, o.manifestName())
	if o.Shards > 1 {
		fmt.Fprintf(log, "when every shard is done, run the same command with --merge instead of --shard to write %s\n", Manifest)
	}
}

// Translate makes one output image from one input as `ludvae synth` does
// (and `ludvae bench synth` times), on rt's thread: the model run tile by
// tile in rt's precision, the output clamped to [0, 1], or mapped back to
// the degraded colour statistics (mapsBack), which clamps too, as the
// authors clamp only when saving. A cancelled ctx stops it between tiles.
func (o *Options) Translate(ctx context.Context, rt *tb.Runtime, m *model.LUDVAE, img *images.Image, rec Record) (out *images.Image, err error) {
	dev := rt.Device()
	tb.WithScope(func(*tb.Scope) {
		err = tb.Do(func() error {
			x := tb.FromSlice(img.Pix, 1, 3, int64(img.H), int64(img.W)).ToDevice(dev)
			x = model.InLayout(x, m.Layout())
			gen := func(x *tb.Tensor, n model.Noise) (*tb.Tensor, error) {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				sigma := tb.Full([]int64{x.Size(0)}, rec.Sigma, tb.Options{Device: dev}) // one per row (a batch of tiles)
				if o.Mode == "n2c" {
					h, err := o.n2cInput(m, x, sigma, n)
					if err != nil {
						return nil, err
					}
					return m.TranslateH(h, 0, n) // every degradation latent 0
				}
				if o.Residual {
					return m.TranslateResidual(x, sigma, rec.Temperature, n)
				}
				return m.Translate(x, sigma, rec.Temperature, n)
			}
			var y *tb.Tensor
			rt.Autocast(func() {
				y, err = TiledBatch(x, o.Tile, Margin(m.Config.Levels), o.Batch, model.Noise{Seed: rec.Seed, Stream: rec.Stream}, gen)
			})
			if err != nil {
				return err
			}
			if !o.mapsBack() {
				y = y.Clamp(0, 1)
			}
			out = &images.Image{W: img.W, H: img.H, Pix: y.Float32s()}
			return nil
		})
	})
	if err == nil && o.mapsBack() {
		o.Norm.FromClean(out)
	}
	return out, err
}

// decode reads an input; for super-resolution it also makes the LR input.
func decode(in input, srScale int) decoded {
	img, err := images.Load(in.path)
	if err != nil {
		return decoded{in: in, err: err}
	}
	j := decoded{in: in, img: img, hr: img}
	if srScale > 1 {
		if img.W < srScale || img.H < srScale {
			return decoded{in: in, err: fmt.Errorf("%s: %dx%d is smaller than --sr-scale %d allows (at least %d pixels a side)", in.path, img.W, img.H, srScale, srScale)}
		}
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
