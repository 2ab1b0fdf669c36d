package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/ludvae/ludvae/internal/testkit"
)

// walkCommand is one command (or subcommand) as the flag walks run it.
type walkCommand struct {
	name   string                // its flag set's name
	run    func([]string) error  // the command, given prefix + flags
	prefix []string              // leading words ("train" for `restore train`)
	base   func(w string) []flag // flags that make it fail cleanly after its checks
	// sentinel: what the base run fails with once every flag is accepted
	// (an empty input folder, an unknown --layout …).
	sentinel []string
}

// flag is one flag and its value; an empty name is a positional argument.
type flag struct{ name, value string }

// walkCommands lists every command with flags. TestFlagWalkCoversEveryCommand
// checks that none of `ludvae help`'s commands is missing.
func walkCommands() []walkCommand {
	disc := func(f func([]string, io.Writer, io.Writer) error) func([]string) error {
		return func(a []string) error { return f(a, io.Discard, io.Discard) }
	}
	benchW := func(a []string) error { return bench(a, io.Discard) }
	restoreW := func(a []string) error { return restoreCommand(a, io.Discard, restoreRun) }
	model := filepath.Join(testkit.Root(), "testdata", "official", "f8_state_dict.pth")
	noImages := []string{"no image files"}
	return []walkCommand{
		{"train", runTrain, nil, func(w string) []flag {
			return []flag{{"clean", w + "/empty"}, {"noisy", w + "/empty2"}, {"out", w + "/out"}, {"device", "cpu"}}
		}, noImages},
		{"synth", runSynth, nil, func(w string) []flag {
			return []flag{{"model", model}, {"clean", w + "/empty"}, {"out", w + "/out"}, {"device", "cpu"}}
		}, noImages},
		{"export", runExport, nil, func(w string) []flag {
			return []flag{{"model", w + "/dummy.pth"}, {"pth", w + "/out.pth"}}
		}, []string{"not a torch zip"}},
		{"restore train", restoreW, []string{"train"}, func(w string) []flag {
			return []flag{{"clean", w + "/empty"}, {"sigma", "0,50"}, {"out", w + "/out"}, {"device", "cpu"}}
		}, noImages},
		{"restore test", restoreW, []string{"test"}, func(w string) []flag {
			return []flag{{"model", w + "/dummy.pth"}, {"in", w + "/empty"}, {"out", w + "/out"}, {"device", "cpu"}}
		}, []string{"no image files", "not a torch zip"}},
		{"restore export", restoreW, []string{"export"}, func(w string) []flag {
			return []flag{{"model", w + "/dummy.pth"}, {"torchscript", w + "/out.pt"}}
		}, []string{"not a torch zip"}},
		{"eval", disc(evalCommand), nil, func(w string) []flag {
			return []flag{{"restored", w + "/empty"}, {"truth", w + "/empty2"}}
		}, noImages},
		{"eval noise", disc(evalCommand), []string{"noise"}, func(w string) []flag {
			return []flag{{"synthetic", w + "/empty"}, {"real", w + "/empty2"}, {"clean", w + "/empty3"}}
		}, noImages},
		{"degrade", disc(degradeCommand), nil, func(w string) []flag {
			return []flag{{"in", w + "/empty"}, {"out", w + "/out"}, {"kind", "gaussian"}}
		}, noImages},
		{"halves", disc(halvesCommand), nil, func(w string) []flag {
			return []flag{{"in", w + "/empty"}, {"left", w + "/l"}, {"right", w + "/r"}}
		}, noImages},
		{"montage", runMontage, nil, func(w string) []flag {
			return []flag{{"out", w + "/out/m.png"}, {"crop", "100,100,8,8"}, {"", w + "/img/a.png"}}
		}, []string{"lies outside"}},
		{"prepare", runPrepare, nil, func(w string) []flag {
			return []flag{{"", "store"}, {"from", w + "/empty"}}
		}, noImages},
		{"bench", benchW, nil, func(w string) []flag {
			return []flag{{"", "train"}, {"layout", "bogus"}}
		}, []string{"--layout"}},
		{"bench data", benchW, []string{"data"}, func(w string) []flag {
			return []flag{{"clean", w + "/empty"}, {"noisy", w + "/empty2"}}
		}, noImages},
		{"version", runVersion, nil, func(string) []flag { return nil }, nil},
	}
}

