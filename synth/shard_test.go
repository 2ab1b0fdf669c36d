package synth

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestShardsJoinIntoUnsharded: three shards writing into one --out make
// disjoint thirds of the pairs; --merge before the last one has run names
// it; after it, the folder (L/, H/, manifest.jsonl) is byte-identical to
// the unsharded run's with the same seed.
func TestShardsJoinIntoUnsharded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean")
	writeClean(t, clean, 7)
	ckpt := saveTinyModel(t, dir, 1, nil)
	ref := filepath.Join(dir, "ref")
	if err := synthRun(context.Background(), synthOptions(ckpt, clean, ref), io.Discard); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "sharded")
	seen := map[string]int{}
	for i := range 3 {
		o := synthOptions(ckpt, clean, out)
		o.Shard, o.Shards = i, 3
		if err := synthRun(context.Background(), o, io.Discard); err != nil {
			t.Fatal(err)
		}
		recs := checkShard(t, out, o.manifestName())
		if want := []int{6, 4, 4}[i]; len(recs) != want {
			t.Errorf("shard %d/3 made %d pairs, want %d (7 images × 2, dealt in turn)", i, len(recs), want)
		}
		for _, r := range recs {
			seen[r.L]++
		}
		if i == 1 {
			err := Merge(context.Background(), synthOptions(ckpt, clean, out), io.Discard)
			if err == nil || !strings.Contains(err.Error(), "shards [2] of 3") {
				t.Errorf("merge with shard 2 not started: got %v", err)
			}
		}
	}
	for l, n := range seen {
		if n != 1 {
			t.Errorf("%s made by %d shards", l, n)
		}
	}
	if err := Merge(context.Background(), synthOptions(ckpt, clean, out), io.Discard); err != nil {
		t.Fatal(err)
	}
	sameTree(t, out, ref)

	// A shard run again after one of its files went missing makes it (and
	// the pairs after it) again, and drops the merged manifest, which
	// listed it; --merge writes it again.
	o := synthOptions(ckpt, clean, out)
	o.Shard, o.Shards = 0, 3
	os.Remove(filepath.Join(out, DirL, "d_s1.png"))
	if err := synthRun(context.Background(), o, io.Discard); err != nil {
		t.Fatal(err)
	}
	checkShard(t, out, o.manifestName())
	if _, err := os.Stat(filepath.Join(out, Manifest)); err == nil {
		t.Errorf("%s, which listed a missing file, was kept", Manifest)
	}
	if err := Merge(context.Background(), synthOptions(ckpt, clean, out), io.Discard); err != nil {
		t.Fatal(err)
	}
	sameTree(t, out, ref)

	// An unsharded run over the shards' folder finds every pair made.
	os.Remove(filepath.Join(out, Manifest))
	var log strings.Builder
	if err := synthRun(context.Background(), synthOptions(ckpt, clean, out), &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "14 of 14 pairs already written") {
		t.Errorf("unsharded run after the shards: %q", log.String())
	}
	sameTree(t, out, ref)
	for i := range 3 {
		os.Remove(filepath.Join(out, (&Options{Shard: i, Shards: 3}).manifestName()))
	}

	// A shard that stopped part way is named by --merge.
	b, _ := os.ReadFile(filepath.Join(ref, Manifest))
	os.WriteFile(filepath.Join(out, "manifest-shard-0-of-2.jsonl"), []byte(strings.SplitAfter(string(b), "\n")[0]), 0o644)
	os.WriteFile(filepath.Join(out, "manifest-shard-1-of-2.jsonl"), nil, 0o644)
	if err := Merge(context.Background(), synthOptions(ckpt, clean, out), io.Discard); err == nil || !strings.Contains(err.Error(), "shard 0/2 has not finished") {
		t.Errorf("merge of an unfinished shard: got %v", err)
	}
}

// checkShard is checkHonest for one shard's manifest among others': every
// listed file exists and no temporary file is left.
func checkShard(t *testing.T, out, manifest string) []Record {
	t.Helper()
	recs, err := readManifest(filepath.Join(out, manifest))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if !pairExists(out, r) {
			t.Errorf("%s lists %s, which is not on disk", manifest, r.L)
		}
	}
	for name := range tree(t, out) {
		if strings.Contains(name, ".tmp") {
			t.Errorf("temporary file %s left behind", name)
		}
	}
	return recs
}

// TestResolveShard: --shard I/N, Kubernetes' JOB_COMPLETION_INDEX with
// --shards, a Slurm array (its first task id need not be 0), and the
// errors for indices out of range or a count without an index.
func TestResolveShard(t *testing.T) {
	t.Parallel()
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	cases := []struct {
		flag   string
		shards int
		env    func(string) string
		i, n   int
		err    string
	}{
		{"", 0, env(), 0, 0, ""},
		{"2/3", 0, env("SLURM_ARRAY_TASK_ID", "0", "SLURM_ARRAY_TASK_COUNT", "5"), 2, 3, ""},
		{"", 3, env("JOB_COMPLETION_INDEX", "1"), 1, 3, ""},
		{"", 0, env("JOB_COMPLETION_INDEX", "1"), 0, 0, ""},
		{"", 0, env("SLURM_ARRAY_TASK_ID", "3", "SLURM_ARRAY_TASK_MIN", "1", "SLURM_ARRAY_TASK_COUNT", "3"), 2, 3, ""},
		{"", 3, env("SLURM_ARRAY_TASK_ID", "0"), 0, 3, ""},
		{"3/3", 0, env(), 0, 0, "--shard"},
		{"x", 0, env(), 0, 0, "--shard"},
		{"1/3", 4, env(), 0, 0, "disagree"},
		{"", 3, env(), 0, 0, "which shard"},
		{"", 3, env("JOB_COMPLETION_INDEX", "3"), 0, 0, "JOB_COMPLETION_INDEX"},
		{"", 0, env("SLURM_ARRAY_TASK_ID", "4", "SLURM_ARRAY_TASK_COUNT", "3"), 0, 0, "SLURM_ARRAY_TASK_ID"},
	}
	for _, c := range cases {
		i, n, _, err := ResolveShard(c.flag, c.shards, c.env)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q --shards %d: got %v, want an error about %s", c.flag, c.shards, err, c.err)
			}
			continue
		}
		if err != nil || i != c.i || n != c.n {
			t.Errorf("%q --shards %d: got %d/%d %v, want %d/%d", c.flag, c.shards, i, n, err, c.i, c.n)
		}
	}
}

// TestMergeRefusesHugeShardCount (hostile case sy17): a manifest named as
// shard 0 of 99999999999 (a stray file, or a run with a mistyped --shard)
// is refused at once, naming it, instead of sizing --merge's lists.
func TestMergeRefusesHugeShardCount(t *testing.T) {
	out := t.TempDir()
	name := filepath.Join(out, "manifest-shard-0-of-99999999999.jsonl")
	if err := os.WriteFile(name, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := shardCount(out); err == nil || !strings.Contains(err.Error(), name) {
		t.Errorf("shardCount: %v, want a refusal naming %s", err, name)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v", d)
	}
	if _, _, _, err := ResolveShard("0/99999999999", 0, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "--shard") {
		t.Errorf("--shard 0/99999999999: %v", err)
	}
	env := map[string]string{"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "99999999999"}
	if _, _, _, err := ResolveShard("", 0, func(k string) string { return env[k] }); err == nil {
		t.Errorf("SLURM_ARRAY_TASK_COUNT=99999999999 accepted")
	}
}
