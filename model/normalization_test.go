package model

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ludvae/ludvae/internal/images"
)

func TestParseNormalization(t *testing.T) {
	dir := t.TempDir()
	file := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := file("good.json", `{"clean_mean": [114.69150172, 111.67491841, 103.26490806], "clean_std": [70.6325031, 67.0257846, 72.95698077],
		"noisy_mean": [120.96351636, 115.84200238, 104.9237979], "noisy_std": [61.84091623, 59.79885696, 65.42669225]}`)
	cases := []struct {
		spec string
		want *Normalization
		err  string // a fragment of the error, "" for none
	}{
		{"none", nil, ""},
		{"aim19", &AIM19Normalization, ""},
		{good, &AIM19Normalization, ""}, // the authors' numbers, written as they print them
		{file("missing.json", `{"clean_mean": [1, 2, 3], "clean_std": [1, 2, 3], "noisy_mean": [1, 2, 3]}`), nil, `"noisy_std" has 0 values, expected three`},
		{file("zero.json", `{"clean_mean": [1, 2, 3], "clean_std": [1, 0, 3], "noisy_mean": [1, 2, 3], "noisy_std": [1, 2, 3]}`), nil, "clean_std[1] = 0"},
		{file("scale.json", `{"clean_mean": [1, 2, 300], "clean_std": [1, 2, 3], "noisy_mean": [1, 2, 3], "noisy_std": [1, 2, 3]}`), nil, "0–255 scale"},
		{file("extra.json", `{"clean_mean": [1, 2, 3], "mean": 4}`), nil, `unknown field "mean"`},
		{file("two.json", `{"clean_mean": [1, 2]}`), nil, `"clean_mean" has 2 values`},
		{filepath.Join(dir, "absent.json"), nil, "expected checkpoint, none, aim19 or a JSON file"},
		{file("trailing.json", `{"clean_mean": [1, 2, 3], "clean_std": [1, 2, 3], "noisy_mean": [1, 2, 3], "noisy_std": [1, 2, 3]} {}`), nil, "data after the JSON object"},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.spec), func(t *testing.T) {
			n, err := ParseNormalization(c.spec)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "--normalization") {
					t.Fatalf("got %v, want an error naming --normalization with %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (n == nil) != (c.want == nil) || (n != nil && *n != *c.want) {
				t.Fatalf("got %+v, want %+v", n, c.want)
			}
		})
	}
	if AIM19Normalization.NoisyStd[2] != 65.42669225/255 {
		t.Errorf("AIM19 noisy std: %v", AIM19Normalization.NoisyStd)
	}
}

// The exported generator's map is FromClean without the clamp.
func TestFromCleanMapIsFromClean(t *testing.T) {
	n := AIM19Normalization
	m := images.New(7, 5)
	for i := range m.Pix {
		m.Pix[i] = float32(i) / float32(len(m.Pix))
	}
	want := &images.Image{W: m.W, H: m.H, Pix: append([]float32(nil), m.Pix...)}
	n.FromClean(want)
	cm := n.FromCleanMap()
	for c := range 3 {
		for i, v := range m.Plane(c) {
			got := min(max(float64(v)*cm.Scale[c]+cm.Shift[c], 0), 1)
			if d := math.Abs(got - float64(want.Plane(c)[i])); d > 1e-7 {
				t.Fatalf("channel %d, pixel %d: map gives %g, FromClean %g", c, i, got, want.Plane(c)[i])
			}
		}
	}
}
