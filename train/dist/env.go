// Package dist joins ludvae to a torch.distributed job: it reads the
// launcher's environment (torchrun's, or Slurm's with MASTER_ADDR and
// MASTER_PORT), opens c10d's process group through torchbind (Gloo on the
// CPU, NCCL on CUDA) and provides what data-parallel training needs on top
// of it: each rank's share of a batch, a check that every rank runs the same
// configuration, and the gradient all-reduce.
package dist

import (
	"fmt"
	"strconv"
	"strings"
)

// Env is one rank's place in a job, as its launcher described it.
type Env struct {
	Rank, World, LocalRank int
	// LocalWorld is the number of ranks on this machine (torchrun's
	// LOCAL_WORLD_SIZE, Slurm's SLURM_NTASKS_PER_NODE), 1 when not said.
	LocalWorld int
	Addr       string // the rendezvous store's host (MASTER_ADDR)
	Port       int    // and port (MASTER_PORT)
	// AgentStore: torchrun's agent hosts the store (its static rendezvous
	// sets TORCHELASTIC_USE_AGENT_STORE), restart Attempt of the job.
	AgentStore bool
	Attempt    int
	// Vars names the variables the values came from, for messages.
	Vars []string
}

// FromEnv reads the launcher's variables through getenv (os.Getenv). ok is
// false when there are none: a plain single-process run. torchrun's RANK,
// WORLD_SIZE and LOCAL_RANK come first; otherwise Slurm's SLURM_PROCID,
// SLURM_NTASKS and SLURM_LOCALID count, but only with MASTER_ADDR and
// MASTER_PORT set, so that an ordinary job under Slurm is not distributed.
func FromEnv(getenv func(string) string) (e Env, ok bool, err error) {
	names := [4]string{"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"}
	switch {
	case getenv("RANK") != "" || getenv("WORLD_SIZE") != "":
	case getenv("SLURM_PROCID") != "" && (getenv("MASTER_ADDR") != "" || getenv("MASTER_PORT") != ""):
		names = [4]string{"SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE"}
	default:
		return Env{}, false, nil
	}
	e.Vars = append(names[:3:3], "MASTER_ADDR", "MASTER_PORT")
	r := reader{getenv: getenv}
	e.Rank = r.int(names[0], -1)
	e.World = r.int(names[1], -1)
	e.LocalRank = r.int(names[2], 0)
	// Only a thread-count hint: a value it cannot read counts as 1.
	if n, err := strconv.Atoi(getenv(names[3])); err == nil && n > 0 {
		e.LocalWorld = n
	} else {
		e.LocalWorld = 1
	}
	e.Addr = r.str("MASTER_ADDR")
	e.Port = r.int("MASTER_PORT", -1)
	e.AgentStore = getenv("TORCHELASTIC_USE_AGENT_STORE") == "True"
	e.Attempt = r.int("TORCHELASTIC_RESTART_COUNT", 0)
	if r.err != nil {
		return e, true, r.err
	}
	switch {
	case e.World < 1:
		return e, true, fmt.Errorf("%s=%d: a job needs at least one rank", names[1], e.World)
	case e.Rank < 0 || e.Rank >= e.World:
		return e, true, fmt.Errorf("%s=%d is not a rank of %s=%d", names[0], e.Rank, names[1], e.World)
	case e.Port < 1 || e.Port > 65535:
		return e, true, fmt.Errorf("MASTER_PORT=%d is not a TCP port", e.Port)
	}
	return e, true, nil
}

// reader reads variables, keeping the first error.
type reader struct {
	getenv func(string) string
	err    error
}

// str returns a required variable.
func (r *reader) str(name string) string {
	v := r.getenv(name)
	if v == "" && r.err == nil {
		r.err = fmt.Errorf("%s is not set: a distributed run needs the rendezvous store's address in MASTER_ADDR and MASTER_PORT", name)
	}
	return v
}

// int returns an integer variable; def < 0 makes it required.
func (r *reader) int(name string, def int) int {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		if def < 0 {
			r.str(name)
		}
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("%s=%q: expected an integer", name, v)
	}
	return n
}

// Share is the rows [lo, hi) of a global batch of n that this rank takes:
// consecutive, their sizes differing by at most one. Every row of the
// global batch belongs to exactly one rank.
func (e Env) Share(n int) (lo, hi int) {
	return n * e.Rank / e.World, n * (e.Rank + 1) / e.World
}

// String says where the rank stands and which variables said so.
func (e Env) String() string {
	return fmt.Sprintf("rank %d of %d (local rank %d), store %s:%d (from %s)",
		e.Rank, e.World, e.LocalRank, e.Addr, e.Port, strings.Join(e.Vars, ", "))
}
