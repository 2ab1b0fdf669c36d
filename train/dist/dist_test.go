package dist

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ludvae/ludvae/internal/testkit"
	tb "github.com/ludvae/ludvae/torchbind"
)

func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestFromEnv(t *testing.T) {
	master := map[string]string{"MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "29500"}
	with := func(m map[string]string) map[string]string {
		out := map[string]string{}
		for _, src := range []map[string]string{master, m} {
			for k, v := range src {
				out[k] = v
			}
		}
		return out
	}
	cases := []struct {
		name string
		vars map[string]string
		ok   bool
		want string // Env.String(), or the error's start
	}{
		{"none", map[string]string{}, false, ""},
		{"slurm without a master", map[string]string{"SLURM_PROCID": "3", "SLURM_NTASKS": "4"}, false, ""},
		{"torchrun", with(map[string]string{"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"}), true,
			"rank 3 of 4 (local rank 1), store 10.0.0.1:29500 (from RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT)"},
		{"slurm", with(map[string]string{"SLURM_PROCID": "5", "SLURM_NTASKS": "8", "SLURM_LOCALID": "1"}), true,
			"rank 5 of 8 (local rank 1), store 10.0.0.1:29500 (from SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, MASTER_ADDR, MASTER_PORT)"},
		{"no master", map[string]string{"RANK": "0", "WORLD_SIZE": "2"}, true, "MASTER_ADDR is not set"},
		{"rank out of range", with(map[string]string{"RANK": "2", "WORLD_SIZE": "2"}), true, "RANK=2 is not a rank of WORLD_SIZE=2"},
		{"bad port", with(map[string]string{"RANK": "0", "WORLD_SIZE": "2", "MASTER_PORT": "x"}), true, `MASTER_PORT="x"`},
	}
	for _, c := range cases {
		e, ok, err := FromEnv(envOf(c.vars))
		got := e.String()
		if err != nil {
			got = err.Error()
		}
		if ok != c.ok || (c.ok && !strings.HasPrefix(got, c.want)) {
			t.Errorf("%s: ok %v, %q; want ok %v, %q", c.name, ok, got, c.ok, c.want)
		}
	}
	e, _, _ := FromEnv(envOf(with(map[string]string{"RANK": "1", "WORLD_SIZE": "2",
		"TORCHELASTIC_USE_AGENT_STORE": "True", "TORCHELASTIC_RESTART_COUNT": "2"})))
	if !e.AgentStore || e.Attempt != 2 || e.LocalWorld != 1 {
		t.Errorf("torchrun's agent store: %+v", e)
	}
	e, _, _ = FromEnv(envOf(with(map[string]string{"SLURM_PROCID": "1", "SLURM_NTASKS": "8", "SLURM_NTASKS_PER_NODE": "4"})))
	if e.LocalWorld != 4 {
		t.Errorf("SLURM_NTASKS_PER_NODE=4: local world %d", e.LocalWorld)
	}
}

// TestShare: every row of a global batch belongs to exactly one rank.
func TestShare(t *testing.T) {
	for world := 1; world <= 5; world++ {
		for n := world; n <= 17; n++ {
			next := 0
			for r := range world {
				lo, hi := Env{Rank: r, World: world}.Share(n)
				if lo != next || hi <= lo {
					t.Fatalf("n %d, world %d, rank %d: [%d, %d) after %d", n, world, r, lo, hi, next)
				}
				next = hi
			}
			if next != n {
				t.Fatalf("n %d, world %d: shares end at %d", n, world, next)
			}
		}
	}
}

// TestJoinUnreachable: a rank whose MASTER_ADDR:MASTER_PORT does not answer
// says so, with the variables it read, within the timeout.
func TestJoinUnreachable(t *testing.T) {
	port := testkit.FreePort(t)
	e, _, err := FromEnv(envOf(map[string]string{"RANK": "1", "WORLD_SIZE": "2",
		"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": fmt.Sprint(port)}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Join(context.Background(), e, "gloo", Rendezvous{Timeout: 2 * time.Second})
	if err == nil {
		t.Fatal("joined a group nobody hosts")
	}
	for _, s := range []string{"MASTER_ADDR:MASTER_PORT = 127.0.0.1:" + fmt.Sprint(port), "RANK", "WORLD_SIZE", "timed out"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q: %v", s, err)
		}
	}
}

// inGroup runs f as each of world ranks of one Gloo group, in this process.
func inGroup(t *testing.T, world int, f func(g *Group) error) []error {
	t.Helper()
	t.Setenv("GLOO_SOCKET_IFNAME", "lo")
	port := testkit.FreePort(t)
	errs := make([]error, world)
	var wg sync.WaitGroup
	for r := range world {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g, err := Join(context.Background(), Env{Rank: r, World: world, Addr: "127.0.0.1", Port: port}, "gloo", Rendezvous{Timeout: 30 * time.Second})
			if err != nil {
				errs[r] = err
				return
			}
			defer g.Close()
			errs[r] = f(g)
		}()
	}
	wg.Wait()
	return errs
}

// TestAllReduceFlat sums tensors of several shapes and layouts over three
// ranks through buckets small enough to need four calls.
func TestAllReduceFlat(t *testing.T) {
	shapes := [][]int64{{3, 2, 3, 3}, {7}, {2, 5}, {4, 4, 1, 1}, {1}}
	value := func(rank, tensor, i int) float32 { return float32(rank*1000 + tensor*100 + i) }
	errs := inGroup(t, 3, func(g *Group) error {
		var ts []*tb.Tensor
		for k, s := range shapes {
			n := 1
			for _, d := range s {
				n *= int(d)
			}
			v := make([]float32, n)
			for i := range v {
				v[i] = value(g.Env.Rank, k, i)
			}
			ts = append(ts, tb.FromSlice(v, s...))
		}
		defer tb.CloseAll(ts)
		if err := g.AllReduceFlat(ts, 80); err != nil {
			return err
		}
		for k, x := range ts {
			for i, got := range x.Float32s() {
				if want := value(0, k, i) + value(1, k, i) + value(2, k, i); got != want {
					return fmt.Errorf("tensor %d element %d: %v, want %v", k, i, got, want)
				}
			}
		}
		return nil
	})
	for r, err := range errs {
		if err != nil {
			t.Errorf("rank %d: %v", r, err)
		}
	}
}

// TestAgree: equal values pass on every rank; one rank's different value
// stops all of them.
func TestAgree(t *testing.T) {
	for _, odd := range []int{-1, 0, 2} {
		errs := inGroup(t, 3, func(g *Group) error {
			v := uint64(0xfeedface12345678)
			if g.Env.Rank == odd {
				v++
			}
			return g.Agree("test value", v)
		})
		for r, err := range errs {
			if (err != nil) != (odd >= 0) {
				t.Errorf("odd rank %d: rank %d returned %v", odd, r, err)
			}
		}
	}
}
