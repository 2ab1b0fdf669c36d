package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ludvae/ludvae/internal/interrupt"
	"github.com/ludvae/ludvae/internal/limits"
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
	"github.com/ludvae/ludvae/train/restore"
)

// runRestore is `ludvae restore train|test|export`: the downstream
// denoiser.
func runRestore(args []string) error { return restoreCommand(args, os.Stderr, restoreRun) }

// restoreRun trains the denoiser on the command's runtime.
func restoreRun(ctx context.Context, cfg restore.Config, log io.Writer) error {
	return tb.WithRuntime(cfg.RuntimeSettings, func(rt *tb.Runtime) error { return restore.Run(ctx, rt, cfg, log) })
}

// restoreCommand parses a restore subcommand; run runs the training (a
// parameter so that tests can stop at the parsed configuration).
func restoreCommand(args []string, log io.Writer, run func(context.Context, restore.Config, io.Writer) error) error {
	if len(args) == 0 || (args[0] != "train" && args[0] != "test" && args[0] != "export") {
		fmt.Fprint(log, `usage: ludvae restore train --pairs DIR | --clean DIR (--sigma MIN,MAX | --ludvae CKPT) --out RUNDIR [flags]
       ludvae restore test --model CKPT --in DIR --out DIR [--tile 512]
       ludvae restore export --model CKPT --torchscript DNCNN.pt

Trains KAIR's DnCNN (the LUD-VAE authors' SIDD recipe) on paired data,
denoises a folder with it, or exports it as TorchScript. Run
`+"`ludvae restore train --help`"+` for the flags.
`)
		return errors.New("restore needs a subcommand: train, test or export")
	}
	switch args[0] {
	case "test":
		return restoreTest(args[1:], log)
	case "export":
		return restoreExport(args[1:], log)
	}
	return restoreTrain(args[1:], log, run)
}

