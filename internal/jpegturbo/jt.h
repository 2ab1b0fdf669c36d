/* The C side of package jpegturbo: libjpeg(-turbo) decompression with an
 * error manager that returns instead of exiting. Every function returns 0 on
 * success, JT_TRUNCATED when the data ended early, JT_ERROR otherwise; on
 * failure msg (JMSG_LENGTH_MAX = 200 bytes) holds libjpeg's message. */
#ifndef JT_H
#define JT_H

#include <stddef.h>

#define JT_MSG_LEN 200
#define JT_ERROR 1
#define JT_TRUNCATED 2

typedef struct jt_dec jt_dec;

/* What the header declares; color_space is jpeglib.h's J_COLOR_SPACE
 * (0 unknown, 1 grey, 2 RGB, 3 YCbCr, 4 CMYK, 5 YCCK). */
typedef struct {
	int width, height, components, color_space, progressive;
} jt_header;

/* jt_open reads the header of the JPEG in data[0:size]; data must stay
 * valid and unmoved until jt_close. */
int jt_open(const unsigned char *data, size_t size, jt_dec **dec, jt_header *hdr, char *msg);

/* jt_decode decodes the whole image into out (height rows of width*channels
 * bytes): channels 1 asks for grey, 3 for RGB, 4 for CMYK (as stored, Adobe
 * files inverted). */
int jt_decode(jt_dec *dec, int channels, unsigned char *out, char *msg);

/* jt_close releases dec (NULL is allowed). */
void jt_close(jt_dec *dec);

#endif
