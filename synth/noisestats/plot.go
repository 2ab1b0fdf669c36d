package noisestats

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"github.com/ludvae/ludvae/internal/chart"
)

// Series is one named set of statistics to plot.
type Series struct {
	Name  string // legend label
	Stats *Stats // the per-bin std curves drawn
}

// Plot geometry (pixels).
const (
	plotPanelW  = 400
	plotPanelH  = 340
	plotLegendH = 28
	plotMarginL = 52
	plotMarginR = 14
	plotMarginT = 26
	plotMarginB = 42
)

// plotColors are the line colours: the first series (the real noise, by
// convention) is black, the others cycle through distinct hues.
var plotColors = []color.RGBA{
	{0, 0, 0, 255},
	{31, 119, 180, 255},
	{214, 39, 40, 255},
	{44, 160, 44, 255},
	{255, 127, 14, 255},
	{148, 103, 189, 255},
	{140, 86, 75, 255},
	{227, 119, 194, 255},
}

var channelNames = [Channels]string{"R", "G", "B"}

// Plot draws the noise std (0–255) against the clean intensity, one panel
// per channel (R, G, B side by side) and one line per series, with a
// legend on top. Each point is a bin centre; bins with fewer than two
// values are left out (the line breaks there). The first series is drawn
// in black, the convention for the real noise. All series must share the
// number of intensity bins.
func Plot(series []Series) (*image.RGBA, error) {
	if len(series) == 0 {
		return nil, fmt.Errorf("noisestats: nothing to plot")
	}
	bins := series[0].Stats.Config.Bins
	ymax := 0.0
	for _, s := range series {
		if s.Stats.Config.Bins != bins {
			return nil, fmt.Errorf("noisestats: plotting %q with %d bins next to %q with %d", s.Name, s.Stats.Config.Bins, series[0].Name, bins)
		}
		for c := 0; c < Channels; c++ {
			for _, v := range s.Stats.BinStd[c] {
				if finite(v) {
					ymax = max(ymax, v)
				}
			}
		}
	}
	step, top := niceAxis(ymax)

	img := chart.New(Channels*plotPanelW, plotLegendH+plotPanelH)
	grid := color.RGBA{225, 225, 225, 255}
	axis := color.RGBA{60, 60, 60, 255}

	// Legend.
	x := 10
	for i, s := range series {
		col := plotColors[i%len(plotColors)]
		chart.Line(img, x, plotLegendH/2, x+24, plotLegendH/2, 2, col)
		x += 30
		chart.Text(img, x, plotLegendH/2+4, s.Name, axis)
		x += chart.CharW*len(s.Name) + 20
	}

	for c := 0; c < Channels; c++ {
		a := chart.Axes{
			Left: c*plotPanelW + plotMarginL, Top: plotLegendH + plotMarginT,
			W: plotPanelW - plotMarginL - plotMarginR, H: plotPanelH - plotMarginT - plotMarginB,
			XMin: 0, XMax: 1, YMin: 0, YMax: top,
		}
		bottom := a.Top + a.H
		// Grid and ticks.
		for t := 0.0; t <= 1+1e-9; t += 0.25 {
			chart.VLine(img, a.X(t), a.Top, bottom, grid)
			label := fmt.Sprintf("%.2g", t)
			chart.Text(img, a.X(t)-chart.CharW*len(label)/2, bottom+15, label, axis)
		}
		for t := 0.0; t <= top+1e-9*top; t += step {
			chart.HLine(img, a.Left, a.Left+a.W, a.Y(t), grid)
			label := fmt.Sprintf("%g", roundTick(t, step))
			chart.Text(img, a.Left-6-chart.CharW*len(label), a.Y(t)+4, label, axis)
		}
		a.Frame(img, axis)
		chart.Text(img, a.Left, a.Top-8, channelNames[c]+": noise std (0-255) vs clean intensity", axis)
		chart.Text(img, a.Left+a.W/2-7*chart.CharW, bottom+32, "clean intensity", axis)

		for i, s := range series {
			pts := make([][2]float64, len(s.Stats.BinStd[c]))
			for b, v := range s.Stats.BinStd[c] {
				pts[b] = [2]float64{(float64(b) + 0.5) / float64(bins), v} // the bin's centre
			}
			a.Curve(img, pts, 2, 5, plotColors[i%len(plotColors)])
		}
	}
	return img, nil
}

// niceAxis returns a tick step of 1, 2 or 5 times a power of ten giving
// about five ticks up to at least v, and the top of the axis (a multiple of
// the step).
func niceAxis(v float64) (step, top float64) {
	if !(v > 0) || !finite(v) {
		return 1, 5
	}
	raw := v / 5
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			step = m * p
			break
		}
	}
	top = math.Ceil(v*1.05/step) * step
	return step, top
}

// roundTick removes floating-point dust from a tick value t (a multiple of
// step).
func roundTick(t, step float64) float64 {
	return math.Round(t/step) * step
}
