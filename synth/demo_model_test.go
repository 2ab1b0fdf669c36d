package synth

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// demoProvenance is synth/demo/model/provenance.json: how the committed
// demo model was made and what it reached (synth/demo/README.md).
type demoProvenance struct {
	Command string `json:"command"`
	Commit  string `json:"commit"`
	Steps   int    `json:"steps"`
	Seed    int    `json:"seed"`
	Filters int    `json:"filters"`
	Levels  int    `json:"levels"`
	CPU     string `json:"cpu"`
	WallS   int    `json:"wall_seconds"`
	// SynthSigma is the σx of h(x) to synthesize with, calibrated on the
	// training photos by synth/demo/model.sh.
	SynthSigma float64                       `json:"synth_sigma"`
	Scores     map[string]map[string]float64 `json:"scores"`
}

// TestCommittedDemoModel checks the demo's committed weights: they load as
// the network their provenance names, the provenance's commit is in this
// repository's history, and they degrade an image as a trained model does
// (content kept, noise of a camera's strength) where a freshly initialized
// network of the same size does not.
func TestCommittedDemoModel(t *testing.T) {
	dir := filepath.Join("demo", "model")
	raw, err := os.ReadFile(filepath.Join(dir, "provenance.json"))
	if err != nil {
		t.Fatal(err)
	}
	var p demoProvenance
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("provenance.json: %v", err)
	}
	if p.Command == "" || p.Steps <= 0 || p.CPU == "" || p.WallS <= 0 || len(p.Scores["ludvae"]) == 0 {
		t.Errorf("provenance.json lacks the command, steps, CPU, wall time or scores: %+v", p)
	}
	// σx is a noise level in grey levels; the authors draw SIDD's from [30, 70].
	if p.SynthSigma <= 0 || p.SynthSigma > 100 {
		t.Fatalf("provenance.json: synth_sigma %v, want a σx in (0, 100]", p.SynthSigma)
	}
	m, err := model.Load(filepath.Join(dir, "ludvae.pth"), tb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Config.Filters != p.Filters || m.Config.Levels != p.Levels {
		t.Errorf("weights are F=%d L=%d, provenance says F=%d L=%d", m.Config.Filters, m.Config.Levels, p.Filters, p.Levels)
	}
	fresh, err := model.New(m.Config, tb.Options{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	// A trained C2N keeps a smooth image's content (its 8×8 block means
	// move by less than 8 grey levels) and adds noise of a camera's
	// strength (std of the residual 3–40 grey levels; the demo's camera
	// noise is about 14): loose bounds that hold on any CPU's rounding.
	keeps, std := degradeGradient(t, m, p.SynthSigma)
	t.Logf("committed: block means move %.2f grey levels, residual std %.2f", keeps, std)
	if keeps > 8 || std < 3 || std > 40 {
		t.Errorf("committed model: block means move %.2f grey levels (want < 8), residual std %.2f (want 3–40)", keeps, std)
	}
	// The same check fails for an untrained network of the same size.
	if keeps, std := degradeGradient(t, fresh, p.SynthSigma); keeps <= 8 && std >= 3 && std <= 40 {
		t.Errorf("an untrained network passes the same check (%.2f, %.2f): the check cannot tell", keeps, std)
	}
	checkCommitInHistory(t, p.Commit)
}

// degradeGradient synthesizes a 64×64 colour gradient at σx = sigmaX and
// returns, in grey levels, the mean absolute change of its 8×8 block means
// and the std of output minus input.
func degradeGradient(t *testing.T, m *model.LUDVAE, sigmaX float64) (blockShift, residualStd float64) {
	const side = 64
	data := make([]float32, 3*side*side)
	for c := 0; c < 3; c++ {
		for y := 0; y < side; y++ {
			for x := 0; x < side; x++ {
				data[(c*side+y)*side+x] = 0.2 + 0.6*float32(x+y+16*c)/float32(2*side+32)
			}
		}
	}
	var out []float32
	tb.WithScope(func(*tb.Scope) {
		if err := tb.Try(func() {
			in := tb.FromSlice(data, 1, 3, side, side)
			sigma := tb.Full([]int64{1}, sigmaX, tb.Options{})
			y, err := m.Translate(in, sigma, 1, model.Noise{Seed: 4, Stream: 1})
			if err != nil {
				t.Fatal(err)
			}
			out = y.Clamp(0, 1).Float32s()
		}); err != nil {
			t.Fatal(err)
		}
	})
	var sum, sq float64
	block := make([]float64, 3*(side/8)*(side/8))
	for i, v := range out {
		d := float64(v - data[i])
		sum += d
		sq += d * d
		c, y, x := i/(side*side), i/side%side, i%side
		block[(c*(side/8)+y/8)*(side/8)+x/8] += d / 64
	}
	n := float64(len(out))
	residualStd = 255 * math.Sqrt(sq/n-(sum/n)*(sum/n))
	for _, b := range block {
		blockShift += 255 * math.Abs(b) / float64(len(block))
	}
	if math.IsNaN(blockShift) || math.IsNaN(residualStd) {
		t.Fatalf("NaN output")
	}
	return blockShift, residualStd
}

// checkCommitInHistory fails unless commit names a commit of this
// repository. Outside a git checkout (a source archive) there is no
// history to look in, which the test says rather than pretends.
func checkCommitInHistory(t *testing.T, commit string) {
	t.Helper()
	// model.sh writes "-dirty" after the commit when the checkout had
	// uncommitted changes; the commit itself must still be in the history.
	commit = strings.TrimSuffix(commit, "-dirty")
	if len(commit) < 7 {
		t.Fatalf("provenance commit %q: want a commit hash", commit)
	}
	if err := exec.Command("git", "rev-parse", "--git-dir").Run(); err != nil {
		t.Skipf("not a git checkout (%v): the provenance's commit %s cannot be looked up", err, commit)
	}
	out, err := exec.Command("git", "cat-file", "-t", commit).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "commit" {
		t.Errorf("provenance commit %s is not in this repository's history: %s %v", commit, out, err)
	}
}
