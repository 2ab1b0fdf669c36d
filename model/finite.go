package model

import (
	"fmt"
	"math"

	tb "github.com/ludvae/ludvae/torchbind"
)

// CheckFinite reports the first parameter that holds a NaN or an infinity.
// A diverged run can save such a model; synthesizing or exporting with it
// would write images or a generator of NaNs without a word, so the commands
// that load a model to use it refuse it here, naming the key.
func (m *LUDVAE) CheckFinite() error {
	var bad error
	err := tb.Try(func() {
		tb.WithScope(func(*tb.Scope) {
			for _, p := range m.Params() {
				// max |x| propagates NaN and is +Inf for any infinity.
				if v := p.Tensor.Abs().Max().Item(); math.IsNaN(v) || math.IsInf(v, 0) {
					bad = fmt.Errorf("parameter %s holds non-finite values (max |x| = %g): the model diverged or the file is damaged", p.Name, v)
					return
				}
			}
		})
	})
	if err != nil {
		return fmt.Errorf("checking parameters: %w", err)
	}
	return bad
}
