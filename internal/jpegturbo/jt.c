#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "jt.h"

/* Package jpegturbo's ColorSpace constants are these numbers. */
_Static_assert(JCS_GRAYSCALE == 1 && JCS_RGB == 2 && JCS_YCbCr == 3 && JCS_CMYK == 4 && JCS_YCCK == 5,
	"J_COLOR_SPACE numbering");
_Static_assert(JT_MSG_LEN == JMSG_LENGTH_MAX, "message buffer size");

/* libjpeg's default error_exit prints and calls exit(); ours jumps back to
 * the entry point that set `jump`, which then destroys the decompressor. */
struct jt_err {
	struct jpeg_error_mgr pub;
	jmp_buf jump;
	int code;
	char msg[JMSG_LENGTH_MAX];
};

struct jt_dec {
	struct jpeg_decompress_struct cinfo;
	struct jt_err err;
};

static void jt_error_exit(j_common_ptr c) {
	struct jt_err *e = (struct jt_err *)c->err;
	c->err->format_message(c, e->msg);
	longjmp(e->jump, 1);
}

/* Warnings about corrupt entropy data are ignored, as PIL ignores them (it
 * decodes such files). Running out of data, even when only the final EOI
 * marker is missing, is fatal, as in PIL and Go's image/jpeg: libjpeg would
 * pad what is missing with grey and carry on. */
static void jt_emit_message(j_common_ptr c, int level) {
	if (level >= 0)
		return;
	if (c->err->msg_code == JWRN_JPEG_EOF) {
		((struct jt_err *)c->err)->code = JT_TRUNCATED;
		jt_error_exit(c);
	}
	c->err->num_warnings++;
}

static int jt_fail(jt_dec *d, char *msg) {
	int code = d->err.code;
	memcpy(msg, d->err.msg, JT_MSG_LEN);
	msg[JT_MSG_LEN - 1] = 0;
	return code;
}

int jt_open(const unsigned char *data, size_t size, jt_dec **dec, jt_header *hdr, char *msg) {
	jt_dec *d = calloc(1, sizeof *d);
	*dec = NULL;
	if (d == NULL) {
		snprintf(msg, JT_MSG_LEN, "out of memory");
		return JT_ERROR;
	}
	d->cinfo.err = jpeg_std_error(&d->err.pub);
	d->err.pub.error_exit = jt_error_exit;
	d->err.pub.emit_message = jt_emit_message;
	d->err.code = JT_ERROR;
	if (setjmp(d->err.jump)) {
		int code = jt_fail(d, msg);
		jt_close(d);
		return code;
	}
	jpeg_create_decompress(&d->cinfo);
	jpeg_mem_src(&d->cinfo, data, (unsigned long)size);
	jpeg_read_header(&d->cinfo, TRUE);
	hdr->width = (int)d->cinfo.image_width;
	hdr->height = (int)d->cinfo.image_height;
	hdr->components = d->cinfo.num_components;
	hdr->color_space = (int)d->cinfo.jpeg_color_space;
	hdr->progressive = d->cinfo.progressive_mode;
	*dec = d;
	return 0;
}

int jt_decode(jt_dec *d, int channels, unsigned char *out, char *msg) {
	struct jpeg_decompress_struct *c = &d->cinfo;
	if (setjmp(d->err.jump))
		return jt_fail(d, msg);
	c->out_color_space = channels == 1 ? JCS_GRAYSCALE : channels == 3 ? JCS_RGB : JCS_CMYK;
	/* libjpeg's defaults, set explicitly because they are what PIL (and
	 * OpenCV) decode with: the accurate integer IDCT and fancy (triangle
	 * filter) upsampling of subsampled chroma. */
	c->dct_method = JDCT_ISLOW;
	c->do_fancy_upsampling = TRUE;
	jpeg_start_decompress(c);
	/* out was sized from the header: never write past it. */
	if (c->output_components != channels || c->output_width != c->image_width || c->output_height != c->image_height) {
		snprintf(msg, JT_MSG_LEN, "libjpeg gives %ux%u with %d channels, want %ux%u with %d",
			c->output_width, c->output_height, c->output_components, c->image_width, c->image_height, channels);
		return JT_ERROR;
	}
	size_t stride = (size_t)c->output_width * (size_t)channels;
	while (c->output_scanline < c->output_height) {
		JSAMPROW row = out + (size_t)c->output_scanline * stride;
		jpeg_read_scanlines(c, &row, 1);
	}
	jpeg_finish_decompress(c);
	return 0;
}

void jt_close(jt_dec *d) {
	if (d == NULL)
		return;
	jpeg_destroy_decompress(&d->cinfo);
	free(d);
}
