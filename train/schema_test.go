package train

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/testkit"
	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// TestConfigOneSchema: config.json and a checkpoint's "config" entry hold
// the same keys, from Config's json tags.
func TestConfigOneSchema(t *testing.T) {
	t.Parallel()
	c := Defaults()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	var fromJSON, fromDict []string
	for k := range m {
		fromJSON = append(fromJSON, k)
	}
	for _, k := range configDict(c).Keys {
		fromDict = append(fromDict, k.(string))
	}
	sort.Strings(fromJSON)
	sort.Strings(fromDict)
	if !slices.Equal(fromJSON, fromDict) {
		t.Fatalf("config.json keys %v, checkpoint keys %v", fromJSON, fromDict)
	}
	back, err := configFromDict(configDict(c))
	if err != nil || !slices.Equal(back.LRMilestones, c.LRMilestones) || back.SynthSigma != c.SynthSigma || back.Seed != c.Seed {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
}

// TestConfigWrongTypeNamed: a value of the wrong type is an error naming
// its key, not a silent default.
func TestConfigWrongTypeNamed(t *testing.T) {
	t.Parallel()
	for _, cs := range []struct {
		key string
		v   any
	}{{"patch", "64"}, {"lr", "fast"}, {"synth_sigma", []any{1.0}}, {"seed", int64(-1)}, {"cuda_graphs", int64(1)}, {"lr_milestones", []any{"x"}}} {
		d := configDict(Defaults())
		d.Set(cs.key, cs.v)
		if _, err := configFromDict(d); err == nil || !strings.Contains(err.Error(), `"`+cs.key+`"`) {
			t.Errorf("%s = %v: %v", cs.key, cs.v, err)
		}
	}
}

// TestCheckpointBeforeSchemaLoads: a checkpoint written before config.json
// and the checkpoint shared one schema (testdata/checkpoints/README.md)
// still gives its configuration, its synthesis defaults, and a model and
// optimizer state to resume from.
func TestCheckpointBeforeSchemaLoads(t *testing.T) {
	t.Parallel()
	path := filepath.Join(testkit.Root(), "testdata", "checkpoints", "f4_step2_before_schema.pth")
	d, saved, err := readCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	defer tb.CloseAll(d)
	c := saved.Config
	if saved.Step != 2 || c.Filters != 4 || c.Levels != 2 || c.Patch != 16 || c.Batch != 4 || c.Preset != "aim19" ||
		c.SigmaX != 15 || c.SigmaY != 10 || c.Normalize != "auto" || c.Seed != 7 || c.SynthSigma != [2]float64{15, 15} || saved.Norm == nil {
		t.Fatalf("step %d, config %+v, normalization %v", saved.Step, c, saved.Norm)
	}
	m, err := model.New(model.Config{Channels: 3, Filters: 4, Levels: 2}, tb.Options{DType: tb.Float32}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	opt := tb.NewAdam(m.Tensors(), tb.AdamConfig{LR: c.LR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	defer opt.Close()
	if err := applyCheckpoint(path, d, m, opt); err != nil {
		t.Fatal(err)
	}
	syn, err := model.ReadSynthesis(path)
	if err != nil || syn.SigmaMin != 15 || syn.SigmaMax != 15 || syn.Temperature != 1 || syn.Norm == nil || *syn.Norm != *saved.Norm {
		t.Fatalf("synthesis %+v, %v", syn, err)
	}
}
