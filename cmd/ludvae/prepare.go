package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/ludvae/ludvae/internal/interrupt"
	"github.com/ludvae/ludvae/internal/limits"
	"github.com/ludvae/ludvae/train"
	"github.com/ludvae/ludvae/train/prepare"
)

const prepareHelp = `usage: ludvae prepare sidd|aim19|ntire20 --from DOWNLOAD_DIR --to DATA_DIR [flags]
       ludvae prepare store --from IMAGE_DIR [--downscale K] [--store-dir DIR]

Arranges a data set's public download, as its archives unpack, into the
unpaired layout training reads: DATA_DIR/clean/, DATA_DIR/noisy/ (symlinks to
the downloads, or copies with --copy) and DATA_DIR/prepare.json. It checks the
expected counts and names what is missing; it never overwrites a file, and
re-running it is harmless.

  sidd     SIDD-Small sRGB: SIDD_Small_sRGB_Only/Data/<scene>/GT_SRGB_010.PNG
           (clean) and NOISY_SRGB_010.PNG (noisy), 160 scenes. --from: the
           folder the zip was unpacked in, SIDD_Small_sRGB_Only, or its Data.
  aim19    AIM 2019 Real-World SR track 2: train-clean-images/ (800 HR) and
           train-noisy-images/ (2650), as unpacked or as DeFlow prepares them
           (train-clean-images/4x is then used as is, train-noisy-images/1x).
  ntire20  NTIRE 2020 Real-World SR track 1: Corrupted-tr-y/ (800 HR, clean)
           and Corrupted-tr-x/ (2650, noisy), as unpacked or DeFlow's 4x/1x.

The SR folders may sit up to two levels below --from. HR clean images are
linked as they are; prepare.json's downscale_clean 4 tells training to shrink
them ×4 (MATLAB bicubic) when it loads them.

Then it decodes both folders once into the image stores training reads
(DATA_DIR/clean.lvs, or clean.x4.lvs for HR clean images, and
DATA_DIR/noisy.lvs; --store=false leaves that to the first ludvae train).
"ludvae prepare store" builds or refreshes the store of any image folder.

flags:`

func runPrepare(args []string) error {
	fs := newFlagSet("prepare")
	from := fs.String("from", "", "`DOWNLOAD_DIR` the archives were unpacked in (required)")
	to := fs.String("to", "", "`DATA_DIR` for clean/, noisy/ and prepare.json (required; not inside --from)")
	disjoint := fs.Bool("disjoint", false, "sidd: split the scenes in halves, none in both domains (the paper uses all in both)")
	copyFiles := fs.Bool("copy", false, "copy the images instead of symlinking them (absolute links)")
	partial := fs.Bool("allow-partial", false, "accept fewer images than a complete download (for subsets)")
	seed := fs.Int64("seed", 0, "seed of the --disjoint split (same seed, same split)")
	buildStores := fs.Bool("store", true, "decode clean/ and noisy/ into their image stores after arranging them")
	storeDir := fs.String("store-dir", "", "`DIR` for the image stores (default: beside each image folder)")
	downscale := fs.Int("downscale", 1, "prepare store: shrink the images by this factor (MATLAB bicubic), as --downscale of train")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), prepareHelp)
		prepareFlagUsage(fs.Output(), fs)
	}
	if err := fs.Parse(args); err != nil {
		return err // pflag.ErrHelp after --help: main exits 0
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("want one data set name (%s) or store, got %d arguments", strings.Join(prepare.Datasets, ", "), fs.NArg())
	}
	ctx := interrupt.Context()
	if fs.Arg(0) == "store" {
		if *from == "" {
			return errors.New("prepare store: --from IMAGE_DIR is required")
		}
		if err := guardPaths(nil, paths(p("--from", *from)), nil); err != nil {
			return err
		}
		if *downscale < 1 {
			return fmt.Errorf("--downscale %d: want 1 (none) or more", *downscale)
		}
		if err := limits.Int("--downscale", *downscale, limits.MaxDownscale, fmt.Sprintf("the largest image, %d², would be smaller than 8 pixels", limits.MaxSide)); err != nil {
			return err
		}
		_, err := train.BuildStore(ctx, "--from", *from, *downscale, *storeDir, os.Stderr)
		return err
	}
	if *from == "" || *to == "" {
		return errors.New("--from DOWNLOAD_DIR and --to DATA_DIR are required")
	}
	if err := guardPaths(paths(p("--to", *to)), paths(p("--from", *from)), nil); err != nil {
		return err
	}
	opts := prepare.Options{
		Dataset: fs.Arg(0), From: *from, To: *to,
		Disjoint: *disjoint, Copy: *copyFiles, AllowPartial: *partial, Seed: *seed,
		Context: ctx,
	}
	if *copyFiles {
		next := 0
		opts.Progress = func(done, total int) {
			if done*10 >= next*total || done == total {
				fmt.Fprintf(os.Stderr, "copying: %d of %d images\n", done, total)
				next = done*10/total + 1
			}
		}
	}
	rep, err := prepare.Run(opts)
	if err != nil {
		return err
	}
	printPrepareReport(os.Stdout, rep, *copyFiles, *storeDir)
	if !*buildStores {
		return nil
	}
	if _, err := train.BuildStore(ctx, "clean", rep.CleanDir, rep.DownscaleClean, *storeDir, os.Stderr); err != nil {
		return err
	}
	_, err = train.BuildStore(ctx, "noisy", rep.NoisyDir, 1, *storeDir, os.Stderr)
	return err
}

