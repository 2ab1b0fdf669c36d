package testkit

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ONNXRuntime is where `make deps` installs onnxruntime-node (npm, with
// --ignore-scripts: the package bundles the CPU runtime), the independent
// runtime that runs the exported ONNX files in the tests.
const ONNXRuntime = "build/onnxruntime/node_modules"

// RunONNX runs the ONNX model at path runs times on one input (float32
// NCHW of the given shape) with onnxruntime-node on the CPU and returns the
// first output of each run. It fails the test (never skips) when Node or
// the runtime is missing: `make deps` installs both.
func RunONNX(t testing.TB, path string, input []float32, shape [4]int, runs int) [][]float32 {
	t.Helper()
	mods := filepath.Join(Root(), ONNXRuntime)
	if _, err := os.Stat(filepath.Join(mods, "onnxruntime-node")); err != nil {
		t.Fatalf("this test needs onnxruntime-node in %s (`make deps` installs it with npm): %v", mods, err)
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.f32"), filepath.Join(dir, "out.f32")
	b := make([]byte, 4*len(input))
	for i, v := range input {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{filepath.Join(Root(), "internal", "testkit", "onnxrun.js"), path, in}
	for _, d := range shape {
		args = append(args, fmt.Sprint(d))
	}
	cmd := exec.Command("node", append(args, fmt.Sprint(runs), out)...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+mods)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node onnxrun.js %s (Node and onnxruntime-node: `make deps`): %v\n%s", path, err, msg)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	n := len(raw) / 4 / runs
	res := make([][]float32, runs)
	for r := range res {
		res[r] = make([]float32, n)
		for i := range res[r] {
			res[r][i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*(r*n+i):]))
		}
	}
	return res
}

// CheckONNX runs onnx.checker.check_model with full_check (Debian's
// python3-onnx) on the file at path and returns the opset and IR version
// it reports.
func CheckONNX(t testing.TB, path string) string {
	t.Helper()
	Require(t, "onnx")
	return strings.TrimSpace(RunPython(t, `
import sys, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
print("opset %d ir %d onnx %s" % (m.opset_import[0].version, m.ir_version, onnx.__version__))
`, path))
}
