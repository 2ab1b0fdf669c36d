// Package chart draws the project's figures on an RGBA canvas: lines,
// rectangles, text in basicfont's 7×13 face, and curves on axes that map
// data to pixels (linear, or log10 in y). The training loss plot, the
// noise-statistics plot of `ludvae eval noise` and the labels of `ludvae
// montage` are drawn with it.
package chart

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// CharW and CharH are the width of one character of the text face and the
// height of a line of it, in pixels.
const CharW, CharH = 7, 13

// New returns a white w×h canvas.
func New(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	return img
}

// Text writes s (ASCII) with its baseline starting at (x, y).
func Text(img draw.Image, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// Rect fills [x0, x1) × [y0, y1).
func Rect(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	draw.Draw(img, image.Rect(x0, y0, x1, y1), &image.Uniform{c}, image.Point{}, draw.Src)
}

// HLine draws the row y from x0 to x1, both included.
func HLine(img *image.RGBA, x0, x1, y int, c color.RGBA) { Rect(img, x0, y, x1+1, y+1, c) }

// VLine draws the column x from y0 to y1, both included.
func VLine(img *image.RGBA, x, y0, y1 int, c color.RGBA) { Rect(img, x, y0, x+1, y1+1, c) }

// Line draws a straight line from (x0, y0) to (x1, y1), width pixels wide
// (a width×width square at each step along the longer side).
func Line(img *image.RGBA, x0, y0, x1, y1, width int, c color.RGBA) {
	n := max(abs(x1-x0), abs(y1-y0), 1)
	for i := 0; i <= n; i++ {
		t := float64(i) / float64(n)
		x := int(math.Round(float64(x0) + t*float64(x1-x0)))
		y := int(math.Round(float64(y0) + t*float64(y1-y0)))
		Rect(img, x, y, x+width, y+width, c)
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// Axes maps data to the plot area whose top-left corner is (Left, Top),
// W×H pixels: x from XMin to XMax, y from YMin (bottom) to YMax (top), on
// a log10 scale when LogY.
type Axes struct {
	Left, Top, W, H        int
	XMin, XMax, YMin, YMax float64
	LogY                   bool
}

// X is the column of x.
func (a Axes) X(x float64) int {
	return a.Left + int(math.Round((x-a.XMin)/(a.XMax-a.XMin)*float64(a.W)))
}

// Y is the row of y.
func (a Axes) Y(y float64) int {
	lo, hi := a.YMin, a.YMax
	if a.LogY {
		y, lo, hi = math.Log10(y), math.Log10(lo), math.Log10(hi)
	}
	return a.Top + a.H - int(math.Round((y-lo)/(hi-lo)*float64(a.H)))
}

// Drawable says whether y can be drawn: finite, and positive on a log
// axis.
func (a Axes) Drawable(y float64) bool {
	return !math.IsNaN(y) && !math.IsInf(y, 0) && (!a.LogY || y > 0)
}

// Frame draws the x axis (bottom) and the y axis (left).
func (a Axes) Frame(img *image.RGBA, c color.RGBA) {
	HLine(img, a.Left, a.Left+a.W, a.Top+a.H, c)
	VLine(img, a.Left, a.Top, a.Top+a.H, c)
}

// Curve draws the points (x, y) joined by lines width pixels wide, broken
// where a y cannot be drawn; marker > 0 puts a square of that side on
// every point.
func (a Axes) Curve(img *image.RGBA, pts [][2]float64, width, marker int, c color.RGBA) {
	var prev image.Point
	joined := false
	for _, p := range pts {
		if !a.Drawable(p[1]) {
			joined = false
			continue
		}
		q := image.Point{a.X(p[0]), a.Y(p[1])}
		if joined {
			Line(img, prev.X, prev.Y, q.X, q.Y, width, c)
		}
		if marker > 0 {
			Rect(img, q.X-marker/2, q.Y-marker/2, q.X+marker-marker/2, q.Y+marker-marker/2, c)
		}
		prev, joined = q, true
	}
}
