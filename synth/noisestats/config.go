package noisestats

import (
	"fmt"
	"math"
)

// MaxLag is the largest lag (in pixels) at which spatial correlation is
// measured; lags 1..MaxLag are reported.
const MaxLag = 2

// Config sets the binning of the statistics (its json tags are `ludvae
// eval noise --json`'s keys).
type Config struct {
	// Bins is the number of clean-intensity bins of equal width over [0,1]
	// (values outside [0,1] go to the edge bins).
	Bins int `json:"bins"`
	// HistLimit and HistStep (0–255 units) define the noise histogram:
	// bins of width HistStep centred on k·HistStep for |k·HistStep| <=
	// HistLimit. Values beyond the outermost centres fall into the edge
	// bins.
	HistLimit float64 `json:"hist_limit"`
	HistStep  float64 `json:"hist_step"`
	// Epsilon is the probability added to every histogram bin (then
	// renormalized) before the KL divergence, so that empty bins give a
	// finite value.
	Epsilon float64 `json:"kl_epsilon"`
}

// DefaultConfig returns 16 intensity bins, a noise histogram over
// [−64, 64] (0–255 units) in steps of 1 (bins centred on the integers, so
// noise between 8-bit images, always a whole number of grey levels, falls
// in the middle of a bin) and Epsilon 1e-6.
func DefaultConfig() Config {
	return Config{Bins: 16, HistLimit: 64, HistStep: 1, Epsilon: 1e-6}
}

// Validate reports a configuration that cannot be used.
func (c Config) Validate() error {
	switch {
	case c.Bins < 1:
		return fmt.Errorf("noisestats: %d intensity bins (need at least 1)", c.Bins)
	case !(c.HistStep > 0) || math.IsInf(c.HistStep, 0):
		return fmt.Errorf("noisestats: histogram step %v (need > 0)", c.HistStep)
	case !(c.HistLimit >= 0) || c.HistLimit/c.HistStep > 1e6:
		return fmt.Errorf("noisestats: histogram limit %v with step %v (need 0 <= limit <= 1e6 steps)", c.HistLimit, c.HistStep)
	case !(c.Epsilon >= 0) || c.Epsilon >= 1:
		return fmt.Errorf("noisestats: KL epsilon %v (need 0 <= epsilon < 1)", c.Epsilon)
	}
	return nil
}

// HistBins is the number of histogram bins: 2·round(HistLimit/HistStep)+1.
func (c Config) HistBins() int {
	return 2*int(math.Round(c.HistLimit/c.HistStep)) + 1
}