func restoreTrain(args []string, log io.Writer, run func(context.Context, restore.Config, io.Writer) error) error {
	cfg := restore.Defaults()
	fs := newFlagSet("restore train")
	fs.SetOutput(log)
	pairs := fs.String("pairs", "", "folder with L/ (degraded) and H/ (clean) images of the same names, as `ludvae synth` writes")
	fs.StringVar(&cfg.Clean, "clean", "", "instead of --pairs: clean images, degraded on the fly by Gaussian noise (--sigma)")
	sigma := fs.Float64Slice("sigma", nil, "with --clean: noise σ range MIN,MAX on the 0-255 scale, uniform per crop (one value: fixed σ)")
	fs.StringVar(&cfg.LUDVAE, "ludvae", "", "instead of --sigma: degrade the --clean crops afresh every batch with this LUD-VAE checkpoint (C2N at its synthesis temperature; clean images downscaled as in its training)")
	sigmaX := fs.Float64Slice("sigma-x", nil, fmt.Sprintf("with --ludvae: σx range MIN,MAX of h(x), 0-255 scale, uniform per crop (default: the checkpoint's synthesis range; %g,%g for the authors' state dicts)",
		model.DefaultSynthesis.SigmaMin, model.DefaultSynthesis.SigmaMax))
	fs.StringVar(&cfg.LUDVAEWeights, "ludvae-weights", model.WeightsAuto, "with --ludvae: which of its weights degrade: auto (its weight average when it was trained with --ema, else the trained weights), ema or trained")
	fs.StringVar(&cfg.Normalization, "normalization", "checkpoint", "with --ludvae: colour statistics its outputs are mapped back from: "+normalizationValues)
	fs.BoolVar(&cfg.Residual, "residual", false, "with --ludvae: degrade as `ludvae synth --residual` (the clean crop plus only what the sampled latents change; not the authors' recipe)")
	fs.StringVar(&cfg.Out, "out", "", "run folder: config.json, dncnn_N.pth checkpoints, log.csv (re-running resumes; one trainer at a time)")
	fs.IntVar(&cfg.Features, "features", cfg.Features, "DnCNN channels (KAIR's nc)")
	fs.IntVar(&cfg.Layers, "layers", cfg.Layers, "DnCNN convolutions (KAIR's nb)")
	fs.IntVar(&cfg.Patch, "patch", cfg.Patch, "crop size (KAIR's H_size)")
	fs.IntVar(&cfg.Batch, "batch", cfg.Batch, "crops per step")
	fs.IntVar(&cfg.Steps, "steps", cfg.Steps, "optimizer steps")
	scheduleFlags(fs, &cfg.LR, &cfg.LRMilestones, &cfg.LRGamma)
	fs.StringVar(&cfg.Loss, "loss", cfg.Loss, "l1 (KAIR's and the authors' DnCNN options) or l2")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of initialization, crops and noise")
	deviceFlag(fs, &cfg.Device)
	threadsFlag(fs, &cfg.Threads)
	layoutFlag(fs, &cfg.Layout)
	runFolderFlags(fs, &cfg.SaveEvery, &cfg.LogEvery, &cfg.Keep, &cfg.MaxBadSteps)
	fs.BoolVar(&cfg.SkipBad, "skip-bad", false, "with --clean: skip (and report) unreadable or too-small images instead of stopping")
	fs.BoolVar(&cfg.Override, "override", false, "resume even though settings that shape the run (data, degradation, crops, batch, schedule, loss, seed) changed; the changes are recorded in config.json")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: ludvae restore train --pairs DIR | --clean DIR (--sigma MIN,MAX | --ludvae CKPT) --out RUNDIR [flags]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := guardPaths(paths(p("--out", cfg.Out)), paths(p("--pairs", *pairs), p("--clean", cfg.Clean)),
		paths(p("--ludvae", cfg.LUDVAE), p("--normalization", normalizationFile(cfg.Normalization)))); err != nil {
		return err
	}
	if *pairs != "" {
		cfg.L, cfg.H = filepath.Join(*pairs, "L"), filepath.Join(*pairs, "H")
	}
	var err error
	if cfg.Sigma, err = sigmaRange("--sigma", *sigma); err != nil {
		return err
	}
	if cfg.SynthSigma, err = sigmaRange("--sigma-x", *sigmaX); err != nil {
		return err
	}
	if len(*sigma) > 0 && cfg.Clean == "" {
		return errors.New("--sigma degrades --clean images; it does not go with --pairs")
	}
	if len(*sigmaX) > 0 && cfg.LUDVAE == "" {
		return errors.New("--sigma-x is the σx range of --ludvae's h(x); give it with --ludvae")
	}
	if cfg.Clean != "" && len(*sigma) == 0 && cfg.LUDVAE == "" {
		return errors.New("--clean needs --sigma MIN,MAX (0-255 scale) or --ludvae CKPT")
	}
	return run(interrupt.Context(), cfg, log)
}

// sigmaRange reads a MIN,MAX flag (one value: a fixed σ; none: zeros).
func sigmaRange(flag string, v []float64) ([2]float64, error) {
	switch len(v) {
	case 0:
		return [2]float64{}, nil
	case 1:
		return [2]float64{v[0], v[0]}, nil
	case 2:
		return [2]float64{v[0], v[1]}, nil
	}
	return [2]float64{}, fmt.Errorf("%s %v: give MIN,MAX or one value", flag, v)
}

