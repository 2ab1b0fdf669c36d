package model

import (
	"fmt"
	"io"
	"math"

	"github.com/ludvae/ludvae/internal/images"

	"github.com/ludvae/ludvae/internal/atomicfile"
	tb "github.com/ludvae/ludvae/torchbind"
)

// GeneratorONNX is what an exported generator fixes: the σx range of h(x)
// (uniform per image, 0–255 scale; min = max for one level), the
// temperature, the colour map back to the degraded domain (nil: none) and
// the SR downscale of the input (1: none). N2C exports the clean estimate
// instead (synth --mode n2c): the input is a degraded image, In maps h(y)
// to the clean domain's statistics (clamped; nil: none), every
// degradation latent is 0, and Temperature, Out and Downscale are unused.
type GeneratorONNX struct {
	SigmaMin, SigmaMax float64
	Temperature        float64
	Out                *ColourMap
	Downscale          int
	N2C                bool
	In                 *ColourMap
}

// ExportONNX writes the C2N generator as an ONNX model (ONNXOpset): input
// "clean" [N,3,H,W] in [0,1] of any size, output "degraded" in [0,1], as
// `ludvae synth` makes it with the settings g (the authors' Translate:
// h(x) = x + σx/255·ε, latents from the prior times the temperature,
// output mapped back by g.Out and clamped). Every run draws new noise
// (RandomNormalLike, RandomUniformLike).
func (m *LUDVAE) ExportONNX(path string, g GeneratorONNX) error {
	if (g.Out != nil || g.In != nil) && m.Config.Channels != 3 {
		return fmt.Errorf("export %s: a colour map needs 3 channels, the model has %d", path, m.Config.Channels)
	}
	if g.N2C {
		g.Temperature, g.Out, g.Downscale = 0, nil, 1
	}
	in, out, name := "clean", "degraded", "ludvae_c2n"
	doc := "LUD-VAE C2N generator: a clean RGB image NCHW in [0,1] in, a synthetic degraded one out; new noise every run"
	if g.N2C {
		in, out, name = "degraded", "clean", "ludvae_n2c"
		doc = "LUD-VAE N2C: a degraded RGB image NCHW in [0,1] in, the model's clean estimate out"
	}
	if g.Downscale > 1 && m.Config.Channels != 3 {
		return fmt.Errorf("export %s: the SR downscale needs 3 channels, the model has %d", path, m.Config.Channels)
	}
	var b []byte
	err := tb.Do(func() (err error) {
		o := newONNXMachine(name)
		o.temperature = o.scalar(g.Temperature)
		x := in
		if g.Downscale > 1 {
			x = o.downscale(x, g.Downscale)
		}
		h := noisyCopy[string](o, x, o.noiseLevel(x, g.SigmaMin, g.SigmaMax))
		if g.In != nil {
			h = o.colourMap(h, "in", g.In)
			h = o.node("Clip", []string{h, o.scalar(0), o.scalar(1)})
		}
		y := walk[string](m, o, h, priorLatent[string](m, o))
		if g.Out != nil {
			y = o.colourMap(y, "out", g.Out)
		}
		o.node("Clip", []string{y, o.scalar(0), o.scalar(1)})
		meta := map[string]string{
			"sigma_min": fmt.Sprint(g.SigmaMin), "sigma_max": fmt.Sprint(g.SigmaMax),
			"temperature": fmt.Sprint(g.Temperature), "downscale": fmt.Sprint(max(g.Downscale, 1)),
			"colour_map": fmt.Sprint(g.Out != nil || g.In != nil), "config": fmt.Sprint(m.Config),
			"mode": map[bool]string{false: "c2n", true: "n2c"}[g.N2C],
		}
		b, err = o.model(in, out, m.Config.Channels, doc, meta)
		return err
	})
	if err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	return writeExport(path, b)
}

// ExportONNX writes the denoiser as an ONNX model (ONNXOpset): input
// "noisy" [N,C,H,W] in [0,1] of any size, output "denoised" (unclamped,
// as Denoise and the TorchScript module give it), evaluation mode.
func (m *DnCNN) ExportONNX(path string) error {
	var b []byte
	err := tb.Do(func() (err error) {
		o := newONNXMachine("dncnn")
		dncnnWalk[string](m, o, "noisy")
		b, err = o.model("noisy", "denoised", m.Config.Channels,
			"KAIR DnCNN denoiser: a noisy image NCHW in [0,1] in, the denoised one out", map[string]string{"config": fmt.Sprintf("%d channels, %d features, %d layers", m.Config.Channels, m.Config.Features, m.Config.Layers)})
		return err
	})
	if err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	return writeExport(path, b)
}

