package main

import (
	"fmt"

	"github.com/spf13/pflag"

	tb "github.com/ludvae/ludvae/torchbind"
)

// noArgs refuses positional arguments given to a command that takes only
// flags: a stray word is usually a flag missing its "--" or a value that
// lost its flag, and ignoring it would run with a setting the user did not
// mean.
func noArgs(fs *pflag.FlagSet) error {
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: ludvae %s takes only flags (see --help)", fs.Arg(0), fs.Name())
	}
	return nil
}

// checkThreads checks a --threads value (torchbind.CheckThreads).
func checkThreads(n int) error {
	if err := tb.CheckThreads(n); err != nil {
		return fmt.Errorf("--threads %w", err)
	}
	return nil
}