// prepareFlagUsage prints every flag with its default, including zero ones
// (pflag's PrintDefaults leaves those out); required flags have none.
func prepareFlagUsage(w io.Writer, fs *pflag.FlagSet) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fs.VisitAll(func(f *pflag.Flag) {
		name, usage := pflag.UnquoteUsage(f)
		if !strings.Contains(usage, "(required") {
			usage += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(tw, "  --%s %s\t%s\n", f.Name, name, usage)
	})
	tw.Flush()
}

func printPrepareReport(w io.Writer, rep prepare.Report, copied bool, storeDir string) {
	how := "absolute symlinks"
	if copied {
		how = "copies"
	}
	fmt.Fprintf(w, "prepared %s (%s layout) from %s\n", rep.Dataset, rep.Layout, rep.From)
	fmt.Fprintf(w, "  clean: %d images (expected %d) in %s\n         from %s\n", rep.Clean, rep.ExpectedClean, rep.CleanDir, rep.CleanSource)
	fmt.Fprintf(w, "  noisy: %d images (expected %d) in %s\n         from %s\n", rep.Noisy, rep.ExpectedNoisy, rep.NoisyDir, rep.NoisySource)
	fmt.Fprintf(w, "  %s: %d created, %d already in place\n", how, rep.Created, rep.Existing)
	if rep.CleanScenes != nil {
		fmt.Fprintf(w, "  disjoint scenes: %d clean, %d noisy (listed in prepare.json)\n", len(rep.CleanScenes), len(rep.NoisyScenes))
	}
	if rep.DownscaleClean > 1 {
		fmt.Fprintf(w, "  clean images are HR: training downscales them ×%d (downscale_clean %d)\n", rep.DownscaleClean, rep.DownscaleClean)
	}
	for _, warn := range rep.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warn)
	}
	// The preset's downscale assumes HR clean images; DeFlow's 4x folder is
	// already downscaled, so say so on the command line too.
	extra := ""
	if p, ok := train.Presets[rep.Dataset]; ok && p.Downscale != rep.DownscaleClean {
		extra = fmt.Sprintf(" --downscale %d", rep.DownscaleClean)
	}
	if storeDir != "" {
		extra += " --store-dir " + storeDir
	}
	fmt.Fprintf(w, "  record: %s\n\nnext:\n  ludvae train --clean %s --noisy %s --out runs/%s --preset %s%s\n",
		rep.Manifest, rep.CleanDir, rep.NoisyDir, rep.Dataset, rep.Dataset, extra)
}
