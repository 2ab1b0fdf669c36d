package model_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsPointOneWay holds the tree to the README's "Layout of the code":
// each package may import only the layers below it. It reads the imports
// from `go list`, so a new file with a wrong import fails here.
func TestImportsPointOneWay(t *testing.T) {
	const mod = "github.com/ludvae/ludvae/"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, mod+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	// Each rule: what a package under pkg must not import. The first rule
	// whose pkg holds a package decides, so the specific ones come first.
	forbidden := []struct{ pkg, must string }{
		// testkit's two kits that stand on more: a test's runtime, and the
		// run-folder checks of both trainers' tests.
		{"internal/testkit/tbtest", "internal model train synth cmd"},
		{"internal/testkit/runtest", "internal/images internal/jpegturbo internal/chart model train synth cmd"},
		{"internal/testkit", "internal torchbind model train synth cmd"}, // the standard library only: every package's tests use it
		{"internal/atomicfile", "internal torchbind model train synth cmd"},
		{"internal/onnxpb", "internal torchbind model train synth cmd"}, // generated protobuf types only
		{"internal/pidlock", "internal torchbind model train synth cmd"},
		// The run kit of both trainers stands on torchbind (a checkpoint
		// is a torchbind dict of a state dict and Adam's) and on the
		// atomic files, the lock and the progress bar, never on image
		// handling or the networks.
		{"internal/run", "internal/images internal/jpegturbo internal/chart model train synth cmd"},
		{"internal/job", "internal/images internal/jpegturbo internal/chart torchbind model train synth cmd"},
		{"internal/chart", "internal/images internal/jpegturbo torchbind model train synth cmd"},
		{"internal/limits", "internal/images internal/jpegturbo internal/chart internal/job internal/pathguard torchbind model train synth cmd"},
		{"internal/pathguard", "internal/images internal/jpegturbo internal/chart internal/job torchbind model train synth cmd"},
		{"internal/jpegturbo", "internal/images internal/chart internal/job torchbind model train synth cmd"},
		{"internal", "torchbind model train synth cmd"},
		// torchbind writes its files through internal/atomicfile and takes
		// its Go worker count from internal/job, the internal packages
		// below it.
		{"torchbind", "internal/images internal/jpegturbo internal/chart internal/pidlock internal/run model train synth cmd"},
		{"model", "train synth cmd"},
		{"synth", "train cmd"},
		{"train", "cmd"},
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], mod)
		for _, rule := range forbidden {
			if !under(pkg, rule.pkg) {
				continue
			}
			checked++
			for _, imp := range fields[1:] {
				imp, ours := strings.CutPrefix(imp, mod)
				if !ours {
					continue
				}
				for _, bad := range strings.Fields(rule.must) {
					if under(imp, bad) && !under(imp, pkg) {
						t.Errorf("%s imports %s: %s must not depend on %s (README, \"Layout of the code\")", pkg, imp, rule.pkg, bad)
					}
				}
			}
			break
		}
	}
	if checked < 10 {
		t.Fatalf("only %d packages checked; go list said:\n%s", checked, out)
	}
}

// under says whether pkg is p or inside it.
func under(pkg, p string) bool {
	return pkg == p || strings.HasPrefix(pkg, p+"/")
}
