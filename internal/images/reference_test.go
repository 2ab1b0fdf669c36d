package images

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/ludvae/ludvae/torchbind/pickle"
)

// referencePath holds KAIR's reference vectors (docs/design.md §5): crop_uint8
// (97×103×3), its 8 augmentations and its MATLAB-style bicubic resizes.
const referencePath = "../../testdata/reference/image_vectors.pth"

var (
	refOnce sync.Once
	refDict *pickle.Dict
	refErr  error
)

func reference(t testing.TB) *pickle.Dict {
	t.Helper()
	refOnce.Do(func() {
		v, err := pickle.Load(referencePath)
		if err != nil {
			refErr = err
			return
		}
		d, ok := v.(*pickle.Dict)
		if !ok {
			refErr = fmt.Errorf("%s holds %T, want a dict", referencePath, v)
			return
		}
		refDict = d
	})
	if refErr != nil {
		t.Fatalf("reading reference vectors: %v", refErr)
	}
	return refDict
}

func refTensor(t testing.TB, key string, dt pickle.DType) *pickle.Tensor {
	t.Helper()
	v, ok := reference(t).Get(key)
	if !ok {
		t.Fatalf("reference has no %q", key)
	}
	tt, ok := v.(*pickle.Tensor)
	if !ok || tt.DType != dt {
		t.Fatalf("reference %q is %T (%v), want a %s tensor", key, v, tt, dt)
	}
	return tt
}

// refHWC8 returns a uint8 HWC reference image and its height and width.
func refHWC8(t testing.TB, key string) ([]uint8, int, int) {
	tt := refTensor(t, key, pickle.Uint8)
	if len(tt.Shape) != 3 || tt.Shape[2] != 3 {
		t.Fatalf("reference %q has shape %v, want H×W×3", key, tt.Shape)
	}
	return tt.Contiguous(), int(tt.Shape[0]), int(tt.Shape[1])
}

// refHWC32 returns a float32 HWC reference image and its height and width.
func refHWC32(t testing.TB, key string) ([]float32, int, int) {
	tt := refTensor(t, key, pickle.Float32)
	if len(tt.Shape) != 3 || tt.Shape[2] != 3 {
		t.Fatalf("reference %q has shape %v, want H×W×3", key, tt.Shape)
	}
	raw := tt.Contiguous()
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out, int(tt.Shape[0]), int(tt.Shape[1])
}

// refCrop is the reference crop (crop_uint8) as an Image, v/255.
func refCrop(t testing.TB) *Image {
	pix, h, w := refHWC8(t, "crop_uint8")
	return FromUint8(w, h, pix)
}

// TestAugmentMatchesKAIR: Augment reproduces KAIR's augment_img for all 8
// modes byte for byte (shape included) on the reference crop.
func TestAugmentMatchesKAIR(t *testing.T) {
	crop := refCrop(t)
	for mode := 0; mode < Modes; mode++ {
		want, h, w := refHWC8(t, "augment_mode"+string(rune('0'+mode)))
		got := Augment(crop, mode)
		if got.W != w || got.H != h {
			t.Errorf("mode %d: size %dx%d, want %dx%d", mode, got.W, got.H, w, h)
			continue
		}
		g := ToUint8(got)
		for i := range g {
			if g[i] != want[i] {
				t.Errorf("mode %d: first difference at HWC index %d (row %d col %d ch %d): %d, want %d",
					mode, i, i/3/w, i/3%w, i%3, g[i], want[i])
				break
			}
		}
	}
}

// TestImresizeMatchesKAIR: Imresize of crop_uint8/255 agrees with KAIR's
// imresize_np(img, scale, antialiasing=True) within 1e-4 at ×1/4, ×1/2,
// ×1/3 and ×2 (in practice within float32 rounding, ~1e-7).
func TestImresizeMatchesKAIR(t *testing.T) {
	const tol = 1e-4
	crop := refCrop(t)
	for _, tc := range []struct {
		key   string
		scale float64
	}{
		{"imresize_x1_4", 1.0 / 4},
		{"imresize_x1_2", 1.0 / 2},
		{"imresize_x1_3", 1.0 / 3},
		{"imresize_x2", 2},
	} {
		t.Run(tc.key, func(t *testing.T) {
			want, h, w := refHWC32(t, tc.key)
			got := Imresize(crop, tc.scale)
			if got.W != w || got.H != h {
				t.Fatalf("size %dx%d, want %dx%d", got.W, got.H, w, h)
			}
			g := ToHWC(got)
			var maxErr float64
			for i := range g {
				maxErr = max(maxErr, math.Abs(float64(g[i])-float64(want[i])))
			}
			t.Logf("max abs error %.3g", maxErr)
			if maxErr > tol {
				t.Errorf("max abs error %.3g > %g", maxErr, tol)
			}
		})
	}
}
