package main

import (
	"errors"
	"fmt"

	"github.com/ludvae/ludvae/model"
	"github.com/ludvae/ludvae/torchbind"
	"github.com/ludvae/ludvae/train"
)

func runExport(args []string) error {
	fs := newFlagSet("export")
	ckpt := fs.String("model", "", "checkpoint or plain state dict (.pth) to export (required)")
	script := fs.String("torchscript", "", "write the C2N generator as TorchScript to this file")
	pth := fs.String("pth", "", "write a plain state dict that the authors' class loads with strict=True")
	weights := fs.String("weights", model.WeightsAuto, "which weights of a checkpoint: auto (its weight average when it was trained with --ema, else the trained weights), ema or trained")
	norm := fs.String("normalization", "checkpoint", "colour statistics the model was trained in; the TorchScript generator maps its output back from them: "+normalizationValues)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: ludvae export --model CKPT [--torchscript OUT.pt] [--pth OUT.pth]")
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
	if *script == "" && *pth == "" {
		return errors.New("nothing to do: give --torchscript OUT.pt and/or --pth OUT.pth")
	}
	if err := checkExportPaths(*ckpt, *norm, p("--torchscript", *script), p("--pth", *pth)); err != nil {
		return err
	}
	rt, err := torchbind.NewRuntime(torchbind.Settings{Device: torchbind.CPU})
	if err != nil {
		return err
	}
	defer rt.Close()
	return rt.Do(func() error { return export(*ckpt, *weights, *script, *pth, *norm) })
}

// export writes the model in ckpt (its weights as model.LoadWeights
// chooses them) as TorchScript to script and as a plain state dict to pth
// (either may be ""), on the command's runtime.
func export(ckpt, weights, script, pth, norm string) error {
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
	if pth != "" {
		if err := m.SaveStateDict(pth); err != nil {
			return fmt.Errorf("--pth %s: %w", pth, err)
		}
		fmt.Printf("wrote state dict (%d parameters) to %s\n", m.NumParams(), pth)
	}
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
