package torchbind

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Each case provokes a libtorch (or binding) error; the test process must
// survive and get libtorch's message back as an error.
func TestErrorsComeBackAsErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		f    func()
		want string // a fragment of the expected message
	}{
		{"shape mismatch", func() {
			Ones([]int64{2, 3}, Options{}).Add(Ones([]int64{4, 5}, Options{}))
		}, "must match the size"},
		{"conv channels", func() {
			Conv2d(Ones([]int64{1, 3, 8, 8}, Options{}), Ones([]int64{4, 5, 3, 3}, Options{}), nil, Conv2dOptions{})
		}, "channels"},
		{"wrong dtype", func() {
			Conv2d(Ones([]int64{1, 3, 8, 8}, Options{DType: Int64}), Ones([]int64{4, 3, 3, 3}, Options{}), nil, Conv2dOptions{})
		}, "type"},
		{"values of other dtype", func() {
			Values[float32](Ones([]int64{2}, Options{DType: Float64}))
		}, "asked for float32"},
		{"cuda absent", func() {
			if CUDADeviceCount() > 0 {
				panic(&Error{Msg: "CUDA present; cuda:99 is still absent"})
			}
			Zeros([]int64{2}, Options{Device: CUDA(0)})
		}, "CUDA"},
		{"mse shapes", func() {
			MSELoss(Ones([]int64{2}, Options{}), Ones([]int64{3}, Options{}), ReduceMean)
		}, "differs from target shape"},
		{"use after close", func() {
			x := Ones([]int64{2}, Options{})
			x.Close()
			x.Sum()
		}, "closed tensor"},
		{"nil tensor", func() { var x *Tensor; x.Shape() }, "undefined (nil) tensor"},
		{"fill too few values", func() { FromSlice([]float32{1, 2, 3}, 2, 2) }, "do not fill shape"},
		{"item of many", func() { Ones([]int64{3}, Options{}).Item() }, "cannot be converted to Scalar"},
		{"backward without grad", func() { Ones([]int64{1}, Options{}).Sum().Backward() }, "does not require grad"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			WithScope(func(*Scope) { err = Try(c.f) })
			if err == nil {
				t.Fatal("no error")
			}
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("error %T is not a *torchbind.Error", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

func TestCUDADeviceParsing(t *testing.T) {
	t.Parallel()
	if _, err := ParseDevice("cuda:99"); err == nil || !strings.Contains(err.Error(), "CUDA device") {
		t.Fatalf("cuda:99: %v", err)
	}
	if _, err := ParseDevice("tpu"); err == nil {
		t.Fatal("tpu accepted")
	}
	d, err := ParseDevice("auto")
	if err != nil || (CUDADeviceCount() == 0 && d != CPU) {
		t.Fatalf("auto: %v %v", d, err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "nope.pth")
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("missing file error %v does not name %s", err, p)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file error %v is not os.ErrNotExist", err)
	}
	if _, err := LoadScriptModule(p, CPU); err == nil {
		t.Fatal("loading a missing script module succeeded")
	}
}

func TestTryPassesOtherPanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if r := recover(); r != "boom" {
			t.Fatalf("recovered %v, want the original panic", r)
		}
	}()
	_ = Try(func() { panic("boom") })
}

// TestErrorUnwraps: an *Error keeps the Go error it was raised for, and Do
// returns a body's own error as it is, so errors.Is sees the cause through
// both.
func TestErrorUnwraps(t *testing.T) {
	t.Parallel()
	cause := fmt.Errorf("open x.pth: %w", os.ErrNotExist)
	err := fmt.Errorf("load: %w", Try(func() { panic(&Error{Op: "load", Err: cause}) }))
	if !errors.Is(err, os.ErrNotExist) || !IsError(err) {
		t.Fatalf("%v: not os.ErrNotExist through *Error", err)
	}
	if want := "load: torch: load: open x.pth: file does not exist"; err.Error() != want {
		t.Fatalf("message %q, want %q", err, want)
	}
	if err := Do(func() error { return cause }); err != cause {
		t.Fatalf("Do returned %v, want the body's error itself", err)
	}
	err = Do(func() error {
		Ones([]int64{2}, Options{}).Add(Ones([]int64{3}, Options{}))
		return cause
	})
	if !IsError(err) || errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Do returned %v, want the operation's *Error", err)
	}
}