// walkFixture makes the folders and files the base flags name.
func walkFixture(t *testing.T) string {
	t.Helper()
	w := t.TempDir()
	for _, d := range []string{"empty", "empty2", "empty3", "out"} {
		mustDo(t, os.MkdirAll(filepath.Join(w, d), 0o755))
	}
	mustDo(t, os.WriteFile(filepath.Join(w, "dummy.pth"), []byte("not a checkpoint"), 0o644))
	saveCLITestPNG(t, filepath.Join(w, "img"), "a.png", cliTestImage(8, 8, 1))
	return w
}

// args builds a command line from base with the flag named skip left out
// and extra appended; positional arguments go last.
func (c walkCommand) args(base []flag, skip string, extra ...string) []string {
	a := append([]string{}, c.prefix...)
	var pos []string
	for _, f := range base {
		switch {
		case f.name == "":
			pos = append(pos, f.value)
		case f.name != skip:
			a = append(a, "--"+f.name+"="+f.value)
		}
	}
	a = append(a, extra...)
	return append(a, pos...) // flags and words intersperse (pflag's default)
}

// flagSets returns every command's flag set, as the command makes it, by
// running it with --help (stderr silenced).
func flagSets(t *testing.T) map[string]*pflag.FlagSet {
	t.Helper()
	sets := map[string]*pflag.FlagSet{}
	flagSetMade = func(fs *pflag.FlagSet) { sets[fs.Name()] = fs }
	defer func() { flagSetMade = nil }()
	restore := silenceStderr(t)
	defer restore()
	for _, c := range walkCommands() {
		a := append(append([]string{}, c.prefix...), "--help")
		if c.name == "bench" {
			a = []string{"train", "--help"}
		}
		c.run(a)
		if sets[c.name] == nil {
			t.Fatalf("ludvae %s --help made no flag set named %q", c.name, c.name)
		}
	}
	return sets
}

// silenceStderr sends os.Stderr to /dev/null until the returned function
// runs: the commands print usage and progress there.
func silenceStderr(t *testing.T) func() {
	t.Helper()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = null
	return func() { os.Stderr = old; null.Close() }
}

// TestFlagWalkCoversEveryCommand: the walks below run every command of
// `ludvae help`, so a new command is walked too (or this fails).
func TestFlagWalkCoversEveryCommand(t *testing.T) {
	walked := map[string]bool{}
	for _, c := range walkCommands() {
		walked[strings.Fields(c.name)[0]] = true
	}
	for name := range commands {
		if !walked[name] {
			t.Errorf("ludvae %s is not in walkCommands: add it with base flags that fail cleanly", name)
		}
	}
}

// runWithin runs f, returning its error, a panic as an error, or a
// timeout error after d.
func runWithin(d time.Duration, f func() error) (err error, timedOut bool) {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("PANIC: %v", r)
			}
		}()
		done <- f()
	}()
	select {
	case err := <-done:
		return err, false
	case <-time.After(d):
		return nil, true
	}
}

// numericValues are the values the walk gives a flag of each type: 0, a
// negative, 10^12 and, for real numbers, NaN and infinity.
func numericValues(typ string) map[string]string {
	switch typ {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "intSlice", "int32Slice", "int64Slice", "uintSlice":
		return map[string]string{"zero": "0", "neg": "-1", "big": "1000000000000"}
	case "float32", "float64", "float32Slice", "float64Slice":
		return map[string]string{"zero": "0", "neg": "-1", "big": "1e12", "nan": "NaN", "inf": "Inf"}
	case "duration", "durationSlice":
		return map[string]string{"zero": "0s", "neg": "-1s", "big": "1000000000000s"}
	}
	return nil
}

