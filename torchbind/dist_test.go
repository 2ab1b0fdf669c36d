package torchbind

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ludvae/ludvae/internal/testkit"
)

// pyRank joins torch.distributed's default group with Python's own
// init_process_group (Gloo, env://), all-reduces [1,2,3,4]·(rank+1) +
// rank/4 in float32, broadcasts rank 1's float64 [rank, rank, rank],
// meets the barrier and prints both results as JSON.
const pyRank = `
import datetime, json, sys, torch, torch.distributed as dist
rank = int(sys.argv[1])
dist.init_process_group("gloo", init_method="env://", rank=rank, world_size=2,
                        timeout=datetime.timedelta(seconds=60))
t = torch.arange(1, 5, dtype=torch.float32) * (rank + 1) + rank / 4
dist.all_reduce(t)
b = torch.full((3,), float(rank), dtype=torch.float64)
dist.broadcast(b, src=1)
dist.barrier()
print(json.dumps({"sum": t.tolist(), "bcast": b.tolist()}))
dist.destroy_process_group()
`

// TestDistInteropWithPython: one Go rank and one Python torch.distributed
// rank in one Gloo group over one TCPStore, each side in turn hosting the
// store as rank 0. Both must see the same sum and rank 1's broadcast. The
// last case asks for torch 2.x's optional store barrier at the end of
// init_process_group (TORCH_DIST_INIT_BARRIER=1; torch 1.13 always has one).
func TestDistInteropWithPython(t *testing.T) {
	if gloo, _ := DistBackends(); !gloo {
		t.Fatal("the shim has no Gloo: install libgloo-dev (make deps) and rebuild the shim")
	}
	for _, c := range []struct {
		goRank  int
		barrier string
	}{{0, "0"}, {1, "0"}, {1, "1"}} {
		goRank := c.goRank
		t.Run("go-rank-"+strconv.Itoa(goRank)+"-init-barrier-"+c.barrier, func(t *testing.T) {
			port := testkit.FreePort(t)
			t.Setenv("GLOO_SOCKET_IFNAME", "lo")
			t.Setenv("TORCH_DIST_INIT_BARRIER", c.barrier)
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			py := exec.CommandContext(ctx, testkit.Python, "-c", pyRank, strconv.Itoa(1-goRank))
			// USE_LIBUV=0: torch 2.6's env:// asks for the libuv store by
			// default, which Debian 13's torch (built without libuv) refuses;
			// torch 1.13 ignores it.
			py.Env = append(os.Environ(), "MASTER_ADDR=127.0.0.1", "MASTER_PORT="+strconv.Itoa(port), "USE_LIBUV=0")
			var pyErr strings.Builder
			py.Stderr = &pyErr
			pyOut := make(chan []byte, 1)
			if err := startCollecting(py, pyOut); err != nil {
				t.Fatal(err)
			}

			g, err := NewProcessGroup(context.Background(), GroupOptions{Backend: "gloo", Host: "127.0.0.1", Port: port,
				Rank: goRank, World: 2, Timeout: 60 * time.Second})
			if err != nil {
				t.Fatalf("joining with Python: %v\npython: %s", err, pyErr.String())
			}
			defer g.Close()
			x := FromSlice([]float32{1, 2, 3, 4}).MulScalar(float64(goRank + 1)).AddScalar(float64(goRank) / 4)
			b := Full([]int64{3}, float64(goRank), Options{DType: Float64})
			for _, err := range []error{g.AllReduceSum(x), g.Broadcast(b, 1), g.Barrier()} {
				if err != nil {
					t.Fatalf("%v\npython: %s", err, pyErr.String())
				}
			}
			out := <-pyOut
			if err := py.Wait(); err != nil {
				t.Fatalf("python rank: %v\n%s", err, pyErr.String())
			}
			var got struct{ Sum, Bcast []float64 }
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("python's output %q: %v", out, err)
			}
			want := []float64{3.25, 6.25, 9.25, 12.25}
			if d := maxAbsDiff(convertFloats[float64](x.Float32s()), want); d != 0 {
				t.Errorf("Go rank's sum %v, want %v", x.Float32s(), want)
			}
			if d := maxAbsDiff(got.Sum, want); d != 0 {
				t.Errorf("Python rank's sum %v, want %v", got.Sum, want)
			}
			ones := []float64{1, 1, 1}
			if maxAbsDiff(b.Float64s(), ones) != 0 || maxAbsDiff(got.Bcast, ones) != 0 {
				t.Errorf("broadcast from rank 1: Go %v, Python %v, want %v", b.Float64s(), got.Bcast, ones)
			}
		})
	}
}

// startCollecting starts cmd and sends its whole standard output on out
// once it is closed.
func startCollecting(cmd *exec.Cmd, out chan<- []byte) error {
	r, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() {
		var buf strings.Builder
		_, _ = io.Copy(&buf, r)
		out <- []byte(buf.String())
	}()
	return nil
}

// TestDistUnreachable: a rank whose store does not answer fails within the
// timeout, with c10d's message, instead of hanging.
func TestDistUnreachable(t *testing.T) {
	port := testkit.FreePort(t)
	start := time.Now()
	_, err := NewProcessGroup(context.Background(), GroupOptions{Backend: "gloo", Host: "127.0.0.1", Port: port,
		Rank: 1, World: 2, Timeout: 2 * time.Second})
	if err == nil {
		t.Fatal("joining a group whose store is not there succeeded")
	}
	if el := time.Since(start); el > 30*time.Second {
		t.Errorf("took %v with a 2 s timeout", el)
	}
	t.Logf("%v (after %v)", err, time.Since(start))
}
