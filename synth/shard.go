package synth

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ludvae/ludvae/internal/limits"
)

// ResolveShard picks this process's shard from --shard "I/N" (I counts
// from 0), else from --shards N with the index of a Kubernetes Indexed Job
// (JOB_COMPLETION_INDEX) or a Slurm array task (SLURM_ARRAY_TASK_ID minus
// SLURM_ARRAY_TASK_MIN), else from a Slurm array alone (its task count is
// N). With none of these it returns 0, 0: the whole run. from says where
// the shard came from, for the log.
func ResolveShard(flag string, shards int, getenv func(string) string) (i, n int, from string, err error) {
	if flag != "" {
		a, b, ok := strings.Cut(flag, "/")
		i, err1 := strconv.Atoi(a)
		n, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
			return 0, 0, "", fmt.Errorf("--shard %q: expected I/N with 0 <= I < N, e.g. 0/3", flag)
		}
		if n > limits.MaxShards {
			return 0, 0, "", fmt.Errorf("--shard %q: at most %d shards (--merge reads one manifest per shard)", flag, limits.MaxShards)
		}
		if shards != 0 && shards != n {
			return 0, 0, "", fmt.Errorf("--shard %s and --shards %d disagree", flag, shards)
		}
		return i, n, "--shard", nil
	}
	if shards < 0 {
		return 0, 0, "", fmt.Errorf("--shards %d: expected a count of at least 1", shards)
	}
	if shards > limits.MaxShards {
		return 0, 0, "", limits.Int("--shards", shards, limits.MaxShards, "--merge reads one manifest per shard")
	}
	index := func(name string) (int, bool, error) {
		v := getenv(name)
		if v == "" {
			return 0, false, nil
		}
		x, err := strconv.Atoi(v)
		if err != nil || x < 0 {
			return 0, false, fmt.Errorf("%s=%q: expected an index of 0 or more", name, v)
		}
		return x, true, nil
	}
	k, ok, err := index("JOB_COMPLETION_INDEX")
	if err != nil || (ok && shards > 0) {
		return check(k, shards, "JOB_COMPLETION_INDEX", err)
	}
	id, ok, err := index("SLURM_ARRAY_TASK_ID")
	if err != nil || !ok {
		if err == nil && shards > 0 {
			err = fmt.Errorf("--shards %d: which shard is this? give --shard I/%d, or run it as a Kubernetes Indexed Job (JOB_COMPLETION_INDEX) or a Slurm array", shards, shards)
		}
		return 0, 0, "", err
	}
	first, _, err := index("SLURM_ARRAY_TASK_MIN")
	if err != nil {
		return 0, 0, "", err
	}
	if shards == 0 {
		count, ok, err := index("SLURM_ARRAY_TASK_COUNT")
		if err != nil || !ok {
			return 0, 0, "", err // an array task without a count: not sharded
		}
		shards = count
	}
	return check(id-first, shards, fmt.Sprintf("SLURM_ARRAY_TASK_ID=%d (first %d)", id, first), nil)
}

func check(i, n int, from string, err error) (int, int, string, error) {
	if err != nil {
		return 0, 0, "", err
	}
	if n < 1 || i < 0 || i >= n {
		return 0, 0, "", fmt.Errorf("%s gives shard %d of %d: expected 0 <= index < %d", from, i, n, n)
	}
	if n > limits.MaxShards {
		return 0, 0, "", fmt.Errorf("%s gives %d shards: at most %d (--merge reads one manifest per shard)", from, n, limits.MaxShards)
	}
	return i, n, from, nil
}
