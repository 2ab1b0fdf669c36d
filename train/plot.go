package train

import (
	"image"
	"image/color"
	"math"
	"strconv"

	"github.com/ludvae/ludvae/internal/chart"
	"github.com/ludvae/ludvae/internal/images"
)

// plotLosses draws the loss terms against the step on a log scale.
func plotLosses(path string, rows []stepStats) error {
	series := []lineSeries{
		{"loss", color.RGBA{0, 0, 0, 255}, nil},
		{"rec", color.RGBA{31, 119, 180, 255}, nil},
		{"kl", color.RGBA{214, 39, 40, 255}, nil},
	}
	for _, r := range rows {
		series[0].pts = append(series[0].pts, [2]float64{float64(r.step), r.total})
		series[1].pts = append(series[1].pts, [2]float64{float64(r.step), r.rec})
		series[2].pts = append(series[2].pts, [2]float64{float64(r.step), r.kl})
	}
	return images.WritePNG(path, drawLogPlot(series, "step", 800, 450))
}

// lineSeries is one named curve of (x, y) points.
type lineSeries struct {
	name string
	col  color.RGBA
	pts  [][2]float64
}

// drawLogPlot renders series with a linear x axis and a log10 y axis
// spanning whole decades.
func drawLogPlot(series []lineSeries, xlabel string, w, h int) *image.RGBA {
	img := chart.New(w, h)
	a := chart.Axes{Left: 70, Top: 20, W: w - 90, H: h - 60, LogY: true}
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, p := range s.pts {
			if a.Drawable(p[1]) {
				xmin, xmax = math.Min(xmin, p[0]), math.Max(xmax, p[0])
				ymin, ymax = math.Min(ymin, math.Log10(p[1])), math.Max(ymax, math.Log10(p[1]))
			}
		}
	}
	if math.IsInf(xmin, 0) {
		return img
	}
	ymin, ymax = math.Floor(ymin), math.Ceil(ymax)
	if ymax == ymin {
		ymax++
	}
	if xmax == xmin {
		xmax++
	}
	a.XMin, a.XMax, a.YMin, a.YMax = xmin, xmax, math.Pow(10, ymin), math.Pow(10, ymax)
	black, grey := color.RGBA{0, 0, 0, 255}, color.RGBA{200, 200, 200, 255}
	for d := ymin; d <= ymax; d++ {
		y := a.Y(math.Pow(10, d))
		chart.HLine(img, a.Left, a.Left+a.W, y, grey)
		chart.Text(img, 5, y+4, "1e"+strconv.Itoa(int(d)), black)
	}
	a.Frame(img, black)
	chart.Text(img, a.Left, h-15, strconv.Itoa(int(xmin)), black)
	chart.Text(img, a.Left+a.W-60, h-15, strconv.Itoa(int(xmax)), black)
	chart.Text(img, a.Left+a.W/2-20, h-15, xlabel, black)
	for i, s := range series {
		chart.Text(img, a.Left+a.W-150, a.Top+15+15*i, s.name, s.col)
		a.Curve(img, s.pts, 1, 0, s.col)
	}
	return img
}
