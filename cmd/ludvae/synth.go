package main

import (
	"fmt"
	"os"

	"github.com/ludvae/ludvae/internal/interrupt"
	"github.com/ludvae/ludvae/model"
	"github.com/ludvae/ludvae/synth"
	tb "github.com/ludvae/ludvae/torchbind"
)

func runSynth(args []string) error {
	o := synth.Defaults()
	fs := newFlagSet("synth")
	fs.StringVar(&o.Model, "model", "", "ludvae checkpoint or the authors' plain state dict (.pth)")
	fs.StringVar(&o.Weights, "weights", o.Weights, "which weights of a checkpoint: auto (its weight average when it was trained with --ema, else the trained weights), ema or trained")
	fs.StringVar(&o.Clean, "clean", "", "folder of clean images (degraded ones with --mode n2c)")
	fs.StringVar(&o.Out, "out", "", "output folder: L/ (degraded), H/ (clean), manifest.jsonl")
	fs.IntVar(&o.Samples, "samples", o.Samples, "synthetic versions per clean image")
	sigmaMin := fs.Float64("sigma-min", o.SigmaMin, "smallest sigma of h(x), 0-255 scale; a checkpoint's own range replaces the default, and --mode n2c uses 0")
	sigmaMax := fs.Float64("sigma-max", o.SigmaMax, "largest sigma, drawn uniformly per image; a checkpoint's own range replaces the default, and --mode n2c uses 0")
	fs.Float64Var(&o.Temperature, "temperature", o.Temperature, "multiplies every drawn latent")
	fs.Float64Var(&o.TemperatureMax, "temperature-max", 0, "draw each sample's temperature uniformly from --temperature to this (the authors' DnD data: 1 to 3)")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "seed: the same seed gives byte-identical outputs")
	fs.StringVar(&o.Mode, "mode", o.Mode, "c2n (clean to degraded) or n2c (degraded to clean estimate)")
	fs.BoolVar(&o.Residual, "residual", false, "c2n: add to the clean image only what the sampled latents change (the decode minus the decode at temperature 0), dropping the blur and colour cast an undertrained model gives every output; not the authors' synthesis")
	fs.IntVar(&o.SRScale, "sr-scale", o.SRScale, "super-resolution: downscale HR clean images by this factor (MATLAB bicubic) before C2N; default: the checkpoint's training --downscale, else 1")
	fs.IntVar(&o.Tile, "tile", o.Tile, "tile size in pixels for large images (0 = whole images); below the network's margin (8 pixels per level) it is raised to it")
	fs.IntVar(&o.Batch, "batch", o.Batch, "tiles of an image run through the model at once (1: one at a time; larger batches ran slower on the CPUs measured, docs/performance.md); memory grows with it: "+synth.BatchMemoryHelp)
	layoutFlag(fs, &o.Layout)
	deviceFlag(fs, &o.Device)
	precisionFlag(fs, &o.Precision)
	threadsFlag(fs, &o.Threads)
	norm := fs.String("normalization", "checkpoint", "colour statistics the model was trained in (C2N outputs are mapped back from them, N2C inputs to them): "+normalizationValues)
	fs.BoolVar(&o.Overwrite, "overwrite", false, "replace another run's pairs in --out (deletes its L/, H/, manifests and synth.json); a folder of this same run is completed without it")
	shard := fs.String("shard", "", "do one shard of the images: I/N (I from 0); default from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT in a Slurm array")
	fs.IntVar(&o.Shards, "shards", 0, "number of shards, with the index from JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID")
	merge := fs.Bool("merge", false, "join the finished shards' manifests in --out into manifest.jsonl (the shards' own flags, without --shard)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: ludvae synth --model CKPT --clean DIR --out DIR [flags]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := guardPaths(paths(p("--out", o.Out)), paths(p("--clean", o.Clean)), paths(p("--model", o.Model), p("--normalization", normalizationFile(*norm)))); err != nil {
		return err
	}
	early := o // the flags' values, before the checkpoint's defaults
	if fs.Changed("sigma-min") {
		early.SigmaMin = *sigmaMin
	}
	if fs.Changed("sigma-max") {
		early.SigmaMax = *sigmaMax
	}
	if err := early.ValidateCounts(); err != nil {
		return err
	}
	if o.Model != "" {
		temperature, srScale := o.Temperature, o.SRScale // the flags', if given, win over the checkpoint's
		if err := o.CheckpointDefaults(o.Model); err != nil {
			return err
		}
		if fs.Changed("temperature") {
			o.Temperature = temperature
		}
		if fs.Changed("sr-scale") {
			o.SRScale = srScale
		}
	}
	if o.Mode == "n2c" { // the authors' N2C: h(y) adds no noise
		o.SigmaMin, o.SigmaMax = 0, 0
	}
	if *norm != "checkpoint" {
		n, err := model.ParseNormalization(*norm)
		if err != nil {
			return err
		}
		o.Norm = n
	}
	if fs.Changed("sigma-min") {
		o.SigmaMin = *sigmaMin
	}
	if fs.Changed("sigma-max") {
		o.SigmaMax = *sigmaMax
	}
	if *merge {
		if *shard != "" || o.Shards != 0 {
			return fmt.Errorf("--merge joins all shards: give it without --shard/--shards")
		}
		return synth.Merge(interrupt.Context(), o, os.Stderr)
	}
	i, n, from, err := synth.ResolveShard(*shard, o.Shards, os.Getenv)
	if err != nil {
		return err
	}
	o.Shard, o.Shards = i, n
	if n > 1 {
		fmt.Fprintf(os.Stderr, "shard %d of %d (from %s)\n", i, n, from)
	}
	ctx := interrupt.Context()
	return tb.WithRuntime(o.RuntimeSettings, func(rt *tb.Runtime) error { return synth.Run(ctx, rt, o, os.Stderr) })
}
