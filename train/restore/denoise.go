package restore

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/job"
	"github.com/ludvae/ludvae/model"
	"github.com/ludvae/ludvae/synth"
	tb "github.com/ludvae/ludvae/torchbind"
)

// Denoise runs the network in evaluation mode over img, tile×tile pixels
// at a time (tile <= 0: the whole image). Each tile sees Layers pixels of
// context on every side, the network's receptive-field radius (one per
// 3×3 convolution; evaluation-mode batch norm is per pixel), so tiled
// output equals whole-image output up to rounding.
func Denoise(m *model.DnCNN, img *images.Image, tile int) (*images.Image, error) {
	out := &images.Image{W: img.W, H: img.H}
	err := tb.Do(func() (err error) {
		tb.WithScope(func(*tb.Scope) {
			x := tb.FromSlice(img.Pix, 1, 3, int64(img.H), int64(img.W)).To(m.Options().DType, m.Options().Device)
			x = model.InLayout(x, m.Layout())
			var y *tb.Tensor
			y, err = synth.Tiled(x, tile, m.Config.Layers, model.Noise{}, func(in *tb.Tensor, _ model.Noise) (*tb.Tensor, error) {
				return m.Denoise(in)
			})
			if err == nil {
				out.Pix = y.ToDevice(tb.CPU).ToDType(tb.Float32).Float32s()
			}
		})
		return err
	})
	return out, err
}

// TestOptions are `ludvae restore test`'s settings.
type TestOptions struct {
	Model, In, Out string
	Tile           int
	Device         string
	Threads        int
	Layout         string // auto (timed, internal/layout), nchw or nhwc
}

// RuntimeSettings are the libtorch settings Test works under
// (tb.NewRuntime): its device and thread count.
func (o TestOptions) RuntimeSettings() (tb.Settings, error) {
	return tb.ParseSettings(o.Device, o.Threads, "")
}

// Test denoises every image under o.In into o.Out (same relative paths,
// 8-bit PNG) on rt (made with o.RuntimeSettings), reporting progress to log.
//
// Cancelling ctx (a signal) stops it between images: every image it wrote
// is whole (written through a temporary file and renamed), none is half
// written, and it returns ctx's error after saying how many it wrote.
func Test(ctx context.Context, rt *tb.Runtime, o TestOptions, log io.Writer) error {
	return rt.Do(func() error { return test(ctx, rt.Device(), o, log) })
}

func test(ctx context.Context, dev tb.Device, o TestOptions, log io.Writer) error {
	m, err := model.LoadDnCNN(o.Model, tb.Options{DType: tb.Float32, Device: dev})
	if err != nil {
		return fmt.Errorf("--model: %w", err)
	}
	defer m.Close()
	paths, err := images.Find(o.In)
	if err != nil {
		return fmt.Errorf("--in: %w", err)
	}
	if len(paths) == 0 {
		return fmt.Errorf("--in %s: no images", o.In)
	}
	if err := testLayout(m, o, dev, log); err != nil {
		return err
	}
	bar := job.NewProgress(log, len(paths), "restore test", "img")
	for i, p := range paths {
		if ctx.Err() != nil {
			bar.Interrupt()
			fmt.Fprintf(log, "stopped: %d of %d images denoised into %s; run the same command again to do them all\n", i, len(paths), o.Out)
			return ctx.Err()
		}
		if err := denoiseFile(m, p, o); err != nil {
			bar.Interrupt()
			return err
		}
		bar.Set(i+1, "")
	}
	bar.Finish()
	fmt.Fprintf(log, "denoised %d image(s) into %s\n", len(paths), o.Out)
	return nil
}

// denoiseFile denoises one file into o.Out.
func denoiseFile(m *model.DnCNN, path string, o TestOptions) error {
	img, err := images.Load(path)
	if err != nil {
		return err
	}
	out, err := Denoise(m, img, o.Tile)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	dst := filepath.Join(o.Out, filepath.FromSlash(images.Key(o.In, path))+".png")
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return images.SavePNG(dst, out, 8)
}
