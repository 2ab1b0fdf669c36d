// Package model is the LUD-VAE ladder network of Zheng et al. in Go: its
// layers as plain structs whose parameter names are the authors' state-dict
// keys, the training loss, and the generators (C2N, N2C, reconstruction).
package model

import "fmt"

// Config is the size of a LUD-VAE network.
type Config struct {
	Channels int // image channels (3)
	Filters  int // feature width F (128 in the paper)
	Levels   int // ladder levels, 1 to 5 (3 in the paper)
}

// Default is the paper's configuration: 5,709,827 parameters.
var Default = Config{Channels: 3, Filters: 128, Levels: 3}

// MaxLevels is the deepest ladder supported.
const MaxLevels = 5

// Validate reports a configuration the network cannot be built with.
func (c Config) Validate() error {
	switch {
	case c.Channels < 1:
		return fmt.Errorf("model: %d image channels, need at least 1", c.Channels)
	case c.Filters < 1:
		return fmt.Errorf("model: %d filters, need at least 1", c.Filters)
	case c.Levels < 1 || c.Levels > MaxLevels:
		return fmt.Errorf("model: %d levels, supported are 1 to %d", c.Levels, MaxLevels)
	}
	return nil
}

func (c Config) String() string {
	return fmt.Sprintf("%d channels, %d filters, %d levels", c.Channels, c.Filters, c.Levels)
}
