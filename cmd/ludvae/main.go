// Command ludvae trains LUD-VAE degradation models on unpaired clean and
// degraded photos, synthesizes paired data sets with them, and exports the
// generator for Python.
//
// Usage:
//
//	ludvae <command> [flags]
//
// Run `ludvae help` for the list of commands.
package main

import (
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/ludvae/ludvae/internal/interrupt"
	"github.com/spf13/pflag"
)

// command is one subcommand of ludvae.
type command struct {
	summary string
	run     func(args []string) error
}

var commands = map[string]command{
	"version": {"print the libtorch version, the shim's build kind and the devices", runVersion},
	"train":   {"train LUD-VAE on unpaired clean and degraded folders", runTrain},
	"synth":   {"synthesize paired data (degraded, clean) with a trained model", runSynth},
	"bench":   {"time a training step or a synthesized image (one JSON line)", runBench},
	"prepare": {"arrange a data set's download (sidd, aim19, ntire20) into clean/ and noisy/", runPrepare},
	"montage": {"put the same crop of several images side by side, labelled", runMontage},
	"degrade": {"apply a synthetic degradation (camera-like or Gaussian) to a folder", runDegrade},
	"halves":  {"cut every image of a folder into left and right halves (two disjoint domains)", runHalves},
	"eval":    {"PSNR/SSIM of restored images, or `eval noise`: compare degradations", runEval},
	"export":  {"write a model as TorchScript (C2N generator) or as a plain state dict", runExport},
	"restore": {"train the downstream denoiser (KAIR's DnCNN) on pairs, or denoise a folder with it", runRestore},
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "help" || os.Args[1] == "-h" || os.Args[1] == "--help" {
		usage()
		return
	}
	ompPassive(os.Args)
	c, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "ludvae: unknown command %q\n\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err := c.run(os.Args[2:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return // --help printed the usage
		}
		if interrupt.Caught() != nil {
			// a long phase stopped on SIGINT, SIGTERM or SIGHUP and saved
			// what its documentation promises (package interrupt)
			interrupt.Exit(err)
		}
		fmt.Fprintf(os.Stderr, "ludvae %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: ludvae <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(os.Stderr, "\nRun `ludvae <command> --help` for its flags.")
}
