/* Internal: a small strict DER reader and writer (X.690 distinguished
 * encoding rules), for the certificate fields the core reads itself.
 *
 * The reader never allocates and never reads outside the window it is
 * given: every length is checked against what is left before it is used.
 * It accepts only what DER allows: single-byte tags (numbers 0 to 30),
 * definite lengths in their shortest form (long form only from 128 on,
 * without leading zero bytes, at most four length bytes). Indefinite
 * lengths (BER) are refused. */
#ifndef DK_CORE_DER_H
#define DK_CORE_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    DK__DER_BOOLEAN = 0x01,
    DK__DER_INTEGER = 0x02,
    DK__DER_BIT_STRING = 0x03,
    DK__DER_OCTET_STRING = 0x04,
    DK__DER_OID = 0x06,
    DK__DER_UTF8 = 0x0c,
    DK__DER_NUMERIC = 0x12,
    DK__DER_PRINTABLE = 0x13,
    DK__DER_T61 = 0x14,
    DK__DER_IA5 = 0x16,
    DK__DER_UTCTIME = 0x17,
    DK__DER_GENTIME = 0x18,
    DK__DER_VISIBLE = 0x1a,
    DK__DER_UNIVERSAL = 0x1c,
    DK__DER_BMP = 0x1e,
    DK__DER_SEQ = 0x30,
    DK__DER_SET = 0x31,
};

/* A window on DER bytes still to read. */
typedef struct dk__der {
    const uint8_t *p;
    size_t n;
} dk__der;

/* Reads the next element of `d`: its tag, its contents (`content`, a
 * window inside `d`) and, when `whole` is not NULL, the element with its
 * tag and length. Advances `d` past it. False (and `d` unchanged) when `d`
 * is empty or the element is malformed or longer than what is left. */
bool dk__der_next(dk__der *d, uint8_t *tag, dk__der *content, dk__der *whole);

/* As dk__der_next(), and the tag must be `tag`. */
bool dk__der_expect(dk__der *d, uint8_t tag, dk__der *content);

/* True when `der` holds exactly one element (nothing after it). */
bool dk__der_is_one(const uint8_t *der, size_t len);

/* Output buffer for the writer; `ok` turns false on overflow and stays
 * false. */
typedef struct dk__der_out {
    uint8_t *buf;
    size_t cap, len;
    bool ok;
} dk__der_out;

/* Appends tag, length and `len` bytes of `content`. */
void dk__der_put(dk__der_out *o, uint8_t tag, const void *content, size_t len);

/* Appends raw bytes (an element already encoded). */
void dk__der_raw(dk__der_out *o, const void *bytes, size_t len);

/* Wraps everything written since offset `mark` in one element of tag
 * `tag` (moves it right to make room for the header). */
void dk__der_wrap(dk__der_out *o, size_t mark, uint8_t tag);

#endif