// writeExport writes an exported file beside its target and renames it
// (package atomicfile): 0644 and synced, never truncated.
func writeExport(path string, b []byte) error {
	if err := atomicfile.Write(path, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	return nil
}

// colourMap is x·Scale + Shift per channel, the constants named prefix_scale
// and prefix_shift.
func (o *onnxMachine) colourMap(x, prefix string, c *ColourMap) string {
	scale := o.constant(prefix+"_scale", f32s(c.Scale[:]), 1, 3, 1, 1)
	return o.add(o.mul(x, scale), o.constant(prefix+"_shift", f32s(c.Shift[:]), 1, 3, 1, 1))
}

// noiseLevel is σx/255 per image, [N,1,1,1] (or a [1,1,1,1] constant when
// the range is one value): uniform in [lo, hi] as synth draws it.
func (o *onnxMachine) noiseLevel(x string, lo, hi float64) string {
	if lo == hi {
		return o.constant("sigma", []float32{float32(lo / 255)}, 1, 1, 1, 1)
	}
	perImage := o.node("ReduceMean", []string{x}, intsAttr("axes", 1, 2, 3), intAttr("keepdims", 1))
	return o.node("RandomUniformLike", []string{perImage}, intAttr("dtype", 1), floatAttr("low", lo/255), floatAttr("high", hi/255))
}

func f32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// downscale is synth's SR input: x cropped to a multiple of s, shrunk by
// MATLAB's antialiased bicubic (images.DownscaleTaps: the same taps for
// every output pixel, symmetric edges), clipped and rounded to 8 bits
// (images.Downscale8).
func (o *onnxMachine) downscale(x string, s int) string {
	w, first := images.DownscaleTaps(s)
	k := int64(len(w))
	pl, pr := int64(-first), int64(first)+k-int64(s)
	hw := o.node("Slice", []string{o.node("Shape", []string{x}), o.int64s("i64_2", 2), o.int64s("i64_4", 4)})
	sv := o.int64s("sr_scale", int64(s))
	hwc := o.node("Mul", []string{o.node("Div", []string{hw, sv}), sv})
	x = o.node("Slice", []string{x, o.int64s("i64_0_0", 0, 0), hwc, o.int64s("i64_2_3", 2, 3)})
	taps := f32s(w)
	for _, axis := range []int64{2, 3} {
		ax := o.int64s("axis_"+fmt.Sprint(axis), axis)
		m1 := o.int64s("i64_-1", -1)
		// x[pl−1::−1] before, x[−1:−1−pr:−1] after: the edge repeated
		// in mirror order, as images.reflect.
		parts := []string{x}
		if pl > 0 {
			parts = []string{o.node("Slice", []string{x, o.int64s(fmt.Sprint("i64_", pl-1), pl-1), o.int64s("i64_min", math.MinInt64), ax, m1}), x}
		}
		if pr > 0 {
			parts = append(parts, o.node("Slice", []string{x, m1, o.int64s(fmt.Sprint("i64_", -1-pr), -1-pr), ax, m1}))
		}
		x = o.node("Concat", parts, intAttr("axis", axis))
		shape := []int64{3, 1, k, 1}
		strides := []int64{int64(s), 1}
		if axis == 3 {
			shape, strides = []int64{3, 1, 1, k}, []int64{1, int64(s)}
		}
		kernel := make([]float32, 0, 3*k)
		for range 3 {
			kernel = append(kernel, taps...)
		}
		x = o.node("Conv", []string{x, o.constant(fmt.Sprint("downscale_", axis), kernel, shape...)},
			intAttr("group", 3), intsAttr("kernel_shape", shape[2], shape[3]), intsAttr("strides", strides...), intsAttr("pads", 0, 0, 0, 0))
	}
	c := o.node("Clip", []string{x, o.scalar(0), o.scalar(1)})
	r := o.node("Round", []string{o.mul(c, o.scalar(255))})
	return o.node("Div", []string{r, o.scalar(255)})
}
