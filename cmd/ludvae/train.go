package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ludvae/ludvae/internal/interrupt"
	tb "github.com/ludvae/ludvae/torchbind"
	"github.com/ludvae/ludvae/train"
	"github.com/ludvae/ludvae/train/dist"
	"github.com/ludvae/ludvae/train/prepare"
	"github.com/ludvae/ludvae/train/store"
)

func runTrain(args []string) error {
	cfg := train.Defaults()
	fs := newFlagSet("train")
	fs.StringVar(&cfg.Clean, "clean", "", "folder of clean images (searched recursively; PNG, JPEG, TIFF, WebP), or its image store (a .lvs folder)")
	fs.StringVar(&cfg.Noisy, "noisy", "", "folder of degraded images, unpaired with --clean, or its image store")
	fs.StringVar(&cfg.StoreDir, "store-dir", "", "folder for the image stores of --clean and --noisy (default: beside each folder, as clean.lvs)")
	fs.StringVar(&cfg.Out, "out", "", "run folder: config, checkpoints, log.csv, samples (re-running resumes)")
	preset := fs.String("preset", "sidd", "dataset preset: "+strings.Join(train.PresetNames(), ", ")+" (sets --sigma-x/--sigma-y/--normalize/--downscale)")
	fs.IntVar(&cfg.Filters, "filters", cfg.Filters, "feature width F")
	fs.IntVar(&cfg.Levels, "levels", cfg.Levels, "ladder levels (1 to 5)")
	fs.IntVar(&cfg.Patch, "patch", cfg.Patch, "crop size in pixels")
	fs.IntVar(&cfg.Batch, "batch", cfg.Batch, "crops per step, each clean or degraded with probability 1/2")
	fs.IntVar(&cfg.Steps, "steps", cfg.Steps, "optimizer steps")
	scheduleFlags(fs, &cfg.LR, &cfg.LRMilestones, &cfg.LRGamma)
	fs.Float64Var(&cfg.KLWeight, "kl-weight", cfg.KLWeight, "final KL weight")
	fs.IntVar(&cfg.KLWarmup, "kl-warmup", cfg.KLWarmup, "steps of linear KL warm-up")
	sigmaX := fs.Float64("sigma-x", 0, "h-noise sigma for clean images, 0-255 scale (default: the preset's)")
	sigmaY := fs.Float64("sigma-y", 0, "h-noise sigma for degraded images (default: the preset's)")
	normalize := fs.String("normalize", "", "none or auto: map degraded colours to the clean statistics (default: the preset's)")
	downscale := fs.Int("downscale", 0, "downscale clean images by this factor, MATLAB bicubic (default: the preset's; 1 = none)")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of initialization, batches and noise")
	deviceFlag(fs, &cfg.Device)
	precisionFlag(fs, &cfg.Precision)
	fs.BoolVar(&cfg.CUDAGraphs, "cuda-graphs", cfg.CUDAGraphs, "on CUDA, record the training step as CUDA graphs (one per count of degraded crops in a batch) and replay them; false runs every step op by op")
	threadsFlag(fs, &cfg.Threads)
	layoutFlag(fs, &cfg.Layout)
	runFolderFlags(fs, &cfg.SaveEvery, &cfg.LogEvery, &cfg.Keep, &cfg.MaxBadSteps)
	fs.IntVar(&cfg.SampleEvery, "sample-every", cfg.SampleEvery, "steps between sample grids and loss plots (0 = never)")
	fs.Float64Var(&cfg.EMA, "ema", cfg.EMA, "keep an exponential moving average of the weights with this decay (e.g. 0.999; its first steps use min(decay, (1+n)/(10+n))) beside the trained weights in each checkpoint; synth, export and restore train --ludvae use it when present (0 = none)")
	fs.BoolVar(&cfg.SkipBad, "skip-bad", false, "skip (and report) unreadable or too-small images instead of stopping")
	fs.BoolVar(&cfg.Override, "override", false, "resume even though settings that shape the run (data, crops, batch, schedule, sigmas, preset, seed) changed; the changes are recorded in config.json")
	distListenAll := fs.Bool("dist-listen-all", false, "distributed: rank 0's rendezvous store listens on every interface, as PyTorch's does, instead of MASTER_ADDR's address only")
	distTimeout := fs.Duration("dist-timeout", 30*time.Minute, "under torchrun or srun (RANK/WORLD_SIZE or SLURM_PROCID/SLURM_NTASKS, with MASTER_ADDR/MASTER_PORT): how long a rank waits for the others at the rendezvous and at each collective")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: ludvae train --clean DIR --noisy DIR --out RUNDIR [--preset sidd|aim19|ntire20] [flags]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *distTimeout <= 0 {
		return fmt.Errorf("--dist-timeout %v: must be a positive duration (how long a rank waits for the others), such as 30m", *distTimeout)
	}
	if err := cfg.ApplyPreset(*preset); err != nil {
		return err
	}
	if err := guardPaths(paths(p("--out", cfg.Out)), paths(p("--clean", cfg.Clean), p("--noisy", cfg.Noisy)), nil); err != nil {
		return err
	}
	if fs.Changed("sigma-x") {
		cfg.SigmaX = *sigmaX
	}
	if fs.Changed("sigma-y") {
		cfg.SigmaY = *sigmaY
	}
	if fs.Changed("normalize") {
		cfg.Normalize = *normalize
	}
	if fs.Changed("downscale") {
		cfg.Downscale = *downscale
	} else if store.IsStore(cfg.Clean) {
		// a store knows what it holds; Open checks the index
		if k, err := store.DownscaleOf(cfg.Clean); err == nil {
			cfg.Downscale = k
		}
	} else if m, ok, err := prepare.FindManifest(cfg.Clean); err != nil {
		return err
	} else if ok {
		// `ludvae prepare` knows whether the clean images are HR (4) or
		// already downscaled (DeFlow's 4x folders: 1).
		cfg.Downscale = m.DownscaleClean
	}
	ctx := interrupt.Context()
	env, distributed, err := dist.FromEnv(os.Getenv)
	if err != nil {
		return fmt.Errorf("distributed launch: %w", err)
	}
	settings, run := cfg.RuntimeSettings, func(rt *tb.Runtime) error { return train.Run(ctx, rt, cfg, os.Stderr) }
	if distributed {
		settings = func() (tb.Settings, error) { return cfg.RankSettings(env) }
		run = func(rt *tb.Runtime) error {
			return train.RunDistributed(ctx, rt, cfg, os.Stderr, env, dist.Rendezvous{Timeout: *distTimeout, ListenAll: *distListenAll})
		}
	}
	return tb.WithRuntime(settings, run)
}
