package train

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/ludvae/ludvae/model"
	tb "github.com/ludvae/ludvae/torchbind"
)

// A checkpoint is a PyTorch zip pickle (torch.load opens it) holding:
//
//	"model":         the state dict, authors' keys (loads into their class)
//	"optimizer":     Adam's state dict, torch's layout
//	"step":          optimizer steps done
//	"rng":           {"seed", "kind"}: batches and noise are counter-based,
//	                 keyed by (seed, step), so this is the whole RNG state
//	"config":        the training configuration
//	"normalization": per-channel statistics, or None
//	"synthesis":     defaults for `ludvae synth` (σx range, temperature,
//	                 normalization)
const checkpointPattern = "ckpt_%08d.pth"

// Checkpoint is the bookkeeping SaveCheckpoint writes beside the model and
// optimizer state.
type Checkpoint struct {
	Step   int
	Config Config
	Norm   *Normalization
}

// SaveCheckpoint writes a checkpoint atomically (temp file, fsync, rename)
// and deletes all but the newest keep.
func SaveCheckpoint(dir string, c Checkpoint, m *model.LUDVAE, opt *tb.Adam, keep int) (string, error) {
	d := tb.NewDict()
	d.Set("model", m.StateDict())
	d.Set("optimizer", opt.StateDict())
	d.Set("step", int64(c.Step))
	rng := tb.NewDict()
	rng.Set("seed", int64(c.Config.Seed))
	rng.Set("kind", "counter: batches from PCG(seed, step), noise from Philox(seed, stream(step, site))")
	d.Set("rng", rng)
	d.Set("config", configDict(c.Config))
	d.Set("normalization", normDict(c.Norm))
	syn := tb.NewDict()
	syn.Set("sigma_min", c.Config.SynthSigma[0])
	syn.Set("sigma_max", c.Config.SynthSigma[1])
	syn.Set("temperature", 1.0)
	syn.Set("normalization", normDict(c.Norm))
	syn.Set("downscale", int64(c.Config.Downscale))
	d.Set("synthesis", syn)
	path := filepath.Join(dir, fmt.Sprintf(checkpointPattern, c.Step))
	if err := tb.Save(path, d); err != nil {
		return "", err
	}
	olds, err := Checkpoints(dir)
	if err != nil {
		return path, err
	}
	for i := 0; i+keep < len(olds); i++ {
		os.Remove(olds[i])
	}
	return path, nil
}

// Checkpoints lists the run's checkpoints, oldest first.
func Checkpoints(dir string) ([]string, error) {
	ms, err := filepath.Glob(filepath.Join(dir, "ckpt_*.pth"))
	if err != nil {
		return nil, err
	}
	sort.Strings(ms)
	return ms, nil
}

// ErrNotCheckpoint says a file is a state dict but not a ludvae checkpoint
// (the authors' plain state dicts, for example).
var ErrNotCheckpoint = errors.New("not a ludvae checkpoint")

// ReadCheckpointConfig reads only the configuration of a checkpoint.
func ReadCheckpointConfig(path string) (Config, *Normalization, error) {
	d, c, err := readCheckpoint(path)
	if err != nil {
		return Config{}, nil, err
	}
	tb.CloseAll(d)
	return c.Config, c.Norm, nil
}

// readCheckpoint loads a checkpoint file and its bookkeeping; the caller
// closes the returned dict's tensors.
func readCheckpoint(path string) (*tb.Dict, Checkpoint, error) {
	var c Checkpoint
	d, err := tb.LoadDict(path)
	if err != nil {
		return nil, c, err
	}
	cd, ok := d.Get("config")
	if !ok {
		tb.CloseAll(d)
		return nil, c, fmt.Errorf("%s: %w (no \"config\")", path, ErrNotCheckpoint)
	}
	c.Config = configFromDict(cd.(*tb.Dict))
	step, _ := d.Get("step")
	s, _ := step.(int64)
	c.Step = int(s)
	nv, _ := d.Get("normalization")
	c.Norm = normFromDict(nv)
	return d, c, nil
}

// applyCheckpoint copies a loaded checkpoint's model and optimizer state.
func applyCheckpoint(path string, d *tb.Dict, m *model.LUDVAE, opt *tb.Adam) error {
	v, _ := d.Get("model")
	sd, ok := v.(*tb.Dict)
	if !ok {
		return fmt.Errorf("%s: %w (no \"model\" dict)", path, ErrNotCheckpoint)
	}
	if err := m.LoadStateDict(sd); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if v, _ := d.Get("optimizer"); opt != nil {
		if od, ok := v.(*tb.Dict); ok {
			if err := opt.LoadStateDict(od); err != nil {
				return fmt.Errorf("%s: optimizer: %w", path, err)
			}
		}
	}
	return nil
}

