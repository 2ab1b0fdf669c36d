package noisestats

import (
	"bytes"
	"image/png"
	"testing"
)

func TestPlotDrawsEverySeriesInEveryPanel(t *testing.T) {
	rng := newRand(15)
	clean := uniformClean(128, 128, rng)
	var series []Series
	for i, sigma := range []float64{5, 15} {
		acc, _ := NewAccumulator(DefaultConfig())
		acc.Add(addPair(clean, whiteNoise(128, 128, sigma/255, rng)), clean)
		series = append(series, Series{Name: []string{"real", "gaussian"}[i], Stats: acc.Stats()})
	}
	img, err := Plot(series)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 3*plotPanelW || b.Dy() != plotLegendH+plotPanelH {
		t.Fatalf("plot is %v", b)
	}
	for i := range series {
		want := plotColors[i]
		for c := 0; c < Channels; c++ {
			found := 0
			for y := plotLegendH; y < img.Bounds().Dy(); y++ {
				for x := c * plotPanelW; x < (c+1)*plotPanelW; x++ {
					if img.RGBAAt(x, y) == want {
						found++
					}
				}
			}
			// Axes and text are dark grey, so only the series' line and
			// markers have its exact colour; a 2-pixel line across 16
			// bins covers well over 100 pixels.
			if found < 100 {
				t.Errorf("series %q: %d pixels of its colour in panel %d", series[i].Name, found, c)
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(&buf); err != nil {
		t.Fatal(err)
	}
}

func TestPlotErrors(t *testing.T) {
	if _, err := Plot(nil); err == nil {
		t.Error("empty plot: no error")
	}
	a, _ := NewAccumulator(DefaultConfig())
	b, _ := NewAccumulator(Config{Bins: 4, HistLimit: 64, HistStep: 1})
	if _, err := Plot([]Series{{"a", a.Stats()}, {"b", b.Stats()}}); err == nil {
		t.Error("series with different bins: no error")
	}
}

func TestNiceAxis(t *testing.T) {
	for _, c := range []struct{ v, step, top float64 }{
		{22.3, 5, 25}, {9.7, 2, 12}, {0.8, 0.2, 1}, {0, 1, 5},
	} {
		step, top := niceAxis(c.v)
		if step != c.step || top != c.top {
			t.Errorf("niceAxis(%v) = %v, %v; want %v, %v", c.v, step, top, c.step, c.top)
		}
	}
}
