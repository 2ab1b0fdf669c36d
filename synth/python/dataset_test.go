// Package python_test runs the Python tests of synth/python (the
// LudvaeC2NDataset that wraps ludvae's exported TorchScript generator) as
// part of `go test ./...`. The folder holds no Go package of its own.
package python_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ludvae/ludvae/internal/testkit"
	"github.com/ludvae/ludvae/model"
)

// makeGenerator is a stand-in for `ludvae export --torchscript` that needs
// no ludvae model: a scripted module with the exported generator's
// signature, forward(clean [N,3,H,W] in [0,1], sigma [N] on 0–255,
// temperature=1.0), returning clean + sigma/255·temperature·randn.
// TorchScript compiles from source files, so it runs from a .py file.
const makeGenerator = `import sys, torch

class FakeGenerator(torch.nn.Module):
    def forward(self, clean: torch.Tensor, sigma: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        s = sigma.to(device=clean.device, dtype=clean.dtype).reshape(-1, 1, 1, 1) / 255.0
        return clean + torch.randn_like(clean) * s * temperature

torch.jit.script(FakeGenerator()).save(sys.argv[1])
`

// python runs testkit.Python with args (no .pyc files written into the tree)
// and returns its combined output, failing the test on a non-zero exit.
func python(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testkit.Python, append([]string{"-B"}, args...)...)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", testkit.Python, strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// requireTorch fails (never skips) unless Python imports torch.
func requireTorch(t *testing.T) {
	t.Helper()
	testkit.Require(t, "torch")
}

// TestLudvaeDataset runs test_ludvae_dataset.py against a fake generator,
// with Pillow and as if it were missing: shapes, value ranges, the drawn
// sigma's effect on the noise, temperature, determinism under
// torch.manual_seed, SR (scale 4) pairing, KAIR's augmentations against
// testdata/reference, the pure-Python PNG decoder, DataLoader batches with
// 0 and 2 workers, and error messages.
func TestLudvaeDataset(t *testing.T) {
	requireTorch(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "make_generator.py")
	if err := os.WriteFile(script, []byte(makeGenerator), 0o644); err != nil {
		t.Fatal(err)
	}
	gen := filepath.Join(dir, "generator.pt")
	python(t, script, gen)
	for _, c := range []struct {
		name  string
		flags []string
	}{
		{"pillow", nil},
		{"no-pillow", []string{"--no-pil"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := python(t, append([]string{"test_ludvae_dataset.py", gen, "--fake-noise"}, c.flags...)...)
			if !strings.Contains(out, " passed (") || strings.Contains(out, "FAIL") {
				t.Fatalf("test_ludvae_dataset.py:\n%s", out)
			}
			last := strings.TrimSpace(out)
			t.Log(last[strings.LastIndex(last, "\n")+1:])
		})
	}
}

// TestDefaultsAreGos: the Python dataset's synthesis defaults (its
// DEFAULT_SIGMA, DEFAULT_TEMPERATURE and DEFAULT_SCALE, and the
// constructor's defaults, which must be those constants) are Go's one
// default, model.DefaultSynthesis.
func TestDefaultsAreGos(t *testing.T) {
	requireTorch(t)
	out := python(t, "-c", `import inspect, json, ludvae_dataset as ld
p = inspect.signature(ld.LudvaeC2NDataset.__init__).parameters
print(json.dumps({"constants": [list(ld.DEFAULT_SIGMA), ld.DEFAULT_TEMPERATURE, ld.DEFAULT_SCALE],
                  "constructor": [list(p["sigma"].default), p["temperature"].default, p["scale"].default]}))`)
	var got map[string][3]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("python said %q: %v", out, err)
	}
	d := model.DefaultSynthesis
	want := fmt.Sprint([3]any{[]any{d.SigmaMin, d.SigmaMax}, d.Temperature, float64(d.Downscale)})
	for _, k := range []string{"constants", "constructor"} {
		if fmt.Sprint(got[k]) != want {
			t.Errorf("ludvae_dataset.py's %s: sigma, temperature, scale %v; model.DefaultSynthesis: %s", k, got[k], want)
		}
	}
}
