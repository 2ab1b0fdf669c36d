package torchbind

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestScriptModuleForPython builds a module with a parameter and a buffer
// in Go, saves it, and has Python's torch.jit.load run it.
func TestScriptModuleForPython(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "m.pt")
	var want []float64
	mustTry(t, func() {
		m := NewScriptModule("__torch__.ludvae.test.Top")
		defer m.Close()
		m.RegisterParameter("k", FromSlice([]float32{2, 3}, 1, 2, 1, 1))
		m.RegisterBuffer("offset", FromSlice([]float32{0.5}))
		m.Define(`
def forward(self, x, s: float = 1.0):
    return x * self.k + self.offset * s
`)
		if err := m.Save(path); err != nil {
			t.Fatal(err)
		}
		x := Arange(8, Options{}).Reshape(1, 2, 2, 2)
		want = m.Call("forward", []*Tensor{x}, 3).Float64s()
		// loading it back in Go gives the same numbers
		back, err := LoadScriptModule(path, CPU)
		if err != nil {
			t.Fatal(err)
		}
		defer back.Close()
		if d := maxAbsDiff(back.Call("forward", []*Tensor{x}, 3).Float64s(), want); d != 0 {
			t.Fatalf("reloaded module differs by %g", d)
		}
	})
	out := runPython(t, `
import sys, torch
m = torch.jit.load(sys.argv[1])
y = m(torch.arange(8.).reshape(1, 2, 2, 2), 3.0)
print(" ".join(repr(v) for v in y.flatten().tolist()))
print(sorted(n for n, _ in m.named_parameters()), sorted(n for n, _ in m.named_buffers()))
`, path)
	lines := strings.Split(out, "\n")
	var got []float64
	for _, f := range strings.Fields(lines[0]) {
		v, _ := strconv.ParseFloat(f, 64)
		got = append(got, v)
	}
	// x·k + 0.5·3 with k = (2, 3) per channel
	expect := []float64{1.5, 3.5, 5.5, 7.5, 13.5, 16.5, 19.5, 22.5}
	if maxAbsDiff(got, expect) != 0 || maxAbsDiff(want, expect) != 0 {
		t.Fatalf("python got %v, go %v, want %v", got, want, expect)
	}
	if lines[1] != "['k'] ['offset']" {
		t.Fatalf("python sees parameters/buffers %s", lines[1])
	}
}

func TestScriptModuleErrors(t *testing.T) {
	t.Parallel()
	err := Try(func() {
		m := NewScriptModule("__torch__.ludvae.test.Bad")
		defer m.Close()
		m.Define("def forward(self, x):\n    return x +\n")
	})
	if err == nil {
		t.Fatal("syntax error accepted")
	}
	err = Try(func() {
		m := NewScriptModule("__torch__.ludvae.test.NoMethod")
		defer m.Close()
		m.Call("forward", nil)
	})
	if err == nil || !strings.Contains(fmt.Sprint(err), "forward") {
		t.Fatalf("calling a missing method: %v", err)
	}
}
