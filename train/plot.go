package train

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/ludvae/ludvae/model/images"
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

// drawLogPlot renders series with a linear x axis and a log10 y axis.
func drawLogPlot(series []lineSeries, xlabel string, w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	left, right, top, bottom := 70, w-20, 20, h-40
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, p := range s.pts {
			if p[1] > 0 && !math.IsInf(p[1], 0) {
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
	px := func(x float64) int { return left + int((x-xmin)/(xmax-xmin)*float64(right-left)) }
	py := func(ly float64) int { return bottom - int((ly-ymin)/(ymax-ymin)*float64(bottom-top)) }
	grey := color.RGBA{200, 200, 200, 255}
	for d := ymin; d <= ymax; d++ {
		line(img, left, py(d), right, py(d), grey)
		label(img, 5, py(d)+4, "1e"+strconv.Itoa(int(d)), color.Black)
	}
	line(img, left, bottom, right, bottom, color.Black)
	line(img, left, top, left, bottom, color.Black)
	label(img, left, h-15, strconv.Itoa(int(xmin)), color.Black)
	label(img, right-60, h-15, strconv.Itoa(int(xmax)), color.Black)
	label(img, (left+right)/2-20, h-15, xlabel, color.Black)
	for i, s := range series {
		label(img, right-150, top+15+15*i, s.name, s.col)
		prev := image.Point{-1, -1}
		for _, p := range s.pts {
			if !(p[1] > 0) || math.IsInf(p[1], 0) {
				continue
			}
			q := image.Point{px(p[0]), py(math.Log10(p[1]))}
			if prev.X >= 0 {
				line(img, prev.X, prev.Y, q.X, q.Y, s.col)
			}
			prev = q
		}
	}
	return img
}

// line draws a segment (Bresenham).
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.Color) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	err := dx + dy
	for {
		img.Set(x0, y0, c)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * err
		if e2 >= dy {
			err += dy
			x0 += sx
		}
		if e2 <= dx {
			err += dx
			y0 += sy
		}
	}
}

func label(img *image.RGBA, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

func abs(a int) int {
	if a < 0 {
		return -a
	}
	return a
}

func sign(a int) int {
	switch {
	case a > 0:
		return 1
	case a < 0:
		return -1
	}
	return 0
}
