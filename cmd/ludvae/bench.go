package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ludvae/ludvae/internal/images"
	"github.com/ludvae/ludvae/internal/layout"
	"github.com/ludvae/ludvae/internal/limits"
	"github.com/ludvae/ludvae/model"
	"github.com/ludvae/ludvae/synth"
	tb "github.com/ludvae/ludvae/torchbind"
	"github.com/ludvae/ludvae/train"
)

// benchResult is the one JSON line `ludvae bench` prints; model/python/
// bench_eager.py prints the same fields for PyTorch eager.
type benchResult struct {
	Impl  string  `json:"impl"`
	Task  string  `json:"task"`
	MsPer float64 `json:"ms_per_iter"`
	// the process's CPU time (user and system, all threads) per timed
	// iteration: on cores shared with other jobs it varies less than the
	// wall time (libtorch's OpenMP threads also spin while waiting:
	// OMP_WAIT_POLICY=PASSIVE leaves the work alone)
	CPUMsPer float64 `json:"cpu_ms_per_iter"`
	ImagesPS float64 `json:"images_per_s"`
	PeakMiB  float64 `json:"peak_mib"`
	Device   string  `json:"device"`
	DType    string  `json:"dtype"`
	Filters  int     `json:"filters"`
	Levels   int     `json:"levels"`
	Batch    int     `json:"batch"`
	Size     int     `json:"size"`
	Iters    int     `json:"iters"`
	Layout   string  `json:"layout"`
	// the layout's timings when --layout auto timed both now or before
	// (the layout cache); 0 when forced or on CUDA
	LayoutNCHWMs float64 `json:"layout_nchw_ms,omitempty"`
	LayoutNHWCMs float64 `json:"layout_nhwc_ms,omitempty"`
	LayoutBlkMs  float64 `json:"layout_blocked_ms,omitempty"`
	CPU          string  `json:"cpu"`            // /proc/cpuinfo's model name
	CPUCap       string  `json:"cpu_capability"` // libtorch's kernels' instruction set
	CPUFlags     string  `json:"cpu_flags"`      // the CPU's vector extensions
	// oneDNN: whether CPU convolutions ran through it (tb.OneDNN), and the
	// instruction set the environment capped it at (ONEDNN_MAX_CPU_ISA or
	// DNNL_MAX_CPU_ISA; "" when not capped), which changes its kernels
	// without changing cpu_capability
	OneDNN       bool   `json:"onednn"`
	OneDNNMaxISA string `json:"onednn_max_cpu_isa,omitempty"`
	Graphs       bool   `json:"cuda_graphs"`
	Threads      int    `json:"threads"`
	Libtorch     string `json:"libtorch"`
}

func runBench(args []string) error { return bench(args, os.Stdout) }

