package torchbind

import (
	"testing"
	"time"
)

// Benchmarks of the fused kernels against the composite formulas built from
// ordinary ops, on the CPU, forward + backward, 16×128×64×64 float32 (one
// LUD-VAE latent of a training batch). libtorch uses one thread per CPU.
//
//	go test -run '^$' -bench 'Reparam|KL' -benchtime 20x ./torchbind/
//
// BenchmarkReparamRatio and BenchmarkKLRatio time both versions in the same
// loop and report composite/fused as "speedup".

var benchShape = []int64{16, 128, 64, 64}

type kernelBench struct {
	ins  []*Tensor // leaves that require grad
	mask *Tensor   // [16]: 12 degraded, 4 clean, as a mixed batch
	grad *Tensor   // upstream gradient of the sample
}

func newKernelBench(b *testing.B, leaves int) *kernelBench {
	k := &kernelBench{}
	if err := Try(func() {
		g := NewGenerator(1, CPU)
		defer g.Close()
		for i := 0; i < leaves; i++ {
			scale := 1.0
			if i%2 == 1 {
				scale = 0.3 // log-sigmas
			}
			k.ins = append(k.ins, Randn(benchShape, Options{}, g).MulScalar(scale).Persist().SetRequiresGrad(true))
		}
		m := make([]float32, benchShape[0])
		for i := range m {
			if i%4 != 3 {
				m[i] = 1
			}
		}
		k.mask = FromSlice(m).Persist()
		k.grad = Randn(benchShape, Options{}, g).Persist()
	}); err != nil {
		b.Fatal(err)
	}
	return k
}

func (k *kernelBench) close() {
	for _, t := range append(k.ins, k.mask, k.grad) {
		t.Close()
	}
}

// step runs f in a scope and drops the leaves' gradients.
func (k *kernelBench) step(b *testing.B, f func()) {
	WithScope(func(*Scope) {
		if err := Try(f); err != nil {
			b.Fatal(err)
		}
		for _, t := range k.ins {
			t.ZeroGrad()
		}
	})
}

func (k *kernelBench) reparamFused() {
	z := Reparameterize(k.ins[0], k.ins[1], k.mask, nil, NoiseKey{Seed: 1, Stream: 3})
	z.BackwardWith(k.grad, false)
}

func (k *kernelBench) reparamComposite() {
	eps := Randn(benchShape, Options{}, nil)
	z := k.ins[0].Add(k.ins[1].Exp().Mul(eps)).Mul(k.mask.Reshape(benchShape[0], 1, 1, 1))
	z.BackwardWith(k.grad, false)
}

func (k *kernelBench) klFused() {
	total, _ := GaussianKL(k.ins[0], k.ins[1], k.ins[2], k.ins[3], k.mask)
	total.Backward()
}

func (k *kernelBench) klComposite() {
	total, _ := compositeKL(k.ins[0], k.ins[1], k.ins[2], k.ins[3], k.mask)
	total.Backward()
}

// runKernelBench times f on a runtime with all CPUs.
func runKernelBench(b *testing.B, leaves int, f func(k *kernelBench)) {
	inRuntime(b, Settings{}, func() { timeKernel(b, leaves, f) })
}

func timeKernel(b *testing.B, leaves int, f func(k *kernelBench)) {
	k := newKernelBench(b, leaves)
	defer k.close()
	k.step(b, func() { f(k) }) // warm-up
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k.step(b, func() { f(k) })
	}
}

func BenchmarkReparamFused(b *testing.B) {
	runKernelBench(b, 2, (*kernelBench).reparamFused)
}

func BenchmarkReparamComposite(b *testing.B) {
	runKernelBench(b, 2, (*kernelBench).reparamComposite)
}

func BenchmarkKLFused(b *testing.B) {
	runKernelBench(b, 4, (*kernelBench).klFused)
}

func BenchmarkKLComposite(b *testing.B) {
	runKernelBench(b, 4, (*kernelBench).klComposite)
}

// runRatio alternates the fused and composite versions (so that both see
// the same machine state) on a runtime with all CPUs, and reports their
// times and composite/fused.
func runRatio(b *testing.B, leaves int, fused, composite func(k *kernelBench)) {
	inRuntime(b, Settings{}, func() { timeRatio(b, leaves, fused, composite) })
}

func timeRatio(b *testing.B, leaves int, fused, composite func(k *kernelBench)) {
	k := newKernelBench(b, leaves)
	defer k.close()
	k.step(b, func() { fused(k) })
	k.step(b, func() { composite(k) })
	var tf, tc time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		k.step(b, func() { fused(k) })
		t1 := time.Now()
		k.step(b, func() { composite(k) })
		tf, tc = tf+t1.Sub(t0), tc+time.Since(t1)
	}
	b.ReportMetric(float64(tf.Milliseconds())/float64(b.N), "fused-ms/op")
	b.ReportMetric(float64(tc.Milliseconds())/float64(b.N), "composite-ms/op")
	b.ReportMetric(float64(tc)/float64(tf), "speedup")
	b.Logf("%d threads: fused %v/op, composite %v/op, composite/fused = %.2f",
		NumThreads(), tf/time.Duration(b.N), tc/time.Duration(b.N), float64(tc)/float64(tf))
}

func BenchmarkReparamRatio(b *testing.B) {
	runRatio(b, 2, (*kernelBench).reparamFused, (*kernelBench).reparamComposite)
}

func BenchmarkKLRatio(b *testing.B) {
	runRatio(b, 4, (*kernelBench).klFused, (*kernelBench).klComposite)
}
