// Package synth turns clean images into paired training data with a trained
// LUD-VAE: C2N (synthetic degraded versions), N2C (clean estimates), and
// super-resolution pairs, tile by tile for images of any size.
package synth
