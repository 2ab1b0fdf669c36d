package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ludvae/ludvae/model"
	"github.com/ludvae/ludvae/torchbind"
	"github.com/ludvae/ludvae/train"
)

func runExport(args []string) error {
	fs := newFlagSet("export")
	ckpt := fs.String("model", "", "checkpoint or plain state dict (.pth) to export (required)")
	script := fs.String("torchscript", "", "write the C2N generator as TorchScript to this file")
	pth := fs.String("pth", "", "write a plain state dict that the authors' class loads with strict=True")
	onnx := fs.String("onnx", "", "write the C2N generator as an ONNX model (opset "+fmt.Sprint(model.ONNXOpset)+") to this file, with σx, temperature, colour map and SR downscale fixed")
	sigma := fs.String("sigma", "", "ONNX: σx of h(x) on the 0-255 scale, one value or MIN,MAX drawn per image (default: the checkpoint's synthesis range, 30,70 for a plain state dict)")
	temperature := fs.Float64("temperature", 1, "ONNX: temperature of the degradation latents (default: the checkpoint's, 1 for a plain state dict)")
	mode := fs.String("mode", "c2n", "ONNX: c2n (clean in, synthetic degraded out) or n2c (degraded in, the model's clean estimate out, as synth --mode n2c)")
	weights := fs.String("weights", model.WeightsAuto, "which weights of a checkpoint: auto (its weight average when it was trained with --ema, else the trained weights), ema or trained")
	norm := fs.String("normalization", "checkpoint", "colour statistics the model was trained in; the TorchScript and ONNX generators map their output back from them: "+normalizationValues)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: ludvae export --model CKPT [--weights auto|ema|trained] [--torchscript OUT.pt] [--pth OUT.pth] [--onnx OUT.onnx [--mode c2n|n2c] [--sigma S|MIN,MAX] [--temperature T]]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *ckpt == "" {
		return errors.New("--model is required")
	}
	if err := model.CheckWeights("--weights", *weights); err != nil {
		return err
	}
	if *script == "" && *pth == "" && *onnx == "" {
		return errors.New("nothing to do: give --torchscript OUT.pt, --pth OUT.pth and/or --onnx OUT.onnx")
	}
	ox, err := parseONNXSettings(*sigma, *temperature, fs.Changed("temperature"))
	if err != nil {
		return err
	}
	switch {
	case *mode != "c2n" && *mode != "n2c":
		return fmt.Errorf("--mode %q: expected c2n or n2c", *mode)
	case *mode == "n2c" && ox.temperatureSet:
		return errors.New("--temperature: --mode n2c draws no latents (its degradation latents are 0)")
	}
	ox.n2c = *mode == "n2c"
	if err := checkExportPaths(*ckpt, *norm, p("--torchscript", *script), p("--pth", *pth), p("--onnx", *onnx)); err != nil {
		return err
	}
	rt, err := torchbind.NewRuntime(torchbind.Settings{Device: torchbind.CPU})
	if err != nil {
		return err
	}
	defer rt.Close()
	return rt.Do(func() error { return export(*ckpt, *weights, *script, *pth, *onnx, *norm, ox) })
}

// onnxSettings are --sigma and --temperature as given (…Set: given).
type onnxSettings struct {
	sigmaMin, sigmaMax, temperature float64
	sigmaSet, temperatureSet        bool
	n2c                             bool // --mode n2c
}

// parseONNXSettings checks --sigma (S or MIN,MAX, 0-255; "": not given)
// and --temperature (given when set).
func parseONNXSettings(sigma string, temperature float64, set bool) (onnxSettings, error) {
	var s onnxSettings
	if sigma != "" {
		lo, hi, pair := strings.Cut(sigma, ",")
		var err error
		if s.sigmaMin, err = strconv.ParseFloat(strings.TrimSpace(lo), 64); err == nil {
			s.sigmaMax = s.sigmaMin
			if pair {
				s.sigmaMax, err = strconv.ParseFloat(strings.TrimSpace(hi), 64)
			}
		}
		if err != nil || !(s.sigmaMin >= 0 && s.sigmaMax >= s.sigmaMin && s.sigmaMax <= 255) {
			return s, fmt.Errorf("--sigma %q: expected S or MIN,MAX with 0 <= MIN <= MAX <= 255 (the 0-255 scale)", sigma)
		}
		s.sigmaSet = true
	}
	if set {
		if !(temperature >= 0) || math.IsInf(temperature, 1) {
			return s, fmt.Errorf("--temperature %g: must be a finite value >= 0", temperature)
		}
		s.temperature, s.temperatureSet = temperature, true
	}
	return s, nil
}

