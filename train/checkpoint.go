package train

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/ludvae/ludvae/internal/run"
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
//	"ema", "ema_decay": with --ema, the weight average (ema.go; the keys
//	                 of "model") and its decay
const checkpointPattern = "ckpt_%08d.pth"

// Checkpoint is the bookkeeping SaveCheckpoint writes beside the model and
// optimizer state.
type Checkpoint struct {
	Step   int
	Config Config
	Norm   *model.Normalization
	ema    *average // saved when not nil
}

// checkpoints names the LUD-VAE trainer's checkpoints.
var checkpoints = run.CheckpointFiles{Pattern: checkpointPattern, NotCheckpoint: model.ErrNotCheckpoint}

// SaveCheckpoint writes a checkpoint atomically (package atomicfile) and
// deletes all but the newest keep.
func SaveCheckpoint(dir string, c Checkpoint, m *model.LUDVAE, opt *tb.Adam, keep int) (string, error) {
	return checkpoints.Save(dir, c.Step, m, opt, keep, c.entries)
}

// entries adds the bookkeeping beside the model and optimizer state.
func (c Checkpoint) entries(d *tb.Dict) {
	rng := tb.NewDict()
	rng.Set("seed", int64(c.Config.Seed))
	rng.Set("kind", "counter: batches from PCG(seed, step), noise from Philox(seed, stream(step, site))")
	d.Set("rng", rng)
	d.Set("config", configDict(c.Config))
	d.Set("normalization", c.Norm.Dict())
	d.Set("synthesis", c.Config.Synthesis(c.Norm).Dict())
	if c.ema != nil {
		d.Set(model.EMAKey, c.ema.m.StateDict())
		d.Set("ema_decay", c.ema.decay)
	}
}

// Checkpoints lists the run's checkpoints, oldest first.
func Checkpoints(dir string) ([]string, error) { return checkpoints.List(dir) }

// ReadCheckpointConfig reads only the configuration of a checkpoint.
func ReadCheckpointConfig(path string) (Config, *model.Normalization, error) {
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
		return nil, c, fmt.Errorf("%s: %w (no \"config\")", path, model.ErrNotCheckpoint)
	}
	cfgDict, ok := cd.(*tb.Dict)
	if !ok {
		tb.CloseAll(d)
		return nil, c, fmt.Errorf("%s: \"config\" is a %T, not a dict", path, cd)
	}
	if c.Config, err = configFromDict(cfgDict); err != nil {
		tb.CloseAll(d)
		return nil, c, fmt.Errorf("%s: %w", path, err)
	}
	step, _ := d.Get("step")
	s, _ := step.(int64)
	c.Step = int(s)
	nv, _ := d.Get("normalization")
	c.Norm = model.NormalizationFromDict(nv)
	return d, c, nil
}

// applyCheckpoint copies a loaded checkpoint's model and optimizer state.
func applyCheckpoint(path string, d *tb.Dict, m *model.LUDVAE, opt *tb.Adam) error {
	return checkpoints.Apply(path, d, m, opt)
}

// configFields lists Config's fields that belong to the run, each under
// its json name: the one schema of config.json and of a checkpoint's
// "config" entry.
func configFields(v reflect.Value) (names []string, fields []reflect.Value) {
	for i := 0; i < v.NumField(); i++ {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue // a choice of this start, not part of the run
		}
		names, fields = append(names, name), append(fields, v.Field(i))
	}
	return names, fields
}

// configDict writes Config's fields under their json names, as pickle
// values: ints as int64, floats as float64, lists as lists.
func configDict(c Config) *tb.Dict {
	d := tb.NewDict()
	names, fields := configFields(reflect.ValueOf(c))
	for i, f := range fields {
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
				if e := f.Index(j); e.Kind() == reflect.Int {
					l[j] = e.Int()
				} else {
					l[j] = e.Float()
				}
			}
			x = l
		}
		d.Set(names[i], x)
	}
	return d
}

// configFromDict reads what configDict wrote; a key missing (an older
// checkpoint) keeps its default, and a value of the wrong type is an error
// naming the key.
func configFromDict(d *tb.Dict) (Config, error) {
	c := Defaults()
	names, fields := configFields(reflect.ValueOf(&c).Elem())
	for i, f := range fields {
		x, ok := d.Get(names[i])
		if !ok {
			continue
		}
		if err := setField(f, x); err != nil {
			return c, fmt.Errorf("config %q: %w", names[i], err)
		}
	}
	return c, nil
}

// setField stores a pickle value in a Config field of a matching kind.
func setField(f reflect.Value, x any) error {
	bad := fmt.Errorf("%T %v where a %s belongs", x, x, f.Type())
	switch f.Kind() {
	case reflect.Int, reflect.Uint64:
		n, ok := x.(int64)
		if !ok || (f.Kind() == reflect.Uint64 && n < 0) {
			return bad
		}
		if f.Kind() == reflect.Int {
			f.SetInt(n)
		} else {
			f.SetUint(uint64(n))
		}
	case reflect.Float64:
		v, ok := model.Number(x)
		if !ok {
			return bad
		}
		f.SetFloat(v)
	case reflect.String:
		v, ok := x.(string)
		if !ok {
			return bad
		}
		f.SetString(v)
	case reflect.Bool:
		v, ok := x.(bool)
		if !ok {
			return bad
		}
		f.SetBool(v)
	case reflect.Slice, reflect.Array:
		l, ok := x.([]any)
		if !ok || (f.Kind() == reflect.Array && len(l) != f.Len()) {
			return bad
		}
		if f.Kind() == reflect.Slice {
			f.Set(reflect.MakeSlice(f.Type(), len(l), len(l)))
		}
		for j, e := range l {
			if err := setField(f.Index(j), e); err != nil {
				return bad
			}
		}
	}
	return nil
}