// acceptedNumbers says, for each numeric flag, which of the walk's values
// are meaningful and accepted (the command then goes on to fail on its
// base flags' sentinel); every other value must be refused naming the
// flag. "*" accepts either outcome (a flag whose checks another part of
// the work owns). A flag not listed here must refuse all of them, so a new
// numeric flag either gets bounds or an entry saying why it needs none.
var acceptedNumbers = map[string]string{
	"train --steps":                 "big",      // counts steps; allocates nothing per step
	"train --lr":                    "big",      // a rate, not a size
	"train --lr-milestones":         "big",      // a step number
	"train --lr-gamma":              "big",      // a factor
	"train --kl-weight":             "zero big", // 0: no KL term
	"train --kl-warmup":             "zero big", // 0: no warm-up
	"train --sigma-x":               "zero big", // 0: no h-noise; a σ, not a size
	"train --sigma-y":               "zero big", // as --sigma-x
	"train --seed":                  "zero big", // any seed
	"train --threads":               "zero",     // 0: one per CPU
	"train --save-every":            "big",      // a period in steps
	"train --log-every":             "big",      // a period in steps
	"train --keep":                  "big",      // keeps at most what exists
	"train --max-bad-steps":         "big",      // a count of steps
	"train --sample-every":          "zero big", // 0: never
	"train --ema":                   "zero",     // 0: no weight average
	"synth --sigma-min":             "zero",     // 0: no h-noise
	"synth --sigma-max":             "big",      // a σ, not a size
	"synth --temperature":           "zero big", // 0: the mean latents
	"export --temperature":          "zero big", // 0: the mean latents
	"synth --temperature-max":       "zero big", // 0: one temperature
	"synth --seed":                  "zero big", // any seed
	"synth --tile":                  "zero",     // 0: whole images
	"synth --threads":               "zero",     // one per CPU
	"synth --shards":                "zero",     // 0: not sharded
	"restore train --sigma":         "zero big", // 0: clean input; a σ, not a size
	"restore train --steps":         "big",      // as train's
	"restore train --lr":            "big",      // as train's
	"restore train --lr-milestones": "big",
	"restore train --lr-gamma":      "big",
	"restore train --seed":          "zero big",
	"restore train --threads":       "zero",
	"restore train --save-every":    "big",
	"restore train --log-every":     "big",
	"restore train --keep":          "big",
	"restore train --max-bad-steps": "big",
	"restore test --tile":           "zero", // 0: whole images
	"restore test --threads":        "zero",
	"eval --border":                 "zero",     // 0: no border
	"eval --workers":                "big",      // at most one per image is started
	"eval --lowpass":                "zero",     // 0: none
	"eval noise --workers":          "big",      // at most one per image is started
	"degrade --sigma":               "zero big", // 0: a copy; a σ, not a size
	"degrade --seed":                "zero big",
	"degrade --workers":             "big",          // at most one per image is started
	"prepare --seed":                "zero neg big", // any seed (int64)
	"bench --batch":                 "zero",         // 0: the task's default
	"bench --size":                  "zero",         // 0: the task's default
	"bench --iters":                 "big",          // a count of iterations
	"bench --warmup":                "zero big",     // a count of iterations
	"bench --threads":               "zero",
	"bench --tile":                  "zero", // 0: whole images
	"bench data --steps":            "big",  // a count of batches
}

