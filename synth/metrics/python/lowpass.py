"""Reference for metrics.LowPass: reads W H SIGMA and a raw little-endian
float32 planar (CHW, 3 channels) image from argv[1], blurs every channel
with OpenCV's GaussianBlur (window 2*ceil(3*sigma)+1, BORDER_REFLECT_101)
in float64, and writes the result as raw float64 CHW to argv[2]."""
import math
import sys

import cv2
import numpy as np

w, h, sigma = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
img = np.fromfile(sys.argv[1], dtype="<f4").astype(np.float64).reshape(3, h, w)
k = 2 * math.ceil(3 * sigma) + 1
out = np.stack([cv2.GaussianBlur(p, (k, k), sigma, borderType=cv2.BORDER_REFLECT_101) for p in img])
out.astype("<f8").tofile(sys.argv[2])
