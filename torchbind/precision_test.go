package torchbind

import "testing"

// TestAutocastBF16 checks that bf16 precision really runs convolutions in
// bfloat16 (autocast) and that the state is restored afterwards.
func TestAutocastBF16(t *testing.T) {
	WithScope(func(*Scope) {
		mustTry(t, func() {
			x := Ones([]int64{1, 2, 5, 5}, Options{})
			w := Ones([]int64{3, 2, 3, 3}, Options{})
			var inside DType
			WithPrecision(BF16, CPU, func() { inside = Conv2d(x, w, nil, Conv2dOptions{}).DType() })
			if inside != BFloat16 {
				t.Fatalf("conv2d under bf16 autocast gave %v", inside)
			}
			if after := Conv2d(x, w, nil, Conv2dOptions{}).DType(); after != Float32 {
				t.Fatalf("conv2d after autocast gave %v", after)
			}
			WithPrecision(FP32, CPU, func() {
				if d := Conv2d(x, w, nil, Conv2dOptions{}).DType(); d != Float32 {
					t.Fatalf("fp32 gave %v", d)
				}
			})
		})
	})
	for _, s := range []string{"fp32", "tf32", "bf16"} {
		if _, err := ParsePrecision(s); err != nil {
			t.Error(err)
		}
	}
	if _, err := ParsePrecision("fp8"); err == nil {
		t.Error("fp8 accepted")
	}
}
