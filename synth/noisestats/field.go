package noisestats

import (
	"math"

	"github.com/ludvae/ludvae/internal/images"
)

// Field holds the two metrics by which noise models are compared in the
// literature (DANet, NAFlow, PNG and the LUD-VAE authors' later work), for
// a synthetic degradation against the real one: lower is closer.
type Field struct {
	AKLD float64 `json:"akld"` // DANet's average KL divergence of local Gaussians ([AKLD])
	KLD  float64 `json:"kld"`  // NAFlow's histogram KL divergence ([KLD])
}

// MeasureField returns the Field metrics of one image's real and
// synthetic noise (degraded − clean on the [0,1] scale, see [Noise]).
func MeasureField(realNoise, synthNoise *images.Image) (Field, error) {
	akld, err := AKLD(realNoise, synthNoise)
	if err != nil {
		return Field{}, err
	}
	kld, err := KLD(realNoise, synthNoise)
	if err != nil {
		return Field{}, err
	}
	return Field{AKLD: akld, KLD: kld}, nil
}

// MeanField averages per-image metrics, as DANet and NAFlow report them
// (each image counts once, whatever its size). It is NaN for no images.
func MeanField(per []Field) Field {
	if len(per) == 0 {
		return Field{AKLD: math.NaN(), KLD: math.NaN()}
	}
	var m Field
	for _, f := range per {
		m.AKLD += f.AKLD
		m.KLD += f.KLD
	}
	n := float64(len(per))
	return Field{AKLD: m.AKLD / n, KLD: m.KLD / n}
}
