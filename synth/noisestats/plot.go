package noisestats

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
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

	W, H := Channels*plotPanelW, plotLegendH+plotPanelH
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	grid := color.RGBA{225, 225, 225, 255}
	axis := color.RGBA{60, 60, 60, 255}

	// Legend.
	x := 10
	for i, s := range series {
		col := plotColors[i%len(plotColors)]
		thickLine(img, x, plotLegendH/2, x+24, plotLegendH/2, col)
		x += 30
		drawText(img, x, plotLegendH/2+4, s.Name, axis)
		x += 7*len(s.Name) + 20
	}

	for c := 0; c < Channels; c++ {
		x0, y0 := c*plotPanelW+plotMarginL, plotLegendH+plotMarginT
		pw, ph := plotPanelW-plotMarginL-plotMarginR, plotPanelH-plotMarginT-plotMarginB
		px := func(v float64) int { return x0 + int(math.Round(v*float64(pw))) }
		py := func(v float64) int { return y0 + ph - int(math.Round(v/top*float64(ph))) }
		// Grid and ticks.
		for t := 0.0; t <= 1+1e-9; t += 0.25 {
			vline(img, px(t), y0, y0+ph, grid)
			label := fmt.Sprintf("%.2g", t)
			drawText(img, px(t)-7*len(label)/2, y0+ph+15, label, axis)
		}
		for t := 0.0; t <= top+1e-9*top; t += step {
			hline(img, x0, x0+pw, py(t), grid)
			label := fmt.Sprintf("%g", roundTick(t, step))
			drawText(img, x0-6-7*len(label), py(t)+4, label, axis)
		}
		hline(img, x0, x0+pw, y0+ph, axis)
		vline(img, x0, y0, y0+ph, axis)
		drawText(img, x0, y0-8, channelNames[c]+": noise std (0-255) vs clean intensity", axis)
		drawText(img, x0+pw/2-7*7, y0+ph+32, "clean intensity", axis)

		for i, s := range series {
			col := plotColors[i%len(plotColors)]
			prevOK := false
			var lx, ly int
			for b, v := range s.Stats.BinStd[c] {
				if !finite(v) {
					prevOK = false
					continue
				}
				cx, cy := px((float64(b)+0.5)/float64(bins)), py(v)
				if prevOK {
					thickLine(img, lx, ly, cx, cy, col)
				}
				fillRect(img, cx-2, cy-2, cx+3, cy+3, col)
				lx, ly, prevOK = cx, cy, true
			}
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

func fillRect(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	draw.Draw(img, image.Rect(x0, y0, x1, y1), &image.Uniform{c}, image.Point{}, draw.Src)
}

func hline(img *image.RGBA, x0, x1, y int, c color.RGBA) { fillRect(img, x0, y, x1+1, y+1, c) }
func vline(img *image.RGBA, x, y0, y1 int, c color.RGBA) { fillRect(img, x, y0, x+1, y1+1, c) }

// thickLine draws a 2-pixel-wide straight line from (x0, y0) to (x1, y1).
func thickLine(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	n := max(abs(x1-x0), abs(y1-y0), 1)
	for i := 0; i <= n; i++ {
		t := float64(i) / float64(n)
		x := int(math.Round(float64(x0) + t*float64(x1-x0)))
		y := int(math.Round(float64(y0) + t*float64(y1-y0)))
		fillRect(img, x, y, x+2, y+2, c)
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// drawText writes s with its baseline starting at (x, y) in basicfont's
// 7×13 face (ASCII only).
func drawText(img *image.RGBA, x, y int, s string, c color.RGBA) {
	d := font.Drawer{Dst: img, Src: &image.Uniform{c}, Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}
