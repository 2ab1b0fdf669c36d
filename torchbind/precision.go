package torchbind

// #include "ludvae.h"
import "C"

import (
	"fmt"
	"runtime"
)

// Precision is how float32 models compute: plain float32, TF32 tensor-core
// matrix products (CUDA), or bfloat16 autocast with float32 weights.
type Precision string

// The precisions ludvae offers.
const (
	FP32 Precision = "fp32"
	TF32 Precision = "tf32"
	BF16 Precision = "bf16"
)

// ParsePrecision reads fp32, tf32 or bf16.
func ParsePrecision(s string) (Precision, error) {
	switch p := Precision(s); p {
	case FP32, TF32, BF16:
		return p, nil
	}
	return "", fmt.Errorf("precision %q: expected fp32, tf32 or bf16", s)
}

// WithPrecision runs f with p in force on device d: TF32 allowed for tf32 and
// bf16 (libtorch's cuDNN default allows it, so fp32 turns it off), and for
// bf16 autocast on d's device type, which runs convolutions in bfloat16 while
// the weights, gradients and optimizer stay float32. Autocast belongs to the
// OS thread, so f runs with its goroutine pinned.
func WithPrecision(p Precision, d Device, f func()) {
	C.lv_set_tf32(cbool(p != FP32))
	if p != BF16 {
		f()
		return
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var prev C.int
	check("autocast", C.lv_set_autocast(C.int(d.Type), 1, C.int(BFloat16), &prev))
	defer func() { check("autocast", C.lv_set_autocast(C.int(d.Type), prev, C.int(BFloat16), nil)) }()
	f()
}