func restoreTest(args []string, log io.Writer) error {
	o := restore.TestOptions{Tile: 512, Device: "auto", Layout: "auto"}
	fs := newFlagSet("restore test")
	fs.SetOutput(log)
	fs.StringVar(&o.Model, "model", "", "denoiser: a `ludvae restore train` checkpoint or a KAIR DnCNN state dict (.pth)")
	fs.StringVar(&o.In, "in", "", "folder of degraded images (searched recursively)")
	fs.StringVar(&o.Out, "out", "", "output folder: the denoised images as 8-bit PNG, same relative paths")
	fs.IntVar(&o.Tile, "tile", o.Tile, "tile size in pixels for large images (0 = whole images)")
	deviceFlag(fs, &o.Device)
	threadsFlag(fs, &o.Threads)
	layoutFlag(fs, &o.Layout)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: ludvae restore test --model CKPT --in DIR --out DIR [flags]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.Model == "" || o.In == "" || o.Out == "" {
		return errors.New("--model, --in and --out are required")
	}
	if o.Tile < 0 {
		return fmt.Errorf("--tile %d: must not be negative (0 = whole images)", o.Tile)
	}
	if err := limits.Int("--tile", o.Tile, limits.MaxSide, fmt.Sprintf("a tile is at most a whole image, and images are at most %d²; 0 = whole images", limits.MaxSide)); err != nil {
		return err
	}
	if err := guardPaths(paths(p("--out", o.Out)), paths(p("--in", o.In)), paths(p("--model", o.Model))); err != nil {
		return err
	}
	return tb.WithRuntime(o.RuntimeSettings, func(rt *tb.Runtime) error { return restore.Test(interrupt.Context(), rt, o, log) })
}

func restoreExport(args []string, log io.Writer) error {
	fs := newFlagSet("restore export")
	fs.SetOutput(log)
	ckpt := fs.String("model", "", "denoiser: a `ludvae restore train` checkpoint or a KAIR DnCNN state dict (.pth)")
	out := fs.String("torchscript", "", "write the denoiser (evaluation mode) as TorchScript here: torch.jit.load(path)(noisy) -> denoised")
	onnx := fs.String("onnx", "", "write the denoiser (evaluation mode) as an ONNX model (opset "+fmt.Sprint(model.ONNXOpset)+") here: input noisy, output denoised")
	pth := fs.String("pth", "", "write KAIR's DnCNN state dict here (BatchNorm kept): restore test --model, KAIR and spandrel load it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ckpt == "" || (*out == "" && *onnx == "" && *pth == "") || fs.NArg() > 0 {
		return errors.New("usage: ludvae restore export --model CKPT [--torchscript DNCNN.pt] [--onnx DNCNN.onnx] [--pth DNCNN.pth]")
	}
	if err := checkExportPaths(*ckpt, "", p("--torchscript", *out), p("--onnx", *onnx), p("--pth", *pth)); err != nil {
		return err
	}
	rt, err := tb.NewRuntime(tb.Settings{Device: tb.CPU})
	if err != nil {
		return err
	}
	defer rt.Close()
	var layers int
	err = rt.Do(func() error {
		m, err := model.LoadDnCNN(*ckpt, tb.Options{})
		if err != nil {
			return fmt.Errorf("--model: %w", err)
		}
		defer m.Close()
		layers = m.Config.Layers
		for _, e := range []struct {
			flag, path string
			write      func(string) error
		}{{"--torchscript", *out, m.ExportTorchScript}, {"--onnx", *onnx, m.ExportONNX}, {"--pth", *pth, m.SaveStateDict}} {
			if e.path == "" {
				continue
			}
			if err := e.write(e.path); err != nil {
				return fmt.Errorf("%s %s: %w", e.flag, e.path, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if *onnx != "" {
		fmt.Fprintf(log, "wrote %s (a %d-layer DnCNN as ONNX opset %d: input \"noisy\" N×3×H×W in [0,1], output \"denoised\")\n", *onnx, layers, model.ONNXOpset)
	}
	if *pth != "" {
		fmt.Fprintf(log, "wrote %s (a %d-layer DnCNN state dict with KAIR's names)\n", *pth, layers)
	}
	if *out == "" {
		return nil
	}
	fmt.Fprintf(log, "wrote %s (a %d-layer DnCNN; torch.jit.load it and call it on N×3×H×W images in [0,1])\n", *out, layers)
	return nil
}