func bench(args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "data" {
		return benchData(args[1:], stdout)
	}
	fs := newFlagSet("bench")
	filters := fs.Int("filters", model.Default.Filters, "feature width")
	levels := fs.Int("levels", model.Default.Levels, "ladder levels")
	batch := fs.Int("batch", 0, "batch size (default: 4 for train, 1 for synth)")
	size := fs.Int("size", 0, "crop/image size (default: 32 for train, 256 for synth)")
	iters := fs.Int("iters", 20, "timed iterations")
	warmup := fs.Int("warmup", 3, "untimed iterations first")
	device, threads, precision := new("auto"), new(0), new(string(tb.FP32))
	deviceFlag(fs, device)
	threadsFlag(fs, threads)
	precisionFlag(fs, precision)
	// checked after the counts, as bench always did
	lay := fs.String("layout", string(layout.Auto), layout.Flag)
	graphs := fs.Bool("cuda-graphs", true, "train on CUDA: replay the step as a CUDA graph, as train does (false: op by op)")
	tile := fs.Int("tile", synth.DefaultTile, "synth: tile size in pixels, as ludvae synth --tile (0 = whole images)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: ludvae bench train|synth [flags] (ludvae bench data --help: the training loader)\n\nPrints one JSON line: ms per training step (train) or per synthesized image (synth).")
		fs.PrintDefaults()
	}
	if err := parseFlagsArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || (fs.Arg(0) != "train" && fs.Arg(0) != "synth") {
		fs.Usage()
		return errors.New("expected train or synth")
	}
	if err := checkBenchFlags(*filters, *levels, *batch, *size, *iters, *warmup, *tile); err != nil {
		return err
	}
	task := fs.Arg(0)
	if *batch == 0 {
		*batch = map[string]int{"train": 4, "synth": 1}[task]
	}
	if *size == 0 {
		*size = map[string]int{"train": 32, "synth": 256}[task]
	}
	want, err := layout.Parse("--layout", *lay)
	if err != nil {
		return err
	}
	set, err := tb.ParseSettings(*device, *threads, *precision)
	if err != nil {
		return err
	}
	set.CuDNNBenchmark = set.Device.IsCUDA() && task == "train" // as train's and synth's runtimes have it
	rt, err := tb.NewRuntime(set)
	if err != nil {
		return err
	}
	defer rt.Close()
	dev, prec := set.Device, set.Precision
	return rt.Do(func() error {
		m, err := model.New(model.Config{Channels: 3, Filters: *filters, Levels: *levels}, tb.Options{Device: dev}, 1)
		if err != nil {
			return err
		}
		defer m.Close()
		n, s := int64(*batch), int64(*size)
		var step func(i int) error
		var chosen layout.Choice
		usedGraphs := false
		var opt *tb.Adam
		defer func() {
			if opt != nil {
				opt.Close()
			}
		}()
		if task == "train" {
			// the trainer's own step, on random crops, half of them degraded,
			// in the layout train would choose
			cfg := train.Defaults()
			cfg.Batch, cfg.Patch, cfg.Precision, cfg.Filters, cfg.Levels = *batch, *size, string(prec), *filters, *levels
			cfg.CUDAGraphs = *graphs
			if chosen, err = train.ChooseLayout(rt, &cfg, want, os.Stderr); err != nil {
				return err
			}
			if err := m.ToLayout(chosen.Layout); err != nil {
				return err
			}
			opt = tb.NewAdam(m.Tensors(), tb.DefaultAdam)
			st, err := train.NewStepper(rt, m, opt, &cfg, os.Stderr)
			if err != nil {
				return err
			}
			defer st.Close()
			usedGraphs = st.Graphs()
			rng := rand.New(rand.NewPCG(1, 2))
			b := train.Batch{Patch: int(s), Pix: make([]float32, n*3*s*s), Degraded: make([]bool, n)}
			for i := range b.Degraded {
				b.Degraded[i] = i%2 == 0
			}
			step = func(i int) error {
				for j := range b.Pix {
					b.Pix[j] = rng.Float32()
				}
				b.Step = i + 1
				_, err := st.Step(b)
				return err
			}
		} else {
			// synth's own path for each image: upload, tiles, download
			o := synth.Defaults()
			o.Tile, o.Precision, o.Layout = *tile, string(prec), string(want)
			if chosen, err = o.ChooseLayout(context.Background(), rt, m, timedSide(*size, *tile, *levels), os.Stderr); err != nil {
				return err
			}
			rng := rand.New(rand.NewPCG(1, 2))
			img := &images.Image{W: int(s), H: int(s), Pix: make([]float32, 3*s*s)}
			for j := range img.Pix {
				img.Pix[j] = rng.Float32()
			}
			step = func(i int) error {
				for b := range n {
					rec := synth.Record{Sigma: 50, Temperature: 1, Seed: 1, Stream: uint64(i)*uint64(n) + uint64(b)}
					if _, err := o.Translate(context.Background(), rt, m, img, rec); err != nil {
						return err
					}
				}
				return nil
			}
		}
		for i := 0; i < *warmup; i++ {
			if err := step(i); err != nil {
				return err
			}
		}
		if dev.IsCUDA() {
			tb.ResetCUDAPeak(dev)
		}
		tb.Synchronize(dev)
		cpu0 := cpuTime()
		start := time.Now()
		for i := 0; i < *iters; i++ {
			if err := step(*warmup + i); err != nil {
				return err
			}
		}
		tb.Synchronize(dev)
		el := time.Since(start).Seconds()
		cpuMs := float64(cpuTime()-cpu0) / float64(time.Millisecond) / float64(*iters)
		r := benchResult{Impl: "ludvae", Task: task, MsPer: 1000 * el / float64(*iters), CPUMsPer: cpuMs, ImagesPS: float64(*iters*(*batch)) / el,
			Device: dev.String(), DType: string(prec), Filters: *filters, Levels: *levels, Batch: *batch, Size: *size,
			Iters: *iters, Layout: string(chosen.Layout), LayoutNCHWMs: chosen.NCHWMs, LayoutNHWCMs: chosen.NHWCMs, LayoutBlkMs: chosen.BlockedMs,
			CPU: layout.CPUModel(), CPUCap: tb.CPUCapability(), CPUFlags: layout.CPUFlags(),
			OneDNN: tb.OneDNN(), OneDNNMaxISA: oneDNNMaxISA(),
			Graphs: usedGraphs, Threads: tb.NumThreads(), Libtorch: tb.LibtorchVersion()}
		if dev.IsCUDA() {
			_, peak := tb.CUDAMemory(dev)
			r.PeakMiB = float64(peak) / (1 << 20)
		} else {
			r.PeakMiB = peakRSSMiB()
		}
		return json.NewEncoder(stdout).Encode(r)
	})
}

