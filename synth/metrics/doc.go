// Package metrics computes PSNR and SSIM exactly as KAIR's utils_image.py
// (calculate_psnr, calculate_ssim), the definitions the LUD-VAE paper's
// numbers use.
//
// Images are HWC (numpy's layout) on the 0–255 scale, as float64 or uint8
// slices with explicit height, width and channel count; a border of
// `border` pixels is cropped from each side before measuring. Grey images
// are c = 1 (KAIR's 2-D arrays). The Image wrappers take images.Image
// values (float32 in [0,1]) and first quantize them to uint8 with KAIR's
// single2uint rounding, because KAIR measures the uint8 images it saves
// and reads back; call the slice functions for unquantized values.
//
// Both agree with the KAIR reference vectors in
// testdata/reference/image_vectors.pth within 1e-12. Their grey SSIM
// (ssim_gray) is KAIR's 2-D path applied to the green channel of the two
// images (c = 1 here), not to a luma conversion: KAIR's rgb2ycbcr(only_y)
// and the 0.299/0.587/0.114 grey both miss it by more than 0.1. Channel
// counts other than 1 and 3 (which KAIR rejects) average over channels.
package metrics
