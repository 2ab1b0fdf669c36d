package synth

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ludvae/ludvae/internal/atomicfile"
	"github.com/ludvae/ludvae/internal/pathguard"
	"github.com/ludvae/ludvae/model"
)

// Settings is the file in --out that says which run its pairs belong to:
// everything that shapes their bytes. A rerun with the same settings
// completes the folder; other settings are refused unless --overwrite.
const Settings = "synth.json"

// settings are the contents of Settings.
type settings struct {
	ModelSHA256    string               `json:"model_sha256"`
	Clean          string               `json:"clean"`
	Seed           uint64               `json:"seed"`
	Samples        int                  `json:"samples"`
	SigmaMin       float64              `json:"sigma_min"`
	SigmaMax       float64              `json:"sigma_max"`
	Temperature    float64              `json:"temperature"`
	TemperatureMax float64              `json:"temperature_max"`
	Mode           string               `json:"mode"`
	SRScale        int                  `json:"sr_scale"`
	Tile           int                  `json:"tile"`
	Precision      string               `json:"precision"`
	Device         string               `json:"device"`
	Normalization  *model.Normalization `json:"normalization"`
	Residual       bool                 `json:"residual,omitempty"`
	Weights        string               `json:"weights,omitempty"` // --weights when not auto
}

// runSettings describes this run (device is the resolved device type).
func (o *Options) runSettings(device string) (settings, error) {
	sum, err := fileSHA256(o.Model)
	if err != nil {
		return settings{}, fmt.Errorf("--model: %w", err)
	}
	clean, err := filepath.Abs(o.Clean)
	if err != nil {
		return settings{}, fmt.Errorf("--clean: %w", err)
	}
	return settings{sum, clean, o.Seed, o.Samples, o.SigmaMin, o.SigmaMax, o.Temperature, o.TemperatureMax,
		o.Mode, o.SRScale, o.Tile, o.Precision, device, o.Norm, o.Residual, weightsSetting(o.Weights)}, nil
}

// weightsSetting is --weights as synth.json records it: "" for auto, so
// that folders made before the flag existed complete as before.
func weightsSetting(w string) string {
	if w == model.WeightsAuto {
		return ""
	}
	return w
}

func fileSHA256(path string) (string, error) {
	f, err := pathguard.OpenRegular(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// diffSettings lists the settings that differ, as "key: old → new".
func diffSettings(old, cur settings) []string {
	asMap := func(s settings) map[string]any {
		b, _ := json.Marshal(s)
		m := map[string]any{}
		json.Unmarshal(b, &m)
		return m
	}
	a, b := asMap(old), asMap(cur)
	var d []string
	for k, v := range b {
		ov, _ := json.Marshal(a[k])
		nv, _ := json.Marshal(v)
		if !bytes.Equal(ov, nv) {
			d = append(d, fmt.Sprintf("%s: %s → %s", k, ov, nv))
		}
	}
	sort.Strings(d)
	return d
}

// claimFolder makes out this run's folder: a new or empty folder, or one
// whose Settings match, is taken as it is; another run's pairs are refused
// unless o.Overwrite, which deletes them (L/, H/, the manifests and
// Settings, nothing else). It writes Settings before any pair.
func (o *Options) claimFolder(st settings, log io.Writer) error {
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	// Pairs first, then Settings: a shard starting beside another that has
	// just begun writes Settings before its first pair, so pairs seen here
	// with no Settings after them really have none.
	holds := o.holdsPairs()
	path := filepath.Join(o.Out, Settings)
	b, err := pathguard.ReadFile(path)
	switch {
	case err == nil:
		var old settings
		if err := json.Unmarshal(b, &old); err != nil {
			return o.refuseOrClear(fmt.Sprintf("its %s is unreadable (%v)", Settings, err), log)
		}
		if d := diffSettings(old, st); len(d) > 0 {
			if err := o.refuseOrClear("they were made with other settings ("+strings.Join(d, "; ")+")", log); err != nil {
				return err
			}
		}
	case errors.Is(err, fs.ErrNotExist):
		if holds {
			if err := o.refuseOrClear("no "+Settings+" says which run made them", log); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("--out: %w", err)
	}
	nb, _ := json.MarshalIndent(st, "", "  ")
	if bytes.Equal(b, append(nb, '\n')) {
		return nil
	}
	return atomicfile.Write(path, func(w io.Writer) error { _, err := w.Write(append(nb, '\n')); return err })
}

// holdsPairs reports whether out has a manifest or anything in L/ or H/.
func (o *Options) holdsPairs() bool {
	if ms, _ := filepath.Glob(filepath.Join(o.Out, "manifest*.jsonl")); len(ms) > 0 {
		return true
	}
	for _, d := range []string{DirL, DirH} {
		if es, err := os.ReadDir(filepath.Join(o.Out, d)); err == nil && len(es) > 0 {
			return true
		}
	}
	return false
}

// refuseOrClear refuses a folder holding another run's pairs, or, with
// --overwrite, deletes them.
func (o *Options) refuseOrClear(why string, log io.Writer) error {
	if !o.Overwrite {
		return fmt.Errorf("--out %s holds pairs of another run: %s; give --overwrite to replace them, or another --out", o.Out, why)
	}
	ms, _ := filepath.Glob(filepath.Join(o.Out, "manifest*.jsonl"))
	for _, p := range append(ms, filepath.Join(o.Out, DirL), filepath.Join(o.Out, DirH), filepath.Join(o.Out, Settings)) {
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("--overwrite: %w", err)
		}
	}
	fmt.Fprintf(log, "--overwrite: removed the pairs of another run from %s (%s)\n", o.Out, why)
	return nil
}

// readManifest reads the records of a manifest up to its first unreadable
// line (a line cut short by a crash ends it). A missing file has none.
func readManifest(path string) ([]Record, error) {
	return readManifestContext(context.Background(), path)
}

// readManifestContext is readManifest that stops with ctx's error once ctx
// is done (a merge reads every shard's manifest, which can be long).
func readManifestContext(ctx context.Context, path string) ([]Record, error) {
	f, err := pathguard.OpenRegular(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var recs []Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if len(recs)%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var r Record
		if json.Unmarshal(sc.Bytes(), &r) != nil {
			break
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// pairExists reports whether both files of r are in dir.
func pairExists(dir string, r Record) bool {
	for _, p := range []string{r.L, r.H} {
		if fi, err := os.Stat(filepath.Join(dir, p)); err != nil || !fi.Mode().IsRegular() {
			return false
		}
	}
	return true
}
