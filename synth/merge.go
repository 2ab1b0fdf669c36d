package synth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"

	"github.com/ludvae/ludvae/internal/atomicfile"
	"github.com/ludvae/ludvae/internal/limits"
)

var shardManifest = regexp.MustCompile(`^manifest-shard-(\d+)-of-(\d+)\.jsonl$`)

// Merge joins the shard manifests in o.Out into manifest.jsonl, which then
// is the manifest the unsharded run writes: o (the shards' own settings,
// without the shard) gives every record that run would list, in its order,
// and each must be in its shard's manifest, identical, with both files on
// disk. A shard that has not finished, or one run with other settings, is
// named and nothing is written. Cancelling ctx stops it, with ctx's error,
// before manifest.jsonl is written.
func Merge(ctx context.Context, o Options, log io.Writer) error {
	o.Shard, o.Shards = 0, 0
	if err := o.Validate(); err != nil {
		return err
	}
	n, err := shardCount(o.Out)
	if err != nil {
		return err
	}
	_, all, err := o.inputs(ctx, log)
	if err != nil {
		return err
	}
	got := make(map[uint64]Record, len(all))
	for i := range n {
		if err := ctx.Err(); err != nil {
			return err
		}
		o.Shard, o.Shards = i, n
		recs, err := readManifestContext(ctx, filepath.Join(o.Out, o.manifestName()))
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			return fmt.Errorf("--merge: %w", err)
		}
		for _, r := range recs {
			got[r.Stream] = r
		}
	}
	for k, want := range all {
		if k%256 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		shard := fmt.Sprintf("shard %d/%d", int(want.Stream)/o.Samples%n, n)
		r, ok := got[want.Stream]
		switch {
		case !ok || !pairExists(o.Out, r):
			return fmt.Errorf("--merge: %s has not finished (%s, from %s, is missing): run that shard again", shard, want.L, want.Source)
		case r != want:
			return fmt.Errorf("--merge: %s lists %s with other settings than this command's (seed, σ, temperature, samples, mode, --clean): give --merge the shards' own flags", shard, want.L)
		}
	}
	err = atomicfile.Write(filepath.Join(o.Out, Manifest), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		for _, r := range all {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("--merge: %w", err)
	}
	fmt.Fprintf(log, "merged %d shards: %d pairs listed in %s\n", n, len(all), filepath.Join(o.Out, Manifest))
	return nil
}

// shardCount finds the shard manifests in out: one count N, every index
// 0…N−1 present.
func shardCount(out string) (int, error) {
	names, _ := filepath.Glob(filepath.Join(out, "manifest-shard-*-of-*.jsonl"))
	seen := map[int]bool{}
	n := 0
	for _, p := range names {
		m := shardManifest.FindStringSubmatch(filepath.Base(p))
		if m == nil {
			continue
		}
		i, err1 := strconv.Atoi(m[1])
		c, err2 := strconv.Atoi(m[2])
		if err1 != nil || err2 != nil || c < 1 || c > limits.MaxShards || i >= c {
			// A stray or hand-made name must not size the lists below.
			return 0, fmt.Errorf("--merge: %s is not a manifest of a shard this ludvae makes (at most %d shards, index below the count); remove it", p, limits.MaxShards)
		}
		if n != 0 && c != n {
			return 0, fmt.Errorf("--merge: %s holds manifests of %d and of %d shards; remove the stale ones", out, n, c)
		}
		n, seen[i] = c, true
	}
	if n == 0 {
		return 0, fmt.Errorf("--merge: no manifest-shard-*-of-*.jsonl in %s", out)
	}
	var missing []int
	for i := range n {
		if !seen[i] {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 {
		sort.Ints(missing)
		more := ""
		if len(missing) > 10 {
			more = fmt.Sprintf(" and %d more", len(missing)-10)
			missing = missing[:10]
		}
		return 0, fmt.Errorf("--merge: shards %v%s of %d have not started (no manifest in %s)", missing, more, n, out)
	}
	return n, nil
}
