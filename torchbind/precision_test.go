package torchbind

import "testing"

// TestAutocastBF16 checks that a bf16 runtime's Autocast really runs
// convolutions in bfloat16, that the thread's state is restored afterwards,
// and that an fp32 runtime's Autocast leaves float32 alone.
func TestAutocastBF16(t *testing.T) {
	t.Parallel()
	conv := func(rt *Runtime, autocast bool) (d DType) {
		err := rt.Do(func() error {
			WithScope(func(*Scope) {
				x := Ones([]int64{1, 2, 5, 5}, Options{})
				w := Ones([]int64{3, 2, 3, 3}, Options{})
				if !autocast {
					d = Conv2d(x, w, nil, Conv2dOptions{}).DType()
					return
				}
				rt.Autocast(func() { d = Conv2d(x, w, nil, Conv2dOptions{}).DType() })
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	bf16, err := NewRuntime(Settings{Precision: BF16})
	if err != nil {
		t.Fatal(err)
	}
	defer bf16.Close()
	fp32, err := NewRuntime(Settings{})
	if err != nil {
		t.Fatal(err)
	}
	defer fp32.Close()
	if d := conv(bf16, true); d != BFloat16 {
		t.Fatalf("conv2d under bf16 autocast gave %v", d)
	}
	if d := conv(bf16, false); d != Float32 {
		t.Fatalf("conv2d after autocast gave %v", d)
	}
	if d := conv(fp32, true); d != Float32 {
		t.Fatalf("fp32 gave %v", d)
	}
	for _, s := range []string{"fp32", "tf32", "bf16"} {
		if _, err := ParsePrecision(s); err != nil {
			t.Error(err)
		}
	}
	if _, err := ParsePrecision("fp8"); err == nil {
		t.Error("fp8 accepted")
	}
	if _, err := NewRuntime(Settings{Precision: "fp8"}); err == nil {
		t.Error("a runtime in fp8 started")
	}
}
