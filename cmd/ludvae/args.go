package main

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/ludvae/ludvae/internal/layout"
	tb "github.com/ludvae/ludvae/torchbind"
)

// parseFlags parses a command's flags and refuses positional arguments.
func parseFlags(fs *pflag.FlagSet, args []string) error {
	if err := parseFlagsArgs(fs, args); err != nil {
		return err
	}
	return noArgs(fs)
}

// parseFlagsArgs parses a command's flags, leaving positional arguments
// to it. A value one of the typed flags below refuses is said as that
// flag's own check says it ("--threads 100000: expected …"), without
// pflag's "invalid argument" wrapping.
func parseFlagsArgs(fs *pflag.FlagSet, args []string) error {
	err := fs.Parse(args)
	var own valueError
	if errors.As(err, &own) {
		return own
	}
	return err
}

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

// valueError is a typed flag's refusal of a value, naming the flag.
type valueError struct{ error }

func (e valueError) Unwrap() error { return e.error }

// The flags of where and how a command computes — --device, --threads,
// --precision — are declared by these functions alone, as typed values
// that check a value when it is parsed. They write into the command's own
// settings (a string, an int), which flow on as before.

// deviceFlag declares --device: cpu, cuda, cuda:N or auto (tb.ParseDevice).
func deviceFlag(fs *pflag.FlagSet, p *string) {
	fs.Var(checkedString{p, "--device", func(s string) error { _, err := tb.ParseDevice(s); return err }},
		"device", "cpu, cuda, cuda:N or auto")
}

// threadsFlag declares --threads: libtorch's CPU thread count.
func threadsFlag(fs *pflag.FlagSet, p *int) {
	fs.Var(threadsValue{p}, "threads", "CPU threads for libtorch: 0 = one per CPU, at most 4 per CPU")
}

// precisionFlag declares --precision: fp32, tf32 or bf16 (tb.ParsePrecision).
func precisionFlag(fs *pflag.FlagSet, p *string) {
	fs.Var(checkedString{p, "--precision", func(s string) error { _, err := tb.ParsePrecision(s); return err }},
		"precision", "fp32, tf32 (TF32 tensor cores on CUDA) or bf16 (autocast: bfloat16 compute, float32 weights)")
}

// layoutFlag declares --layout: auto, nchw or nhwc (internal/layout).
func layoutFlag(fs *pflag.FlagSet, p *string) {
	fs.Var(checkedString{p, "--layout", func(s string) error { _, err := layout.Parse("--layout", s); return err }},
		"layout", layout.Flag)
}

// checkedString is a string flag whose values check must accept.
type checkedString struct {
	p     *string
	flag  string
	check func(string) error
}

func (v checkedString) String() string { return *v.p }
func (v checkedString) Type() string   { return "string" }
func (v checkedString) Set(s string) error {
	if err := v.check(s); err != nil {
		return valueError{fmt.Errorf("%s: %w", v.flag, err)}
	}
	*v.p = s
	return nil
}

type threadsValue struct{ p *int }

func (v threadsValue) String() string { return strconv.Itoa(*v.p) }
func (v threadsValue) Type() string   { return "int" }
func (v threadsValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return valueError{fmt.Errorf("--threads %q: expected a whole number", s)}
	}
	if err := checkThreads(n); err != nil {
		return valueError{err}
	}
	*v.p = n
	return nil
}

// checkThreads checks a --threads value (torchbind.CheckThreads).
func checkThreads(n int) error {
	if err := tb.CheckThreads(n); err != nil {
		return fmt.Errorf("--threads %w", err)
	}
	return nil
}

// flagSetMade, when set (by tests), is called with every command's flag
// set as it is made, so that a test can enumerate the flags of every
// command, including ones added later.
var flagSetMade func(*pflag.FlagSet)

// newFlagSet makes a command's flag set (errors returned, not exited on).
func newFlagSet(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	if flagSetMade != nil {
		flagSetMade(fs)
	}
	return fs
}