// timedSide is the image side bench synth's layout is timed on: the
// benchmark's image, or one tile of it with its margins.
func timedSide(size, tile, levels int) int {
	if tile > 0 && tile+2*synth.Margin(levels) < size {
		return tile + 2*synth.Margin(levels)
	}
	return size
}

// checkBenchFlags names the first unusable count, before any model is built.
func checkBenchFlags(filters, levels, batch, size, iters, warmup, tile int) error {
	switch {
	case batch < 0:
		return fmt.Errorf("--batch %d: expected 0 (the task's default) or a positive count", batch)
	case size != 0 && size < 8:
		return fmt.Errorf("--size %d: expected 0 (the task's default) or at least 8 pixels", size)
	case iters < 1:
		return fmt.Errorf("--iters %d: time at least one iteration", iters)
	case warmup < 0:
		return fmt.Errorf("--warmup %d: must not be negative", warmup)
	case tile < 0:
		return fmt.Errorf("--tile %d: must not be negative (0 = whole images)", tile)
	case filters < 1 || filters > limits.MaxFilters:
		return fmt.Errorf("--filters %d: expected 1 to %d (weights grow with its square; the paper uses 64)", filters, limits.MaxFilters)
	case levels < 1 || levels > model.MaxLevels:
		return fmt.Errorf("--levels %d: supported are 1 to %d", levels, model.MaxLevels)
	}
	if err := limits.Int("--size", size, limits.MaxSide, fmt.Sprintf("images are at most %d pixels, %d²", limits.MaxPixels, limits.MaxSide)); err != nil {
		return err
	}
	if err := limits.Int("--batch", batch, limits.MaxBatch, "crops or images per iteration"); err != nil {
		return err
	}
	if err := limits.Int("--tile", tile, limits.MaxSide, "a tile is at most a whole image"); err != nil {
		return err
	}
	// The largest allocations: the batch of crops or the image itself (Go
	// slices), and the first feature map of the network.
	return limits.Tensor(fmt.Sprintf("--batch %d × --filters %d × --size %d²", max(batch, 1), filters, size),
		float64(max(batch, 1))*float64(filters)*float64(size)*float64(size))
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSSMiB is the process's peak resident memory (VmHWM).
func peakRSSMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// oneDNNMaxISA is the instruction set the environment caps oneDNN at:
// ONEDNN_MAX_CPU_ISA, or DNNL_MAX_CPU_ISA, which oneDNN reads when the
// first is unset; "" when neither is set.
func oneDNNMaxISA() string {
	if v := os.Getenv("ONEDNN_MAX_CPU_ISA"); v != "" {
		return v
	}
	return os.Getenv("DNNL_MAX_CPU_ISA")
}
