/* Writes a YCCK JPEG (Adobe transform 2) from raw CMYK samples on stdin:
 * ycck W H OUT < cmyk.raw. For jpegturbo's test data. */
#include <stdio.h>
#include <stdlib.h>
#include <jpeglib.h>
int main(int argc, char **argv) {
	int w = atoi(argv[1]), h = atoi(argv[2]);
	unsigned char *buf = malloc((size_t)w * h * 4);
	if (fread(buf, 4, (size_t)w * h, stdin) != (size_t)w * h) return 1;
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr e;
	c.err = jpeg_std_error(&e);
	jpeg_create_compress(&c);
	FILE *f = fopen(argv[3], "wb");
	jpeg_stdio_dest(&c, f);
	c.image_width = w; c.image_height = h; c.input_components = 4; c.in_color_space = JCS_CMYK;
	jpeg_set_defaults(&c);
	jpeg_set_colorspace(&c, JCS_YCCK);
	jpeg_set_quality(&c, 90, TRUE);
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < c.image_height) {
		JSAMPROW row = buf + (size_t)c.next_scanline * w * 4;
		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	fclose(f);
	return 0;
}
