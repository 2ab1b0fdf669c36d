package synth

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/ludvae/ludvae/internal/limits"
)

// inputs lists the input images and plans every pair of the run.
func (o *Options) inputs(ctx context.Context, log io.Writer) ([]input, []Record, error) {
	in, err := listInputs(ctx, o.Clean, o.Out, log)
	if err != nil {
		return nil, nil, err
	}
	all, err := o.plan(in)
	return in, all, err
}

// plan lists every pair of the whole run (all shards), in input order:
// sample k of input i is record i·Samples+k, and its Stream is that same
// position. Two inputs whose outputs would share a name are refused here,
// before any work.
func (o *Options) plan(in []input) ([]Record, error) {
	if n := float64(len(in)) * float64(o.Samples); n > limits.MaxPairs {
		return nil, fmt.Errorf("--samples %d × %d images under --clean %s = %.0f pairs: at most %d per run (the plan keeps a record of each in memory); use fewer samples or split --clean", o.Samples, len(in), o.Clean, n, limits.MaxPairs)
	}
	recs := make([]Record, 0, len(in)*o.Samples)
	owner := make(map[string]string, len(in)*o.Samples)
	for _, im := range in {
		for k := range o.Samples {
			r := o.record(im, k)
			if prev, ok := owner[r.L]; ok {
				return nil, fmt.Errorf("--clean: %s and %s would both be written as %s (outputs keep the path relative to --clean, without its extension): rename or move one of them", prev, im.path, r.L)
			}
			owner[r.L] = im.path
			recs = append(recs, r)
		}
	}
	return recs, nil
}

// record fixes the draws of sample k of input im: σ (and the temperature,
// if given a range) from a generator keyed by (seed, stream), the model's
// noise from the same stream. The stream is the pair's position in the
// whole run, so outputs do not depend on scheduling or on which shard makes
// them, and the same seed gives the same bytes.
func (o *Options) record(im input, k int) Record {
	stream := uint64(im.index*o.Samples + k)
	rng := rand.New(rand.NewPCG(o.Seed, stream))
	sigma := o.SigmaMin + (o.SigmaMax-o.SigmaMin)*rng.Float64()
	temperature := o.Temperature
	if o.Mode == "n2c" {
		temperature = 0 // its degradation latents are all 0
	} else if o.TemperatureMax > o.Temperature {
		temperature += (o.TemperatureMax - o.Temperature) * rng.Float64()
	}
	file := im.stem + ".png"
	if o.Samples > 1 {
		file = fmt.Sprintf("%s_s%d.png", im.stem, k)
	}
	r := Record{L: DirL + "/" + file, H: DirH + "/" + file, Sigma: sigma, Temperature: temperature,
		Seed: o.Seed, Stream: stream, Mode: o.Mode, SRScale: o.SRScale}
	r.Source, r.SourceBase64 = sourceFields(im.path)
	return r
}

// sourceFields is the input's absolute path as the manifest records it.
// JSON strings hold UTF-8 only, so a path that is not valid UTF-8 is given
// twice: readable in source (each invalid sequence shown as U+FFFD) and
// exact in source_base64, the path's bytes in standard base64.
func sourceFields(path string) (source, b64 string) {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	if utf8.ValidString(abs) {
		return abs, ""
	}
	return strings.ToValidUTF8(abs, "\uFFFD"), base64.StdEncoding.EncodeToString([]byte(abs))
}

// mine reports whether this process makes the pairs of input index.
// Inputs are dealt out in turn (index modulo Shards), so every shard gets
// a similar mix of the sorted list.
func (o *Options) mine(index int) bool { return o.Shards <= 1 || index%o.Shards == o.Shard }

// manifestName is this process's manifest: manifest.jsonl, or one per
// shard, which Merge joins into manifest.jsonl.
func (o *Options) manifestName() string {
	if o.Shards <= 1 {
		return Manifest
	}
	return fmt.Sprintf("manifest-shard-%d-of-%d.jsonl", o.Shard, o.Shards)
}