// configDict writes Config's fields under snake_case names.
func configDict(c Config) *tb.Dict {
	d := tb.NewDict()
	v := reflect.ValueOf(c)
	for i := 0; i < v.NumField(); i++ {
		if v.Type().Field(i).Tag.Get("json") == "-" {
			continue // a choice of this start, not part of the run
		}
		f := v.Field(i)
		var x any
		switch f.Kind() {
		case reflect.Int:
			x = f.Int()
		case reflect.Uint64:
			x = int64(f.Uint())
		case reflect.Float64:
			x = f.Float()
		case reflect.String:
			x = f.String()
		case reflect.Bool:
			x = f.Bool()
		case reflect.Slice, reflect.Array:
			l := make([]any, f.Len())
			for j := range l {
				e := f.Index(j)
				if e.Kind() == reflect.Int {
					l[j] = e.Int()
				} else {
					l[j] = e.Float()
				}
			}
			x = l
		}
		d.Set(snake(v.Type().Field(i).Name), x)
	}
	return d
}

func configFromDict(d *tb.Dict) Config {
	c := Defaults()
	v := reflect.ValueOf(&c).Elem()
	for i := 0; i < v.NumField(); i++ {
		x, ok := d.Get(snake(v.Type().Field(i).Name))
		if !ok {
			continue
		}
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Int:
			if n, ok := x.(int64); ok {
				f.SetInt(n)
			}
		case reflect.Uint64:
			if n, ok := x.(int64); ok {
				f.SetUint(uint64(n))
			}
		case reflect.Float64:
			f.SetFloat(number(x))
		case reflect.String:
			if s, ok := x.(string); ok {
				f.SetString(s)
			}
		case reflect.Bool:
			if b, ok := x.(bool); ok {
				f.SetBool(b)
			}
		case reflect.Slice:
			l, _ := x.([]any)
			s := reflect.MakeSlice(f.Type(), len(l), len(l))
			for j, e := range l {
				s.Index(j).SetInt(int64(number(e)))
			}
			f.Set(s)
		case reflect.Array:
			l, _ := x.([]any)
			for j := 0; j < f.Len() && j < len(l); j++ {
				f.Index(j).SetFloat(number(l[j]))
			}
		}
	}
	return c
}

func number(x any) float64 {
	switch n := x.(type) {
	case float64:
		return n
	case int64:
		return float64(n)
	}
	return 0
}

// snake turns a Go field name into snake_case: SigmaX → sigma_x, LRMilestones → lr_milestones.
func snake(name string) string {
	var b strings.Builder
	rs := []rune(name)
	for i, r := range rs {
		upper := r >= 'A' && r <= 'Z'
		if upper && i > 0 && (rs[i-1] < 'A' || rs[i-1] > 'Z' || (i+1 < len(rs) && rs[i+1] >= 'a' && rs[i+1] <= 'z')) {
			b.WriteByte('_')
		}
		b.WriteString(strings.ToLower(string(r)))
	}
	return b.String()
}

func normDict(n *Normalization) any {
	if n == nil {
		return nil
	}
	d := tb.NewDict()
	for _, kv := range []struct {
		k string
		v [3]float64
	}{{"clean_mean", n.CleanMean}, {"clean_std", n.CleanStd}, {"noisy_mean", n.NoisyMean}, {"noisy_std", n.NoisyStd}} {
		d.Set(kv.k, []any{kv.v[0], kv.v[1], kv.v[2]})
	}
	return d
}

func normFromDict(v any) *Normalization {
	d, ok := v.(*tb.Dict)
	if !ok {
		return nil
	}
	n := &Normalization{}
	for _, kv := range []struct {
		k string
		v *[3]float64
	}{{"clean_mean", &n.CleanMean}, {"clean_std", &n.CleanStd}, {"noisy_mean", &n.NoisyMean}, {"noisy_std", &n.NoisyStd}} {
		l, _ := d.Get(kv.k)
		for i, e := range tb.AsList(l) {
			if i < 3 {
				kv.v[i] = number(e)
			}
		}
	}
	return n
}