// export writes the model in ckpt (its weights as model.LoadWeights
// chooses them) as TorchScript to script, as a plain state dict to pth and
// as ONNX to onnx (each may be ""), on the command's runtime.
func export(ckpt, weights, script, pth, onnx, norm string, ox onnxSettings) error {
	m, took, err := model.LoadWeights(ckpt, torchbind.Options{DType: torchbind.Float32}, weights)
	if err != nil {
		return fmt.Errorf("--model: %w", err)
	}
	if took == model.WeightsEMA {
		fmt.Printf("exporting the checkpoint's weight average (train --ema; --weights trained for the trained weights)\n")
	}
	defer m.Close()
	if err := m.CheckFinite(); err != nil {
		return fmt.Errorf("--model %s: %w", ckpt, err)
	}
	if script != "" {
		n, err := exportNormalization(norm, ckpt)
		if err != nil {
			return err
		}
		var out *model.ColourMap
		if n != nil {
			out = n.FromCleanMap()
		}
		if err := m.ExportTorchScript(script, out); err != nil {
			return fmt.Errorf("--torchscript %s: %w", script, err)
		}
		mapped := ""
		if out != nil {
			mapped = ", output mapped back from the training colour statistics"
		}
		fmt.Printf("wrote TorchScript C2N generator (%v%s) to %s\n", m.Config, mapped, script)
	}
	if onnx != "" {
		if err := exportONNX(m, ckpt, onnx, norm, ox); err != nil {
			return err
		}
	}
	if pth != "" {
		if err := m.SaveStateDict(pth); err != nil {
			return fmt.Errorf("--pth %s: %w", pth, err)
		}
		fmt.Printf("wrote state dict (%d parameters) to %s\n", m.NumParams(), pth)
	}
	return nil
}

// exportONNX writes the generator as ONNX with the checkpoint's synthesis
// setting (model.CheckpointSynthesis) where --sigma and --temperature do
// not set it.
func exportONNX(m *model.LUDVAE, ckpt, onnx, norm string, ox onnxSettings) error {
	syn, _, err := model.CheckpointSynthesis(ckpt)
	if err != nil {
		return fmt.Errorf("--model %s: %w", ckpt, err)
	}
	g := model.GeneratorONNX{SigmaMin: syn.SigmaMin, SigmaMax: syn.SigmaMax, Temperature: syn.Temperature, Downscale: syn.Downscale}
	if ox.sigmaSet {
		g.SigmaMin, g.SigmaMax = ox.sigmaMin, ox.sigmaMax
	}
	if ox.temperatureSet {
		g.Temperature = ox.temperature
	}
	n, err := exportNormalization(norm, ckpt)
	if err != nil {
		return err
	}
	g.N2C = ox.n2c
	switch {
	case n != nil && g.N2C:
		g.In = n.ToCleanMap()
	case n != nil:
		g.Out = n.FromCleanMap()
	}
	if err := m.ExportONNX(onnx, g); err != nil {
		return fmt.Errorf("--onnx %s: %w", onnx, err)
	}
	if g.N2C {
		fmt.Printf("wrote ONNX N2C model (%v; opset %d; σx %g–%g, colour map %v) to %s\n", m.Config, model.ONNXOpset, g.SigmaMin, g.SigmaMax, g.In != nil, onnx)
		return nil
	}
	fmt.Printf("wrote ONNX C2N generator (%v; opset %d; σx %g–%g, temperature %g, downscale ×%d, colour map %v) to %s\n",
		m.Config, model.ONNXOpset, g.SigmaMin, g.SigmaMax, g.Temperature, max(g.Downscale, 1), g.Out != nil, onnx)
	return nil
}

// normalizationValues lists what --normalization takes (synth and export).
const normalizationValues = "checkpoint, none, aim19 (the authors' AIM19 model) or a JSON file of clean_mean, clean_std, noisy_mean, noisy_std (0-255 scale)"

// exportNormalization resolves --normalization for the model file:
// "checkpoint" is the checkpoint's statistics, none for a plain state dict.
func exportNormalization(spec, modelPath string) (*model.Normalization, error) {
	if spec != "checkpoint" {
		return model.ParseNormalization(spec)
	}
	_, n, err := train.ReadCheckpointConfig(modelPath)
	if errors.Is(err, model.ErrNotCheckpoint) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("--model: %w", err)
	}
	return n, nil
}
