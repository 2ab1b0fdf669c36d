package synth

import "testing"

// windows cover every pixel by exactly one core, all windows have one
// size, and each holds its core with margin pixels of context on every
// side that is not the image's border.
func TestWindows(t *testing.T) {
	for _, c := range []struct{ h, w, tile, margin int }{
		{1356, 2040, 512, 24}, {70, 93, 16, 8}, {25, 25, 24, 24}, {100, 7, 16, 8}, {48, 48, 16, 8},
	} {
		ws, sh, sw := windows(c.h, c.w, c.tile, c.margin)
		cover := make([]int, c.h*c.w)
		for _, v := range ws {
			if v.th > c.tile || v.tw > c.tile || v.th <= 0 || v.tw <= 0 {
				t.Errorf("%+v: core %+v larger than the tile or empty", c, v)
			}
			if v.wy < 0 || v.wx < 0 || v.wy+sh > c.h || v.wx+sw > c.w {
				t.Errorf("%+v: window %+v (%d×%d) leaves the image", c, v, sh, sw)
			}
			if v.wy > max(v.y0-c.margin, 0) || v.wy+sh < min(v.y0+v.th+c.margin, c.h) ||
				v.wx > max(v.x0-c.margin, 0) || v.wx+sw < min(v.x0+v.tw+c.margin, c.w) {
				t.Errorf("%+v: window %+v (%d×%d) lacks context of its core", c, v, sh, sw)
			}
			for y := v.y0; y < v.y0+v.th; y++ {
				for x := v.x0; x < v.x0+v.tw; x++ {
					cover[y*c.w+x]++
				}
			}
		}
		for i, n := range cover {
			if n != 1 {
				t.Fatalf("%+v: pixel (%d, %d) in %d cores", c, i/c.w, i%c.w, n)
			}
		}
	}
	// A 2K photo at the default tile: 3 × 4 cores of 452 × 510, windows
	// of 500 × 558 at 3 levels.
	ws, sh, sw := windows(1356, 2040, 512, 24)
	if len(ws) != 12 || sh != 500 || sw != 558 {
		t.Errorf("2040×1356 at tile 512: %d windows of %d×%d, want 12 of 500×558", len(ws), sh, sw)
	}
}
