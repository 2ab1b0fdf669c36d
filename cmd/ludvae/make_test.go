package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/testkit"
)

// TestTrainTargetsNameMissingData: `make train-sidd` (and the other data
// sets' targets) run before the data is there says which folder it
// expected and the `ludvae prepare` command that makes it, before building
// anything, instead of train's "lstat data/sidd/clean: no such file".
func TestTrainTargetsNameMissingData(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is needed:", err)
	}
	data := filepath.Join(t.TempDir(), "nodata")
	for _, set := range []string{"sidd", "aim19", "ntire20"} {
		cmd := exec.Command("make", "-s", "-C", testkit.Root(), "train-"+set, "DATA="+data)
		cmd.Env = append(os.Environ(), "MAKEFLAGS=", "DOCKER=")
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("make train-%s with no data succeeded:\n%s", set, out)
		}
		for _, want := range []string{data + "/clean does not exist", "ludvae prepare " + set + " --from DOWNLOAD_DIR --to " + data} {
			if !strings.Contains(string(out), want) {
				t.Errorf("make train-%s: %q not in\n%s", set, want, out)
			}
		}
		if strings.Contains(string(out), "go build") || strings.Contains(string(out), "lstat") {
			t.Errorf("make train-%s went on past the missing data:\n%s", set, out)
		}
	}
}
