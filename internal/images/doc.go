// Package images is the image handling behind training and synthesis:
// decoding image files into float32 planar RGB (JPEGs with libjpeg-turbo,
// package jpegturbo, as PIL and OpenCV decode them), writing PNGs,
// listing and loading dataset folders, KAIR's eight flip/rotation
// augmentations, random training crops and the MATLAB-style antialiased
// bicubic resize that KAIR (the LUD-VAE authors' toolbox) uses to make
// low-resolution images.
//
// Pixel values are float32 in [0,1], planar CHW with C = 3 (see [Image]).
// 8-bit sources map exactly to v/255 and 16-bit sources to v/65535 (both
// rounded once to float32). Grey images are replicated to RGB; alpha is
// dropped, keeping the non-premultiplied colour values.
//
// The definitions follow KAIR's utils_image.py and are checked against the
// vectors in testdata/reference/image_vectors.pth.
package images
