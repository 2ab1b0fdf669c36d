package torchbind

import "fmt"

// Precision is how float32 models compute: plain float32, TF32 tensor-core
// matrix products (CUDA), or bfloat16 autocast with float32 weights. A
// Runtime applies it (Settings, Runtime.Autocast).
type Precision string

// The precisions ludvae offers.
const (
	FP32 Precision = "fp32"
	TF32 Precision = "tf32"
	BF16 Precision = "bf16"
)

// ParsePrecision reads fp32, tf32 or bf16: the one check of a precision's
// name, which every command's --precision and every configuration that
// stores one goes through. Callers name their flag, as with CheckThreads.
func ParsePrecision(s string) (Precision, error) {
	switch p := Precision(s); p {
	case FP32, TF32, BF16:
		return p, nil
	}
	return "", fmt.Errorf("%q: expected fp32, tf32 or bf16", s)
}
