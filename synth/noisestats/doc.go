// Package noisestats measures the noise of a degraded image relative to its
// clean original, so that a synthetic degradation (LUD-VAE's C2N output, an
// AWGN baseline) can be compared with a real one on the same clean images.
//
// The noise is n = degraded − clean, computed on [0,1] floats and reported
// on the 0–255 scale. Per colour channel the package measures:
//
//   - the standard deviation of n in each bin of the clean intensity (bins
//     of equal width over [0,1]), so signal-dependent noise shows as a
//     curve ([BinnedStd]);
//   - the Pearson correlation of n(x, y) with n(x+k, y) (horizontal) and
//     n(x, y+k) (vertical) at lags k = 1 and 2 ([Correlation]);
//   - a histogram of n with bins of width HistStep centred on multiples of
//     HistStep over [−HistLimit, HistLimit] (values beyond fall into the
//     edge bins), and the KL divergence between two such histograms with a
//     probability floor ([Histogram], [KL]).
//
// It also computes the two metrics the literature compares noise models
// by, per image: DANet's AKLD ([AKLD], from local variances,
// [LocalVariance]) and NAFlow's histogram KLD ([KLD]); [MeasureField]
// gives both and [MeanField] averages them over images, as those papers do.
//
// The functions on slices are pure; [Accumulator] pools them over many
// image pairs, [Compare] condenses two [Stats] into a [Comparison], and
// [Plot] draws std-versus-intensity curves.
package noisestats
