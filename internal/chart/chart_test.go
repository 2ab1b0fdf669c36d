package chart

import (
	"image/color"
	"math"
	"testing"
)

var red = color.RGBA{255, 0, 0, 255}

// TestAxesMapEnds: the ends of each range land on the plot area's edges,
// a value in between where the closed form puts it, on a log axis by its
// exponent.
func TestAxesMapEnds(t *testing.T) {
	a := Axes{Left: 10, Top: 20, W: 100, H: 50, XMin: -1, XMax: 1, YMin: 0, YMax: 5}
	if a.X(-1) != 10 || a.X(1) != 110 || a.X(0) != 60 || a.Y(0) != 70 || a.Y(5) != 20 || a.Y(2.5) != 45 {
		t.Fatalf("linear: X(-1,0,1) = %d %d %d, Y(0,2.5,5) = %d %d %d", a.X(-1), a.X(0), a.X(1), a.Y(0), a.Y(2.5), a.Y(5))
	}
	l := Axes{Left: 0, Top: 0, W: 10, H: 40, XMin: 0, XMax: 1, YMin: 1e-3, YMax: 10, LogY: true}
	if l.Y(1e-3) != 40 || l.Y(10) != 0 || l.Y(1e-2) != 30 || l.Y(1) != 10 {
		t.Fatalf("log: Y(1e-3, 1e-2, 1, 10) = %d %d %d %d, want 40 30 10 0", l.Y(1e-3), l.Y(1e-2), l.Y(1), l.Y(10))
	}
	if l.Drawable(0) || l.Drawable(-1) || l.Drawable(math.NaN()) || a.Drawable(math.Inf(1)) || !a.Drawable(-1) {
		t.Fatal("Drawable: zero and negatives are not on a log axis, NaN and Inf on none, negatives on a linear one")
	}
}

// TestCurveBreaksAtGaps: a NaN point leaves a gap: the pixels between its
// neighbours stay white, while a line joins the drawable points on each
// side, width pixels thick, with a marker centred on each point.
func TestCurveBreaksAtGaps(t *testing.T) {
	img := New(40, 20)
	a := Axes{Left: 0, Top: 0, W: 30, H: 10, XMin: 0, XMax: 3, YMin: 0, YMax: 1}
	a.Curve(img, [][2]float64{{0, 0.5}, {1, 0.5}, {2, math.NaN()}, {3, 0.5}}, 2, 3, red)
	for x := 0; x <= 11; x++ { // joined: x = 0 … 10, and the marker to 11
		if img.RGBAAt(x, 5) != red || img.RGBAAt(x, 6) != red && x <= 10 {
			t.Fatalf("(%d, 5..6) not drawn", x)
		}
	}
	for x := 12; x <= 28; x++ { // the gap, up to the last marker's left edge (29)
		if img.RGBAAt(x, 5) != (color.RGBA{255, 255, 255, 255}) {
			t.Fatalf("(%d, 5) drawn across the NaN", x)
		}
	}
	if img.RGBAAt(29, 4) != red || img.RGBAAt(31, 6) != red || img.RGBAAt(32, 5) == red {
		t.Fatal("the last point's 3×3 marker is not at (29..31, 4..6)")
	}
}