// TestNumericFlagsBounded walks every numeric flag of every command (read
// from the commands' own flag sets) with 0, −1, 10^12 and, for real
// numbers, NaN and Inf. Each value is refused with an error naming the
// flag, or, where acceptedNumbers says it is meaningful, accepted: the
// command then fails on its base flags (an empty input folder …) like
// the base run. Nothing panics, runs out of memory or hangs (30 s each).
func TestNumericFlagsBounded(t *testing.T) {
	sets := flagSets(t)
	seen := map[string]bool{}
	refused, accepted := 0, 0
	restore := silenceStderr(t)
	defer restore()
	for _, c := range walkCommands() {
		fs := sets[c.name]
		fs.VisitAll(func(f *pflag.Flag) {
			values := numericValues(f.Value.Type())
			if values == nil {
				return
			}
			key := c.name + " --" + f.Name
			seen[key] = true
			ok := acceptedNumbers[key]
			for _, kind := range []string{"zero", "neg", "big", "nan", "inf"} {
				v, has := values[kind]
				if !has {
					continue
				}
				w := walkFixture(t)
				args := c.args(c.base(w), f.Name, "--"+f.Name+"="+v)
				err, hung := runWithin(30*time.Second, func() error { return c.run(args) })
				switch {
				case hung:
					t.Errorf("ludvae %s: still running after 30 s", strings.Join(args, " "))
				case err == nil:
					t.Errorf("ludvae %s: no error (the base flags should fail it)", strings.Join(args, " "))
				case strings.HasPrefix(err.Error(), "PANIC"):
					t.Errorf("ludvae %s: %v", strings.Join(args, " "), err)
				case ok == "*":
				case strings.Contains(" "+ok+" ", " "+kind+" "):
					if !containsAny(err.Error(), c.sentinel) {
						t.Errorf("ludvae %s: %v; %s is meaningful here and should be accepted (then fail with %q)", strings.Join(args, " "), err, v, c.sentinel)
					}
					accepted++
				case !strings.Contains(err.Error(), "--"+f.Name):
					t.Errorf("ludvae %s: %v; want a refusal naming --%s", strings.Join(args, " "), err, f.Name)
				default:
					refused++
				}
			}
		})
	}
	t.Logf("%d numeric flags: %d values refused naming the flag, %d accepted as meaningful", len(seen), refused, accepted)
	for key := range acceptedNumbers {
		if !seen[key] {
			t.Errorf("acceptedNumbers lists %q, which no command has", key)
		}
	}
	// The one numeric value a string flag carries: synth's --shard I/N.
	for _, v := range []string{"0/0", "-1/2", "0/1000000000000", "0/99999999999"} {
		w := walkFixture(t)
		c := walkCommand{}
		for _, x := range walkCommands() {
			if x.name == "synth" {
				c = x
			}
		}
		err := c.run(c.args(c.base(w), "", "--shard="+v))
		if err == nil || !strings.Contains(err.Error(), "--shard") {
			t.Errorf("synth --shard %s: %v, want a refusal naming --shard", v, err)
		}
	}
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// fileInputs lists, for each command, the flags that name a file or folder
// the command reads (and "" for its positional images); every other
// string flag is listed in otherStrings, so that a new path flag is not
// missed.
var fileInputs = map[string][]string{
	"train":          {"clean", "noisy"},
	"synth":          {"model", "clean", "normalization"},
	"export":         {"model", "normalization"},
	"restore train":  {"clean", "ludvae", "normalization", "pairs"},
	"restore test":   {"model", "in"},
	"restore export": {"model"},
	"eval":           {"restored", "truth"},
	"eval noise":     {"synthetic", "real", "clean"},
	"degrade":        {"in"},
	"halves":         {"in"},
	"montage":        {""},
	"prepare":        {"from"},
	"bench data":     {"clean", "noisy"},
}

// otherStrings are the string flags that name no input: outputs, and
// words.
var otherStrings = map[string]string{
	"train":          "out store-dir preset normalize device precision layout",
	"synth":          "out mode device precision shard layout weights",
	"export":         "torchscript pth onnx sigma mode weights",
	"restore train":  "out loss device layout ludvae-weights",
	"restore test":   "out device layout",
	"restore export": "torchscript onnx pth",
	"eval":           "",
	"eval noise":     "plot",
	"degrade":        "out kind",
	"halves":         "left right",
	"montage":        "out labels",
	"prepare":        "to store-dir",
	"bench":          "device precision layout",
	"bench data":     "store-dir",
	"version":        "",
}

// TestFIFOInputsRefused gives a named pipe with no writer to every flag
// that names an input (enumerated from the flag sets: each string flag is
// classified above). Each command returns within a second with an error
// naming the pipe: nothing waits in open(2).
func TestFIFOInputsRefused(t *testing.T) {
	sets := flagSets(t)
	restore := silenceStderr(t)
	defer restore()
	var fifos []string
	defer func() {
		// Release anything still blocked opening a pipe.
		for _, f := range fifos {
			if fd, err := syscall.Open(f, syscall.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				syscall.Close(fd)
			}
		}
	}()
	for _, c := range walkCommands() {
		inputs := map[string]bool{}
		for _, name := range fileInputs[c.name] {
			inputs[name] = true
		}
		others := map[string]bool{}
		for _, name := range strings.Fields(otherStrings[c.name]) {
			others[name] = true
		}
		sets[c.name].VisitAll(func(f *pflag.Flag) {
			if t := f.Value.Type(); (t == "string" || t == "stringArray" || t == "stringSlice") && !inputs[f.Name] && !others[f.Name] {
				panic(fmt.Sprintf("ludvae %s --%s: a string flag neither in fileInputs nor in otherStrings; classify it", c.name, f.Name))
			}
		})
		names := append([]string{}, fileInputs[c.name]...)
		sort.Strings(names)
		for _, name := range names {
			w := walkFixture(t)
			fifo := filepath.Join(w, "pipe.png")
			if err := syscall.Mkfifo(fifo, 0o644); err != nil {
				t.Fatal(err)
			}
			fifos = append(fifos, fifo)
			base := c.base(w)
			var args []string
			if name == "" {
				var kept []flag
				for _, f := range base {
					if f.name != "" {
						kept = append(kept, f)
					}
				}
				args = append(c.args(kept, "", "--crop=0,0,1,1"), fifo)
			} else {
				args = c.args(base, name, "--"+name+"="+fifo)
			}
			start := time.Now()
			err, hung := runWithin(time.Second, func() error { return c.run(args) })
			switch {
			case hung:
				t.Errorf("ludvae %s: still blocked after 1 s", strings.Join(args, " "))
			case err == nil || !strings.Contains(err.Error(), fifo) || !strings.Contains(err.Error(), "named pipe"):
				t.Errorf("ludvae %s: %v, want an error naming %s as a named pipe", strings.Join(args, " "), err, fifo)
			default:
				t.Logf("%s --%s FIFO: refused in %v: %v", c.name, name, time.Since(start).Round(time.Millisecond), err)
			}
		}
	}
}
