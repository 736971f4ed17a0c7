/* dk_variant: Godot's binary serialization. Encodings worked out by hand
 * from the format (Godot 4 and Godot 3 numbering), round trips of every
 * type, the strict decoder and its memory bound, the container calls, and
 * put_var/get_var over real UDP peers and a real DTLS session on the
 * backend built. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloccount.h"
#include "testutil.h"
#include "variant_internal.h"

#define V4 DK_VAR_GODOT4
#define V3 DK_VAR_GODOT3

/* ------------------------------------------------------------ helpers */

static void hexdump(const char *what, const uint8_t *b, size_t n)
{
    fprintf(stderr, "%s (%zu):", what, n);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s%02x", i % 4 ? "" : " ", b[i]);
    fprintf(stderr, "\n");
}

/* Encodes `v` and compares with `want`; returns the length. */
static size_t expect_bytes(const char *name, const dk_variant *v, dk_var_version ver,
                           const uint8_t *want, size_t n)
{
    static uint8_t buf[1 << 17];
    size_t len = 0;
    ck_assert_msg(v != NULL, "%s: no value: %s", name, dk_last_error());
    ck_assert_dk_ok(dk_variant_encode(v, ver, buf, sizeof buf, &len));
    if (len != n || memcmp(buf, want, n) != 0) {
        hexdump("want", want, n);
        hexdump("got ", buf, len);
        ck_abort_msg("%s: encoding differs", name);
    }
    return len;
}

/* Decodes and expects `want` (with no value out and, when `needle`, that
 * text in the message). */
static void expect_fail(dk_var_version ver, const uint8_t *b, size_t n, dk_err want,
                        const char *needle)
{
    dk_variant *v = (dk_variant *)&v; /* must come back NULL */
    dk_err e = dk_variant_decode(b, n, ver, &v);
    ck_assert_msg(e == want, "decode -> %d, want %d: %s", (int)e, (int)want, dk_last_error());
    ck_assert_ptr_null(v);
    if (needle)
        ck_assert_msg(strstr(dk_last_error(), needle) != NULL, "'%s' does not say '%s'",
                      dk_last_error(), needle);
}

static dk_variant *decode_ok(dk_var_version ver, const uint8_t *b, size_t n)
{
    dk_variant *v = NULL;
    ck_assert_dk_ok(dk_variant_decode(b, n, ver, &v));
    ck_assert_ptr_nonnull(v);
    return v;
}

/* Allocations made by one failing decode (Check's assertions allocate, so
 * none runs while counting). */
static bool allocations_counted(void);

/* A failing decode makes `want` allocations (checked where the counter
 * sees them). */
static void failing_decode_allocs(dk_var_version ver, const uint8_t *b, size_t n, uint64_t want)
{
    dk_variant *v = NULL;
    uint64_t before = tu_alloc_count();
    dk_err e = dk_variant_decode(b, n, ver, &v);
    uint64_t allocs = tu_alloc_count() - before;
    ck_assert_int_eq(e, DK_ERR_PARSE);
    ck_assert_ptr_null(v);
    if (allocations_counted())
        ck_assert_uint_eq(allocs, want);
}

#define FAIL_PARSE(ver, arr, needle) expect_fail((ver), (arr), sizeof(arr), DK_ERR_PARSE, (needle))
#define FAIL_UNAVAIL(ver, arr, needle)                                                             \
    expect_fail((ver), (arr), sizeof(arr), DK_ERR_UNAVAILABLE, (needle))

static void set(dk_variant *d, const char *key, dk_variant *value)
{
    ck_assert_dk_ok(dk_variant_dict_set_str(d, key, value));
}

static void add(dk_variant *a, dk_variant *value)
{
    ck_assert_dk_ok(dk_variant_array_append(a, value));
}

/* ------------------------------------------- encodings worked by hand */

/* Every value starts with a 32-bit little-endian header: the type id in
 * byte 0, byte 1 unused (0), flags in bytes 2-3. Bodies are padded to 4
 * bytes with zeros. Godot 4 and Godot 3 number the types differently. */

/* nil: type 0 in both, no body. */
static const uint8_t nil_b[] = {0x00, 0x00, 0x00, 0x00};

/* true: type 1 in both, then 1 as a 32-bit int. */
static const uint8_t true_b[] = {0x01, 0, 0, 0, 0x01, 0, 0, 0};

/* int 1: type 2 in both; it fits 32 bits, so no flag and a 4-byte body. */
static const uint8_t int1_b[] = {0x02, 0, 0, 0, 0x01, 0, 0, 0};

/* int 1 in the 64-bit form: header 2 | ENCODE_FLAG_64 (1 << 16) =
 * 0x00010002, little-endian 02 00 01 00, then 1 in 8 bytes. Godot writes 1
 * in 4 bytes but reads this form too; so does dtlskit. */
static const uint8_t int1_64_b[] = {0x02, 0, 0x01, 0, 0x01, 0, 0, 0, 0, 0, 0, 0};

/* int -1: 0xffffffff. */
static const uint8_t int_m1_b[] = {0x02, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};

/* int 2^32 needs 64 bits: flag set, 0x0000000100000000 little-endian. */
static const uint8_t int_2p32_b[] = {0x02, 0, 0x01, 0, 0, 0, 0, 0, 0x01, 0, 0, 0};

/* float 1.5 = 1.1b x 2^0: single precision sign 0, exponent 127, fraction
 * 0x400000 -> 0x3fc00000, little-endian 00 00 c0 3f. Exact in 32 bits, so
 * type 3 (both versions) without flag. */
static const uint8_t f15_b[] = {0x03, 0, 0, 0, 0x00, 0x00, 0xc0, 0x3f};

/* float 1.5 in the 64-bit form: exponent 1023 = 0x3ff, fraction
 * 0x8000000000000 -> 0x3ff8000000000000; header 3 | flag 64. */
static const uint8_t f15_64_b[] = {0x03, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f};

/* float 0.1 is not exact in 32 bits: flag 64, 0x3fb999999999999a. */
static const uint8_t f01_b[] = {0x03, 0, 0x01, 0, 0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f};

/* float -0.0: exact in 32 bits, sign bit only: 0x80000000. */
static const uint8_t fm0_b[] = {0x03, 0, 0, 0, 0, 0, 0, 0x80};

/* String "héllo": é is U+00E9, in UTF-8 c3 a9, so 6 bytes 68 c3 a9 6c 6c
 * 6f; type 4 in both, length 6, the bytes, 2 zero bytes to reach 16. */
static const uint8_t hello_b[] = {0x04, 0,    0,    0,    0x06, 0,    0,    0,
                                  0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f, 0x00, 0x00};

/* Empty String: length 0, nothing else. */
static const uint8_t empty_str_b[] = {0x04, 0, 0, 0, 0, 0, 0, 0};

/* Vector2(1.5, -2): type 5 in both; 1.5f = 0x3fc00000; -2.0f: sign 1,
 * exponent 128, fraction 0 -> 0xc0000000. */
static const uint8_t vec2_b[] = {0x05, 0, 0, 0, 0, 0, 0xc0, 0x3f, 0, 0, 0, 0xc0};

/* Vector2i(3, -4): Godot 4 type 6 (Godot 3 has none); -4 = 0xfffffffc. */
static const uint8_t vec2i_b[] = {0x06, 0, 0, 0, 0x03, 0, 0, 0, 0xfc, 0xff, 0xff, 0xff};

/* Rect2(0, 0, 2, 1): Godot 4 type 7, Godot 3 type 6; 2.0f = 0x40000000,
 * 1.0f = 0x3f800000. */
static const uint8_t rect2_4b[] = {0x07, 0, 0, 0, 0, 0,    0, 0, 0,    0,
                                   0,    0, 0, 0, 0, 0x40, 0, 0, 0x80, 0x3f};
static const uint8_t rect2_3b[] = {0x06, 0, 0, 0, 0, 0,    0, 0, 0,    0,
                                   0,    0, 0, 0, 0, 0x40, 0, 0, 0x80, 0x3f};

/* Vector3(1, 2, 3): Godot 4 type 9, Godot 3 type 7; 3.0f = 0x40400000. */
static const uint8_t vec3_4b[] = {0x09, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40};
static const uint8_t vec3_3b[] = {0x07, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40};

/* Vector3i(1, 2, 3): Godot 4 type 10. */
static const uint8_t vec3i_b[] = {0x0a, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0};

/* Color(1, 0.5, 0, 1): Godot 4 type 20 (0x14), Godot 3 type 14 (0x0e);
 * 0.5f = 0x3f000000. Always single precision. */
static const uint8_t color_4b[] = {0x14, 0,    0, 0, 0, 0, 0x80, 0x3f, 0,    0,
                                   0,    0x3f, 0, 0, 0, 0, 0,    0,    0x80, 0x3f};
static const uint8_t color_3b[] = {0x0e, 0,    0, 0, 0, 0, 0x80, 0x3f, 0,    0,
                                   0,    0x3f, 0, 0, 0, 0, 0,    0,    0x80, 0x3f};

/* StringName &"k": Godot 4 type 21 (0x15), then as a String: length 1,
 * "k" = 6b, 3 padding bytes. */
static const uint8_t sname_b[] = {0x15, 0, 0, 0, 0x01, 0, 0, 0, 0x6b, 0, 0, 0};

/* [nil, true, "a"]: Godot 4 Array type 28 (0x1c), Godot 3 type 19 (0x13);
 * count 3; nil (4 bytes); true (8); "a": type 4, length 1, 61, padding. */
static const uint8_t array_4b[] = {0x1c, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1,    0, 0, 0,
                                   1,    0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0x61, 0, 0, 0};
static const uint8_t array_3b[] = {0x13, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1,    0, 0, 0,
                                   1,    0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0x61, 0, 0, 0};

/* {"k": 2}: Godot 4 Dictionary type 27 (0x1b), Godot 3 type 18 (0x12);
 * 1 entry; key "k"; value int 2. */
static const uint8_t dict_4b[] = {0x1b, 0, 0,    0, 1, 0, 0, 0, 4, 0, 0, 0, 1, 0,
                                  0,    0, 0x6b, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0};
static const uint8_t dict_3b[] = {0x12, 0, 0,    0, 1, 0, 0, 0, 4, 0, 0, 0, 1, 0,
                                  0,    0, 0x6b, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0};

/* Array[int] [7] (Godot 4 typed Array): header 28 | built-in element type
 * (1 << 16) = 0x0001001c; element type 2 (int); count 1; int 7. */
static const uint8_t typed_array_b[] = {0x1c, 0, 0x01, 0, 2, 0, 0, 0, 1, 0,
                                        0,    0, 2,    0, 0, 0, 7, 0, 0, 0};

/* Dictionary[String, int] {"k": 2}: header 27 | key built-in (1 << 16) |
 * value built-in (1 << 18) = 0x0005001b; key type 4; value type 2; count
 * 1; "k"; 2. */
static const uint8_t typed_dict_b[] = {0x1b, 0, 0x05, 0, 4, 0, 0, 0, 2, 0, 0, 0,
                                       1,    0, 0,    0, 4, 0, 0, 0, 1, 0, 0, 0,
                                       0x6b, 0, 0,    0, 2, 0, 0, 0, 2, 0, 0, 0};

/* PackedByteArray 01 02 03 04 05: Godot 4 type 29 (0x1d), Godot 3
 * PoolByteArray 20 (0x14); count 5, the bytes, 3 zero bytes. */
static const uint8_t bytes_4b[] = {0x1d, 0, 0, 0, 5, 0, 0, 0, 1, 2, 3, 4, 5, 0, 0, 0};
static const uint8_t bytes_3b[] = {0x14, 0, 0, 0, 5, 0, 0, 0, 1, 2, 3, 4, 5, 0, 0, 0};

/* PackedInt32Array [1, -1]: Godot 4 type 30 (0x1e), Godot 3 PoolIntArray
 * 21 (0x15); count 2, then 4 bytes each. */
static const uint8_t i32s_4b[] = {0x1e, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
static const uint8_t i32s_3b[] = {0x15, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};

/* PackedInt64Array [2^32]: Godot 4 type 31 (0x1f), 8 bytes each. */
static const uint8_t i64s_b[] = {0x1f, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0};

/* PackedFloat32Array [0.5]: Godot 4 type 32 (0x20), Godot 3 PoolRealArray
 * 22 (0x16); 0.5f = 0x3f000000. */
static const uint8_t f32s_4b[] = {0x20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x3f};
static const uint8_t f32s_3b[] = {0x16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x3f};

/* PackedFloat64Array [0.5]: Godot 4 type 33 (0x21); 0.5 = 0x3fe0000000000000. */
static const uint8_t f64s_b[] = {0x21, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f};

/* PackedStringArray ["ab", ""]: Godot 4 type 34 (0x22), Godot 3
 * PoolStringArray 23 (0x17); count 2; here each length counts the string's
 * NUL: 3, "ab\0", 1 padding byte; 1, "\0", 3 padding bytes. */
static const uint8_t strings_4b[] = {0x22, 0,    0, 0, 2, 0, 0, 0, 3, 0, 0, 0,
                                     0x61, 0x62, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
static const uint8_t strings_3b[] = {0x17, 0,    0, 0, 2, 0, 0, 0, 3, 0, 0, 0,
                                     0x61, 0x62, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};

/* PackedVector2Array [(1, 2)]: Godot 4 type 35 (0x23), Godot 3 24 (0x18). */
static const uint8_t v2s_4b[] = {0x23, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40};
static const uint8_t v2s_3b[] = {0x18, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40};

/* PackedVector3Array [(1, 2, 3)]: Godot 4 type 36 (0x24), Godot 3 25 (0x19). */
static const uint8_t v3s_4b[] = {0x24, 0,    0, 0, 1, 0,    0, 0, 0,    0,
                                 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40};
static const uint8_t v3s_3b[] = {0x19, 0,    0, 0, 1, 0,    0, 0, 0,    0,
                                 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40};

/* PackedColorArray [(1, 0.5, 0, 1)]: Godot 4 type 37 (0x25), Godot 3 26 (0x1a). */
static const uint8_t colors_4b[] = {0x25, 0, 0, 0,    1, 0, 0, 0, 0, 0, 0x80, 0x3f,
                                    0,    0, 0, 0x3f, 0, 0, 0, 0, 0, 0, 0x80, 0x3f};
static const uint8_t colors_3b[] = {0x1a, 0, 0, 0,    1, 0, 0, 0, 0, 0, 0x80, 0x3f,
                                    0,    0, 0, 0x3f, 0, 0, 0, 0, 0, 0, 0x80, 0x3f};

/* The values those bytes stand for. */
static dk_variant *mk_nil(void)
{
    return dk_variant_new_nil();
}
static dk_variant *mk_true(void)
{
    return dk_variant_new_bool(true);
}
static dk_variant *mk_int1(void)
{
    return dk_variant_new_int(1);
}
static dk_variant *mk_int_m1(void)
{
    return dk_variant_new_int(-1);
}
static dk_variant *mk_int_2p32(void)
{
    return dk_variant_new_int(INT64_C(1) << 32);
}
static dk_variant *mk_f15(void)
{
    return dk_variant_new_float(1.5);
}
static dk_variant *mk_f01(void)
{
    return dk_variant_new_float(0.1);
}
static dk_variant *mk_fm0(void)
{
    return dk_variant_new_float(-0.0);
}
static dk_variant *mk_hello(void)
{
    return dk_variant_new_string("h\xc3\xa9llo");
}
static dk_variant *mk_empty_str(void)
{
    return dk_variant_new_string("");
}
static dk_variant *mk_vec2(void)
{
    return dk_variant_new_vector2(1.5f, -2.0f);
}
static dk_variant *mk_vec2i(void)
{
    return dk_variant_new_vector2i(3, -4);
}
static dk_variant *mk_rect2(void)
{
    return dk_variant_new_rect2(0, 0, 2, 1);
}
static dk_variant *mk_vec3(void)
{
    return dk_variant_new_vector3(1, 2, 3);
}
static dk_variant *mk_vec3i(void)
{
    return dk_variant_new_vector3i(1, 2, 3);
}
static dk_variant *mk_color(void)
{
    return dk_variant_new_color(1, 0.5f, 0, 1);
}
static dk_variant *mk_sname(void)
{
    return dk_variant_new_string_name("k");
}
static dk_variant *mk_array(void)
{
    dk_variant *a = dk_variant_new_array(DK_VAR_NIL);
    add(a, dk_variant_new_nil());
    add(a, dk_variant_new_bool(true));
    add(a, dk_variant_new_string("a"));
    return a;
}
static dk_variant *mk_dict(void)
{
    dk_variant *d = dk_variant_new_dictionary(DK_VAR_NIL, DK_VAR_NIL);
    set(d, "k", dk_variant_new_int(2));
    return d;
}
static dk_variant *mk_typed_array(void)
{
    dk_variant *a = dk_variant_new_array(DK_VAR_INT);
    add(a, dk_variant_new_int(7));
    return a;
}
static dk_variant *mk_typed_dict(void)
{
    dk_variant *d = dk_variant_new_dictionary(DK_VAR_STRING, DK_VAR_INT);
    set(d, "k", dk_variant_new_int(2));
    return d;
}
static dk_variant *mk_bytes(void)
{
    static const uint8_t b[] = {1, 2, 3, 4, 5};
    return dk_variant_new_packed(DK_VAR_PACKED_BYTE_ARRAY, b, sizeof b);
}
static dk_variant *mk_i32s(void)
{
    static const int32_t x[] = {1, -1};
    return dk_variant_new_packed(DK_VAR_PACKED_INT32_ARRAY, x, 2);
}
static dk_variant *mk_i64s(void)
{
    static const int64_t x[] = {INT64_C(1) << 32};
    return dk_variant_new_packed(DK_VAR_PACKED_INT64_ARRAY, x, 1);
}
static dk_variant *mk_f32s(void)
{
    static const float x[] = {0.5f};
    return dk_variant_new_packed(DK_VAR_PACKED_FLOAT32_ARRAY, x, 1);
}
static dk_variant *mk_f64s(void)
{
    static const double x[] = {0.5};
    return dk_variant_new_packed(DK_VAR_PACKED_FLOAT64_ARRAY, x, 1);
}
static dk_variant *mk_strings(void)
{
    static const char *const s[] = {"ab", ""};
    return dk_variant_new_packed_strings(s, 2);
}
static dk_variant *mk_v2s(void)
{
    static const dk_vec2 x[] = {{1, 2}};
    return dk_variant_new_packed(DK_VAR_PACKED_VECTOR2_ARRAY, x, 1);
}
static dk_variant *mk_v3s(void)
{
    static const dk_vec3 x[] = {{1, 2, 3}};
    return dk_variant_new_packed(DK_VAR_PACKED_VECTOR3_ARRAY, x, 1);
}
static dk_variant *mk_colors(void)
{
    static const dk_color x[] = {{1, 0.5f, 0, 1}};
    return dk_variant_new_packed(DK_VAR_PACKED_COLOR_ARRAY, x, 1);
}

typedef struct vector {
    const char *name;
    dk_var_version ver;
    const uint8_t *bytes;
    size_t len;
    dk_variant *(*make)(void);
} vector;

#define VEC(name, ver, arr, mk)                                                                    \
    {                                                                                              \
        name, ver, arr, sizeof arr, mk                                                             \
    }

static const vector vectors[] = {
    VEC("nil", V4, nil_b, mk_nil),
    VEC("nil/3", V3, nil_b, mk_nil),
    VEC("true", V4, true_b, mk_true),
    VEC("true/3", V3, true_b, mk_true),
    VEC("int 1", V4, int1_b, mk_int1),
    VEC("int 1/3", V3, int1_b, mk_int1),
    VEC("int -1", V4, int_m1_b, mk_int_m1),
    VEC("int 2^32", V4, int_2p32_b, mk_int_2p32),
    VEC("int 2^32/3", V3, int_2p32_b, mk_int_2p32),
    VEC("float 1.5", V4, f15_b, mk_f15),
    VEC("float 1.5/3", V3, f15_b, mk_f15),
    VEC("float 0.1", V4, f01_b, mk_f01),
    VEC("float 0.1/3", V3, f01_b, mk_f01),
    VEC("float -0", V4, fm0_b, mk_fm0),
    VEC("String héllo", V4, hello_b, mk_hello),
    VEC("String héllo/3", V3, hello_b, mk_hello),
    VEC("String empty", V4, empty_str_b, mk_empty_str),
    VEC("Vector2", V4, vec2_b, mk_vec2),
    VEC("Vector2/3", V3, vec2_b, mk_vec2),
    VEC("Vector2i", V4, vec2i_b, mk_vec2i),
    VEC("Rect2", V4, rect2_4b, mk_rect2),
    VEC("Rect2/3", V3, rect2_3b, mk_rect2),
    VEC("Vector3", V4, vec3_4b, mk_vec3),
    VEC("Vector3/3", V3, vec3_3b, mk_vec3),
    VEC("Vector3i", V4, vec3i_b, mk_vec3i),
    VEC("Color", V4, color_4b, mk_color),
    VEC("Color/3", V3, color_3b, mk_color),
    VEC("StringName", V4, sname_b, mk_sname),
    VEC("Array", V4, array_4b, mk_array),
    VEC("Array/3", V3, array_3b, mk_array),
    VEC("Dictionary", V4, dict_4b, mk_dict),
    VEC("Dictionary/3", V3, dict_3b, mk_dict),
    VEC("Array[int]", V4, typed_array_b, mk_typed_array),
    VEC("Dictionary[String, int]", V4, typed_dict_b, mk_typed_dict),
    VEC("PackedByteArray", V4, bytes_4b, mk_bytes),
    VEC("PoolByteArray/3", V3, bytes_3b, mk_bytes),
    VEC("PackedInt32Array", V4, i32s_4b, mk_i32s),
    VEC("PoolIntArray/3", V3, i32s_3b, mk_i32s),
    VEC("PackedInt64Array", V4, i64s_b, mk_i64s),
    VEC("PackedFloat32Array", V4, f32s_4b, mk_f32s),
    VEC("PoolRealArray/3", V3, f32s_3b, mk_f32s),
    VEC("PackedFloat64Array", V4, f64s_b, mk_f64s),
    VEC("PackedStringArray", V4, strings_4b, mk_strings),
    VEC("PoolStringArray/3", V3, strings_3b, mk_strings),
    VEC("PackedVector2Array", V4, v2s_4b, mk_v2s),
    VEC("PoolVector2Array/3", V3, v2s_3b, mk_v2s),
    VEC("PackedVector3Array", V4, v3s_4b, mk_v3s),
    VEC("PoolVector3Array/3", V3, v3s_3b, mk_v3s),
    VEC("PackedColorArray", V4, colors_4b, mk_colors),
    VEC("PoolColorArray/3", V3, colors_3b, mk_colors),
};
#define NVECTORS (int)(sizeof vectors / sizeof vectors[0])

/* Each value encodes to its bytes, the bytes decode to an equal value,
 * and that value encodes to the same bytes. */
START_TEST(hand_encodings)
{
    const vector *t = &vectors[_i];
    dk_variant *v = t->make();
    expect_bytes(t->name, v, t->ver, t->bytes, t->len);
    dk_variant *back = decode_ok(t->ver, t->bytes, t->len);
    ck_assert_msg(dk_variant_equal(v, back), "%s: decoded value differs", t->name);
    expect_bytes(t->name, back, t->ver, t->bytes, t->len);
    /* The size query. */
    size_t need = 0;
    ck_assert_int_eq(dk_variant_encode(v, t->ver, NULL, 0, &need), DK_ERR_BUFFER_TOO_SMALL);
    ck_assert_uint_eq(need, t->len);
    uint8_t small[8];
    if (t->len > sizeof small) {
        ck_assert_int_eq(dk_variant_encode(v, t->ver, small, sizeof small, &need),
                         DK_ERR_BUFFER_TOO_SMALL);
        ck_assert_uint_eq(need, t->len);
    }
    dk_variant_free(v);
    dk_variant_free(back);
}
END_TEST

/* Every cut of every message fails cleanly, and so does a message with
 * anything after it. */
START_TEST(truncations_and_trailing)
{
    const vector *t = &vectors[_i];
    for (size_t cut = 0; cut < t->len; cut++) {
        /* A copy of exactly `cut` bytes, so that ASan sees any overread. */
        uint8_t *b = malloc(cut ? cut : 1);
        memcpy(b, t->bytes, cut);
        dk_variant *v = (dk_variant *)b;
        dk_err e = dk_variant_decode(b, cut, t->ver, &v);
        ck_assert_msg(e == DK_ERR_PARSE, "%s cut at %zu: %d %s", t->name, cut, (int)e,
                      dk_last_error());
        ck_assert_ptr_null(v);
        free(b);
    }
    uint8_t more[600];
    memcpy(more, t->bytes, t->len);
    memcpy(more + t->len, nil_b, 4);
    expect_fail(t->ver, more, t->len + 4, DK_ERR_PARSE, "follow the value");
    more[t->len] = 0;
    expect_fail(t->ver, more, t->len + 1, DK_ERR_PARSE, "1 bytes follow");
}
END_TEST

/* The forms Godot reads but does not write decode to the same values and
 * re-encode in the form Godot writes. */
START_TEST(wide_forms)
{
    dk_variant *v = decode_ok(V4, int1_64_b, sizeof int1_64_b);
    int64_t i = 0;
    ck_assert_dk_ok(dk_variant_get_int(v, &i));
    ck_assert_int_eq(i, 1);
    expect_bytes("int 1 from 64 bits", v, V4, int1_b, sizeof int1_b);
    dk_variant_free(v);

    v = decode_ok(V3, f15_64_b, sizeof f15_64_b);
    double f = 0;
    ck_assert_dk_ok(dk_variant_get_float(v, &f));
    ck_assert(f == 1.5);
    expect_bytes("float 1.5 from 64 bits", v, V3, f15_b, sizeof f15_b);
    dk_variant_free(v);

    /* Range ends: INT32_MIN stays 4 bytes, INT32_MAX + 1 takes 8. */
    uint8_t buf[16];
    size_t n;
    v = dk_variant_new_int(INT32_MIN);
    ck_assert_dk_ok(dk_variant_encode(v, V4, buf, sizeof buf, &n));
    ck_assert_uint_eq(n, 8);
    dk_variant_free(v);
    v = dk_variant_new_int((int64_t)INT32_MAX + 1);
    ck_assert_dk_ok(dk_variant_encode(v, V4, buf, sizeof buf, &n));
    ck_assert_uint_eq(n, 12);
    dk_variant_free(v);
    /* NaN never equals itself: Godot writes it in 8 bytes; infinity fits 4;
     * past FLT_MAX takes 8. */
    double specials[] = {NAN, INFINITY, -INFINITY, 1e300, FLT_MAX, 1e39};
    size_t sizes[] = {12, 8, 8, 12, 8, 12};
    for (int k = 0; k < 6; k++) {
        v = dk_variant_new_float(specials[k]);
        ck_assert_dk_ok(dk_variant_encode(v, V4, buf, sizeof buf, &n));
        ck_assert_uint_eq(n, sizes[k]);
        dk_variant *back = decode_ok(V4, buf, n);
        ck_assert(dk_variant_equal(v, back));
        dk_variant_free(back);
        dk_variant_free(v);
    }
}
END_TEST

/* ----------------------------------------------------- round trips */

/* Every type once, nested, with the version's types only. */
static dk_variant *sink(dk_var_version ver)
{
    dk_variant *d = dk_variant_new_dictionary(DK_VAR_NIL, DK_VAR_NIL);
    set(d, "nil", dk_variant_new_nil());
    set(d, "yes", dk_variant_new_bool(true));
    set(d, "no", dk_variant_new_bool(false));
    set(d, "int", dk_variant_new_int(-123456));
    set(d, "big", dk_variant_new_int(INT64_MIN));
    set(d, "half", dk_variant_new_float(0.5));
    set(d, "tenth", dk_variant_new_float(0.1));
    set(d, "nan", dk_variant_new_float(NAN));
    set(d, "-0", dk_variant_new_float(-0.0));
    set(d, "inf", dk_variant_new_float(-INFINITY));
    set(d, "text", dk_variant_new_string("h\xc3\xa9llo \xf0\x9f\x8e\xae"));
    set(d, "", dk_variant_new_string(""));
    set(d, "v2", dk_variant_new_vector2(-1.25f, 1e30f));
    set(d, "rect", dk_variant_new_rect2(1, 2, 3, 4));
    set(d, "v3", dk_variant_new_vector3(0.25f, -0.0f, 7));
    set(d, "color", dk_variant_new_color(0.1f, 0.2f, 0.3f, 1));
    set(d, "bytes", mk_bytes());
    set(d, "no bytes", dk_variant_new_packed(DK_VAR_PACKED_BYTE_ARRAY, NULL, 0));
    set(d, "i32", mk_i32s());
    set(d, "f32", mk_f32s());
    set(d, "strings", mk_strings());
    set(d, "v2s", mk_v2s());
    set(d, "v3s", mk_v3s());
    set(d, "colors", mk_colors());
    dk_variant *nested = dk_variant_new_array(DK_VAR_NIL);
    set(d, "nested", nested); /* filled after it went in: top-down */
    add(nested, dk_variant_new_int(1));
    dk_variant *inner = dk_variant_new_array(DK_VAR_NIL);
    add(inner, dk_variant_new_int(2));
    add(inner, mk_array());
    add(nested, inner);
    add(nested, dk_variant_new_dictionary(DK_VAR_NIL, DK_VAR_NIL));
    dk_variant *keys = dk_variant_new_dictionary(DK_VAR_NIL, DK_VAR_NIL);
    ck_assert_dk_ok(dk_variant_dict_set(keys, dk_variant_new_int(1), dk_variant_new_string("one")));
    ck_assert_dk_ok(dk_variant_dict_set(keys, mk_vec2(), dk_variant_new_nil()));
    ck_assert_dk_ok(dk_variant_dict_set(keys, mk_array(), dk_variant_new_bool(true)));
    ck_assert_dk_ok(dk_variant_dict_set(keys, dk_variant_new_float(NAN), dk_variant_new_int(0)));
    set(d, "keys", keys);
    if (ver == V4) {
        set(d, "v2i", dk_variant_new_vector2i(INT32_MIN, INT32_MAX));
        set(d, "v3i", dk_variant_new_vector3i(-1, 0, 1));
        set(d, "name", dk_variant_new_string_name("player_1"));
        set(d, "i64", mk_i64s());
        set(d, "f64", mk_f64s());
        dk_variant *ints = dk_variant_new_array(DK_VAR_INT);
        add(ints, dk_variant_new_int(5));
        add(ints, dk_variant_new_int(6));
        set(d, "Array[int]", ints);
        set(d, "Array[String]", dk_variant_new_array(DK_VAR_STRING));
        dk_variant *td = dk_variant_new_dictionary(DK_VAR_STRING_NAME, DK_VAR_FLOAT);
        set(td, "speed", dk_variant_new_float(2.5));
        set(d, "Dictionary[StringName, float]", td);
        dk_variant *tv = dk_variant_new_dictionary(DK_VAR_NIL, DK_VAR_ARRAY);
        ck_assert_dk_ok(dk_variant_dict_set(tv, dk_variant_new_int(1), mk_array()));
        set(d, "Dictionary[Variant, Array]", tv);
    }
    return d;
}

static void round_trip(const dk_variant *v, dk_var_version ver)
{
    size_t n1 = 0, n2 = 0;
    ck_assert_int_eq(dk_variant_encode(v, ver, NULL, 0, &n1), DK_ERR_BUFFER_TOO_SMALL);
    uint8_t *a = malloc(n1), *b = malloc(n1);
    ck_assert_dk_ok(dk_variant_encode(v, ver, a, n1, &n1));
    dk_variant *back = decode_ok(ver, a, n1);
    ck_assert(dk_variant_equal(v, back));
    ck_assert_dk_ok(dk_variant_encode(back, ver, b, n1, &n2));
    ck_assert_uint_eq(n1, n2);
    ck_assert_int_eq(memcmp(a, b, n1), 0);
    /* A copy of the decoded value is equal and changeable. */
    dk_variant *c = dk_variant_copy(back);
    ck_assert(dk_variant_equal(c, back));
    dk_var_type kt, vt;
    dk_variant_dict_types(c, &kt, &vt);
    if (dk_variant_type(c) == DK_VAR_DICTIONARY && kt == DK_VAR_NIL && vt == DK_VAR_NIL) {
        set(c, "added", dk_variant_new_nil());
        ck_assert(!dk_variant_equal(c, back));
    }
    dk_variant_free(c);
    dk_variant_free(back);
    free(a);
    free(b);
}

START_TEST(round_trips)
{
    for (int ver = V4; ver <= V3; ver++) {
        dk_variant *v = sink((dk_var_version)ver);
        round_trip(v, (dk_var_version)ver);
        /* Each entry alone, too. */
        for (size_t i = 0; i < dk_variant_count(v); i++) {
            dk_variant *one = dk_variant_copy(dk_variant_dict_value_at(v, i));
            round_trip(one, (dk_var_version)ver);
            dk_variant_free(one);
        }
        dk_variant_free(v);
    }
}
END_TEST

/* Godot 3 has no Vector2i, Vector3i, StringName, 64-bit packed arrays or
 * typed containers: refused, also deep inside. */
START_TEST(godot3_refusals)
{
    dk_variant *only4[] = {mk_vec2i(),      mk_vec3i(),
                           mk_sname(),      mk_i64s(),
                           mk_f64s(),       mk_typed_array(),
                           mk_typed_dict(), dk_variant_new_dictionary(DK_VAR_NIL, DK_VAR_INT)};
    for (size_t i = 0; i < sizeof only4 / sizeof only4[0]; i++) {
        size_t n = 99;
        uint8_t buf[64];
        ck_assert_int_eq(dk_variant_encode(only4[i], V3, buf, sizeof buf, &n), DK_ERR_UNAVAILABLE);
        ck_assert_ptr_nonnull(strstr(dk_last_error(), "Godot 3 has no"));
        dk_variant *a = dk_variant_new_array(DK_VAR_NIL), *inner = dk_variant_new_array(DK_VAR_NIL);
        add(a, inner);
        add(inner, dk_variant_copy(only4[i]));
        ck_assert_int_eq(dk_variant_encode(a, V3, buf, sizeof buf, &n), DK_ERR_UNAVAILABLE);
        ck_assert_dk_ok(dk_variant_encode(a, V4, buf, sizeof buf, &n));
        dk_variant_free(a);
        dk_variant_free(only4[i]);
    }
    /* And Godot 4's ids of those types mean nothing (or something else) to
     * Godot 3: 6 is Rect2 there, 30 is past its last type. */
    FAIL_PARSE(V3, i32s_4b, "not a Godot 3 type");
    FAIL_PARSE(V3, vec2i_b, "Rect2 needs 16 bytes, 8 left");
}
END_TEST

/* ------------------------------------------------ strict decoding */

START_TEST(bad_padding)
{
    static const uint8_t str[] = {0x04, 0,    0,    0,    6,    0,    0, 0,
                                  0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f, 0, 1};
    FAIL_PARSE(V4, str, "padding");
    static const uint8_t bytes[] = {0x1d, 0, 0, 0, 5, 0, 0, 0, 1, 2, 3, 4, 5, 0, 0x80, 0};
    FAIL_PARSE(V4, bytes, "padding");
    static const uint8_t strings[] = {0x22, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 0x61, 0x62, 0, 7};
    FAIL_PARSE(V4, strings, "padding");
    /* A short last string whose padding is missing. */
    static const uint8_t cut[] = {0x04, 0, 0, 0, 1, 0, 0, 0, 0x61, 0};
    FAIL_PARSE(V3, cut, "padding");
}
END_TEST

START_TEST(lengths_past_the_end)
{
    static const uint8_t str[] = {0x04, 0, 0, 0, 0x10, 0, 0, 0, 0x61, 0, 0, 0};
    FAIL_PARSE(V4, str, "runs past the end");
    static const uint8_t bytes[] = {0x1d, 0, 0, 0, 9, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    FAIL_PARSE(V4, bytes, "run past the end");
    static const uint8_t i64[] = {0x1f, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0};
    FAIL_PARSE(V4, i64, "run past the end");
    static const uint8_t arr[] = {0x1c, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0};
    FAIL_PARSE(V4, arr, "need");
    static const uint8_t dict[] = {0x1b, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
    FAIL_PARSE(V4, dict, "need 8 bytes at least");
    static const uint8_t strs[] = {0x22, 0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 0x61, 0, 0, 0};
    FAIL_PARSE(V4, strs, "runs past the end");
    static const uint8_t sign[] = {0x04, 0, 0, 0, 0, 0, 0, 0x80};
    FAIL_PARSE(V4, sign, "bit 31");
    static const uint8_t shared[] = {0x1c, 0, 0, 0, 0, 0, 0, 0x80};
    FAIL_PARSE(V4, shared, "bit 31");
    expect_fail(V4, NULL, 0, DK_ERR_PARSE, "header");
}
END_TEST

/* Counts far beyond the input are refused before anything is allocated. */
START_TEST(huge_counts)
{
    static const uint8_t arr[] = {0x1c, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0};
    static const uint8_t dict[] = {0x12, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0};
    static const uint8_t bytes[] = {0x1d, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0};
    static const uint8_t colors[] = {0x25, 0, 0, 0, 0x00, 0x00, 0x00, 0x10, 0, 0, 0, 0};
    static const uint8_t strs[] = {0x22, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 1, 0, 0, 0, 0, 0, 0, 0};
    /* A million empty arrays promised in 12 bytes. */
    static const uint8_t many[] = {0x1c, 0, 0, 0, 0x40, 0x42, 0x0f, 0, 0x1c, 0, 0, 0};
    FAIL_PARSE(V4, arr, "bytes at least");
    FAIL_PARSE(V3, dict, "need");
    FAIL_PARSE(V4, bytes, "run past the end");
    FAIL_PARSE(V4, colors, "run past the end");
    FAIL_PARSE(V4, strs, "need");
    FAIL_PARSE(V4, many, "need");
    failing_decode_allocs(V4, arr, sizeof arr, 0);
    failing_decode_allocs(V3, dict, sizeof dict, 0);
    failing_decode_allocs(V4, bytes, sizeof bytes, 0);
    failing_decode_allocs(V4, colors, sizeof colors, 0);
    failing_decode_allocs(V4, strs, sizeof strs, 0);
    failing_decode_allocs(V4, many, sizeof many, 0);
}
END_TEST

/* `n` nested Arrays, the innermost empty. */
static uint8_t *nested_arrays(int n, size_t *len)
{
    *len = 8 * (size_t)n;
    uint8_t *b = calloc(1, *len);
    for (int i = 0; i < n; i++) {
        b[8 * i] = 0x1c;
        b[8 * i + 4] = i < n - 1;
    }
    return b;
}

START_TEST(depth_limit)
{
    size_t n;
    uint8_t *b = nested_arrays(DK_VARIANT_MAX_DEPTH, &n);
    dk_variant *v = decode_ok(V4, b, n);
    /* Down to the innermost: 64 Arrays. */
    const dk_variant *x = v;
    for (int i = 1; i < DK_VARIANT_MAX_DEPTH; i++)
        x = dk_variant_array_at(x, 0);
    ck_assert_uint_eq(dk_variant_count(x), 0);
    ck_assert_int_eq(dk_variant_type(x), DK_VAR_ARRAY);
    /* A copy keeps the depth, and a 65th level cannot be added to it. */
    dk_variant *c = dk_variant_copy(v);
    dk_variant *deepest = c;
    for (int i = 1; i < DK_VARIANT_MAX_DEPTH; i++)
        deepest = (dk_variant *)dk_variant_array_at(deepest, 0);
    ck_assert_dk_ok(dk_variant_array_append(deepest, dk_variant_new_int(1)));
    ck_assert_int_eq(dk_variant_array_append(deepest, dk_variant_new_array(DK_VAR_NIL)),
                     DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "nested"));
    size_t len;
    uint8_t *out = malloc(n + 16);
    ck_assert_dk_ok(dk_variant_encode(c, V4, out, n + 16, &len));
    dk_variant_free(c);
    free(out);
    dk_variant_free(v);
    free(b);

    b = nested_arrays(DK_VARIANT_MAX_DEPTH + 1, &n);
    expect_fail(V4, b, n, DK_ERR_PARSE, "more than 64 nested");
    failing_decode_allocs(V4, b, n, 0);
    free(b);
    /* Dictionaries count too: 65 levels of {nil: {nil: ...}}. */
    uint8_t d[65 * 12];
    for (int i = 0; i < 65; i++) {
        uint8_t lvl[12] = {0x1b, 0, 0, 0, i < 64, 0, 0, 0, 0, 0, 0, 0};
        memcpy(d + 12 * i, lvl, i < 64 ? 12 : 8);
    }
    expect_fail(V4, d, 64 * 12 + 8, DK_ERR_PARSE, "nested");
}
END_TEST

START_TEST(objects_and_unknown_types)
{
    /* Godot 4 Object as an instance id (put_var's default): type 24 (0x18)
     * with ENCODE_FLAG_OBJECT_AS_ID, then 8 bytes. */
    static const uint8_t obj_id4[] = {0x18, 0, 0x01, 0, 0x2a, 0, 0, 0, 0, 0, 0, 0};
    FAIL_UNAVAIL(V4, obj_id4, "objects are never decoded");
    /* A full object (class name "Node", 0 properties). */
    static const uint8_t obj4[] = {0x18, 0, 0, 0, 4, 0, 0, 0, 'N', 'o', 'd', 'e', 0, 0, 0, 0};
    FAIL_UNAVAIL(V4, obj4, "Object");
    /* Godot 3's Object is 17 (0x11). */
    static const uint8_t obj_id3[] = {0x11, 0, 0x01, 0, 0x2a, 0, 0, 0, 0, 0, 0, 0};
    FAIL_UNAVAIL(V3, obj_id3, "Object");
    /* Inside an Array. */
    static const uint8_t in_array[] = {0x1c, 0, 0, 0, 1, 0, 0, 0, 0x18, 0,
                                       0x01, 0, 1, 0, 0, 0, 0, 0, 0,    0};
    FAIL_UNAVAIL(V4, in_array, "Object");
    /* Arrays typed with a class (objects) and with Object itself. */
    static const uint8_t by_class[] = {0x1c, 0,   0x02, 0,   4, 0, 0, 0,
                                       'N',  'o', 'd',  'e', 0, 0, 0, 0};
    FAIL_UNAVAIL(V4, by_class, "class or script");
    static const uint8_t of_objects[] = {0x1c, 0, 0x01, 0, 0x18, 0, 0, 0, 0, 0, 0, 0};
    FAIL_UNAVAIL(V4, of_objects, "Object");
    /* Godot types dtlskit does not handle. */
    static const uint8_t t2d[] = {0x0d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                  0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    FAIL_UNAVAIL(V4, t2d, "Transform2D");
    FAIL_UNAVAIL(V3, t2d, "Transform"); /* 13: Godot 3's Transform */
    static const uint8_t node_path3[] = {0x0f, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0};
    FAIL_UNAVAIL(V3, node_path3, "NodePath");
    /* No such type. */
    static const uint8_t t39[] = {0x27, 0, 0, 0};
    FAIL_PARSE(V4, t39, "type 39 is not a Godot 4 type");
    static const uint8_t t27[] = {0x1b, 0, 0, 0};
    FAIL_PARSE(V3, t27, "type 27 is not a Godot 3 type");
    static const uint8_t tff[] = {0xff, 0, 0, 0};
    FAIL_PARSE(V4, tff, "not a Godot 4 type");
    /* Byte 1 of the header is unused and 0. */
    static const uint8_t byte1[] = {0x02, 0x01, 0, 0, 1, 0, 0, 0};
    FAIL_PARSE(V4, byte1, "byte 1");
}
END_TEST

START_TEST(flags)
{
    static const uint8_t int_flag17[] = {0x02, 0, 0x02, 0, 1, 0, 0, 0};
    FAIL_PARSE(V4, int_flag17, "flags");
    static const uint8_t str_flag[] = {0x04, 0, 0x01, 0, 0, 0, 0, 0};
    FAIL_PARSE(V4, str_flag, "flags");
    static const uint8_t nil_flag[] = {0x00, 0, 0, 0x80};
    FAIL_PARSE(V3, nil_flag, "flags");
    /* Godot 3 has no typed containers. */
    static const uint8_t typed3[] = {0x13, 0, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0};
    FAIL_PARSE(V3, typed3, "flags");
    static const uint8_t dict_bit20[] = {0x1b, 0, 0x10, 0, 0, 0, 0, 0};
    FAIL_PARSE(V4, dict_bit20, "flags");
    /* A double-precision Godot 4 build's Vector2 (8-byte components). */
    static const uint8_t v2_64[] = {0x05, 0,    0x01, 0, 0, 0, 0, 0, 0,    0,
                                    0xf0, 0x3f, 0,    0, 0, 0, 0, 0, 0xf0, 0x3f};
    FAIL_UNAVAIL(V4, v2_64, "double-precision");
    FAIL_PARSE(V3, v2_64, "flags");
    static const uint8_t v3s_64[] = {0x24, 0, 0x01, 0, 0, 0, 0, 0};
    FAIL_UNAVAIL(V4, v3s_64, "double-precision");
    /* bool is 0 or 1. */
    static const uint8_t two[] = {0x01, 0, 0, 0, 2, 0, 0, 0};
    FAIL_PARSE(V4, two, "neither 0 nor 1");
}
END_TEST

START_TEST(typed_containers)
{
    /* Array[int] holding a String "". */
    static const uint8_t wrong[] = {0x1c, 0, 0x01, 0, 2, 0, 0, 0, 1, 0,
                                    0,    0, 4,    0, 0, 0, 0, 0, 0, 0};
    FAIL_PARSE(V4, wrong, "element 0 is a String in a container typed int");
    /* Typed with Nil, or with no type at all. */
    static const uint8_t nil_typed[] = {0x1c, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    FAIL_PARSE(V4, nil_typed, "not a Godot type");
    static const uint8_t bad_type[] = {0x1c, 0, 0x01, 0, 0x99, 0, 0, 0, 0, 0, 0, 0};
    FAIL_PARSE(V4, bad_type, "not a Godot type");
    static const uint8_t t2d_typed[] = {0x1c, 0, 0x01, 0, 0x0d, 0, 0, 0, 0, 0, 0, 0};
    FAIL_UNAVAIL(V4, t2d_typed, "Transform2D");
    /* Dictionary[String, int] with an int key, then with a float value. */
    static const uint8_t key[] = {0x1b, 0, 0x05, 0, 4, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0,
                                  2,    0, 0,    0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0};
    FAIL_PARSE(V4, key, "key 0 is a int");
    static const uint8_t val[] = {0x1b, 0, 0x05, 0, 4, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0,
                                  4,    0, 0,    0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0};
    FAIL_PARSE(V4, val, "value 0 is a float");
    /* Only the value typed: one type id follows the header. */
    static const uint8_t value_only[] = {0x1b, 0, 0x04, 0, 2, 0, 0, 0, 1, 0, 0, 0,
                                         0,    0, 0,    0, 2, 0, 0, 0, 9, 0, 0, 0};
    dk_variant *v = decode_ok(V4, value_only, sizeof value_only);
    dk_var_type kt, vt;
    dk_variant_dict_types(v, &kt, &vt);
    ck_assert_int_eq(kt, DK_VAR_NIL);
    ck_assert_int_eq(vt, DK_VAR_INT);
    expect_bytes("Dictionary[Variant, int]", v, V4, value_only, sizeof value_only);
    dk_variant_free(v);
    v = decode_ok(V4, typed_array_b, sizeof typed_array_b);
    ck_assert_int_eq(dk_variant_array_type(v), DK_VAR_INT);
    dk_variant_free(v);
}
END_TEST

START_TEST(utf8)
{
    static const uint8_t bad[] = {0x04, 0, 0, 0, 2, 0, 0, 0, 0xc3, 0x28, 0, 0};
    FAIL_PARSE(V4, bad, "offset 8: invalid UTF-8");
    static const uint8_t overlong[] = {0x04, 0, 0, 0, 2, 0, 0, 0, 0xc0, 0x80, 0, 0};
    FAIL_PARSE(V4, overlong, "UTF-8");
    static const uint8_t overlong3[] = {0x04, 0, 0, 0, 3, 0, 0, 0, 0xe0, 0x80, 0xaf, 0};
    FAIL_PARSE(V4, overlong3, "UTF-8");
    static const uint8_t surrogate[] = {0x04, 0, 0, 0, 3, 0, 0, 0, 0xed, 0xa0, 0x80, 0};
    FAIL_PARSE(V4, surrogate, "UTF-8");
    static const uint8_t too_high[] = {0x04, 0, 0, 0, 4, 0, 0, 0, 0xf4, 0x90, 0x80, 0x80};
    FAIL_PARSE(V4, too_high, "UTF-8");
    static const uint8_t cut_seq[] = {0x04, 0, 0, 0, 1, 0, 0, 0, 0xc3, 0, 0, 0};
    FAIL_PARSE(V4, cut_seq, "UTF-8");
    static const uint8_t nul[] = {0x04, 0, 0, 0, 3, 0, 0, 0, 'a', 0, 'b', 0};
    FAIL_PARSE(V4, nul, "offset 9: NUL byte");
    static const uint8_t sname_bad[] = {0x15, 0, 0, 0, 1, 0, 0, 0, 0xff, 0, 0, 0};
    FAIL_PARSE(V4, sname_bad, "UTF-8");
    /* PackedStringArray: each string ends with its NUL, and only there. */
    static const uint8_t no_nul[] = {0x22, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0x61, 0x62, 0, 0};
    FAIL_PARSE(V4, no_nul, "does not end with NUL");
    static const uint8_t zero[] = {0x22, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    FAIL_PARSE(V4, zero, "without its NUL");
    static const uint8_t inner_nul[] = {0x17, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 0x61, 0, 0, 0};
    FAIL_PARSE(V3, inner_nul, "NUL byte");
    static const uint8_t bad_utf8[] = {0x22, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0xfe, 0, 0, 0};
    FAIL_PARSE(V4, bad_utf8, "UTF-8");
    /* The longest valid sequences pass: U+10FFFF and U+FFFD. */
    static const uint8_t edge[] = {0x04, 0,    0,    0,    7,    0,    0,    0,
                                   0xf4, 0x8f, 0xbf, 0xbf, 0xef, 0xbf, 0xbd, 0};
    dk_variant_free(decode_ok(V4, edge, sizeof edge));
}
END_TEST

static void le32(uint8_t *p, uint32_t x)
{
    p[0] = (uint8_t)x, p[1] = (uint8_t)(x >> 8), p[2] = (uint8_t)(x >> 16),
    p[3] = (uint8_t)(x >> 24);
}

/* A Dictionary of `n` entries int i: int i (key `dup_at` repeats
 * `dup_of`). */
static uint8_t *int_dict(uint32_t n, uint32_t dup_at, uint32_t dup_of, size_t *len)
{
    *len = 8 + 16 * (size_t)n;
    uint8_t *b = calloc(1, *len);
    le32(b, 0x1b);
    le32(b + 4, n);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *e = b + 8 + 16 * (size_t)i;
        le32(e, 2);
        le32(e + 4, i == dup_at ? dup_of : i);
        le32(e + 8, 2);
        le32(e + 12, i);
    }
    return b;
}

START_TEST(duplicate_keys)
{
    /* {"k": 1, "k": 2}: Godot keeps the last; dtlskit refuses. */
    static const uint8_t twice[] = {0x1b, 0, 0, 0, 2,    0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0,
                                    0x6b, 0, 0, 0, 2,    0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0,
                                    1,    0, 0, 0, 0x6b, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0};
    FAIL_PARSE(V4, twice, "entry 1 has the same key as entry 0");
    /* "k" and &"k" are one key in Godot 4. */
    uint8_t named[sizeof twice];
    memcpy(named, twice, sizeof twice);
    named[28] = 0x15;
    FAIL_PARSE(V4, named, "same key");
    /* 1 and 1.0 are not. */
    static const uint8_t int_float[] = {0x1b, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0,    0,    1, 0, 0, 0,
                                        0,    0, 0, 0, 3, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0, 0};
    dk_variant_free(decode_ok(V4, int_float, sizeof int_float));
    /* NaN is NaN and -0.0 is 0.0 as keys. */
    static const uint8_t nans[] = {0x1b, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0,    0,    0, 0, 0xc0, 0x7f,
                                   0,    0, 0, 0, 3, 0, 0, 0, 1, 0, 0xc0, 0x7f, 0, 0, 0,    0};
    FAIL_PARSE(V4, nans, "same key");
    static const uint8_t zeros[] = {0x1b, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0,    0, 0, 0, 0,
                                    0,    0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0};
    FAIL_PARSE(V4, zeros, "same key");
    /* Nested keys: [1, [2]] twice. */
    static const uint8_t arrays[] = {
        0x1b, 0, 0, 0, 2, 0, 0, 0,                                     /* 2 entries */
        0x1c, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0,             /* [1, */
        0x1c, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, /* [2]]: nil */
        0x1c, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0,             /* [1, */
        0x1c, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, /* [2]]: nil */
    };
    FAIL_PARSE(V4, arrays, "same key");
    /* Large dictionaries go through the hash table. */
    size_t n;
    uint8_t *b = int_dict(1000, 1000, 0, &n);
    dk_variant *v = decode_ok(V4, b, n);
    ck_assert_uint_eq(dk_variant_count(v), 1000);
    for (int64_t i = 0; i < 1000; i += 7) {
        dk_variant *k = dk_variant_new_int(i);
        int64_t got = -1;
        ck_assert_dk_ok(dk_variant_get_int(dk_variant_dict_get(v, k), &got));
        ck_assert_int_eq(got, i);
        dk_variant_free(k);
    }
    dk_variant_free(v);
    free(b);
    b = int_dict(1000, 999, 3, &n);
    expect_fail(V4, b, n, DK_ERR_PARSE, "entry 999 has the same key as entry 3");
    free(b);
    b = int_dict(9, 8, 7, &n);
    expect_fail(V4, b, n, DK_ERR_PARSE, "entry 8 has the same key as entry 7");
    free(b);
}
END_TEST

/* Decoding allocates once, at most 8 bytes per input byte, even for the
 * inputs that make the most nodes; a failing decode allocates nothing
 * (or frees what it took). */
/* False under valgrind, whose malloc bypasses the counter. */
static bool allocations_counted(void)
{
    void *(*volatile alloc)(size_t) = malloc;
    uint64_t before = tu_alloc_count();
    free(alloc(16));
    return tu_alloc_count() != before;
}

static void check_bound(const char *what, const uint8_t *b, size_t n)
{
    dk_variant *v = NULL;
    size_t got = 0;
    /* Check's assertions allocate: none inside the counted window. */
    uint64_t before = tu_alloc_count();
    dk_err e = dk__variant_decode("test", b, n, V4, &v, &got);
    uint64_t allocs = tu_alloc_count() - before;
    dk_variant_free(v);
    ck_assert_dk_ok(e);
    printf("%s: %zu bytes -> %zu bytes of tree (%.2f x), %llu allocation\n", what, n, got,
           (double)got / (double)n, (unsigned long long)allocs);
    if (allocations_counted())
        ck_assert_uint_eq(allocs, 1);
    else
        printf("note: malloc is not counted here (valgrind?): allocation count skipped\n");
    ck_assert_uint_le(got, 8 * n);
}

START_TEST(allocation_bound)
{
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++)
        if (vectors[i].ver == V4)
            check_bound(vectors[i].name, vectors[i].bytes, vectors[i].len);
    /* 16 000 nils in an Array: one node each. */
    size_t n = 8 + 4 * 16000;
    uint8_t *b = calloc(1, n);
    b[0] = 0x1c;
    b[4] = 16000 & 0xff, b[5] = 16000 >> 8;
    check_bound("Array of 16000 nils", b, n);
    free(b);
    b = int_dict(4000, 4000, 0, &n);
    check_bound("Dictionary of 4000 ints", b, n);
    free(b);
    /* Empty strings and empty packed arrays. */
    n = 8 + 8 * 8000;
    b = calloc(1, n);
    b[0] = 0x1c;
    b[4] = 8000 & 0xff, b[5] = 8000 >> 8;
    for (size_t i = 0; i < 8000; i++)
        b[8 + 8 * i] = i % 2 ? 0x04 : 0x1d;
    check_bound("Array of 8000 empty strings and packed arrays", b, n);
    free(b);
    size_t depth_len;
    b = nested_arrays(DK_VARIANT_MAX_DEPTH, &depth_len);
    check_bound("64 nested Arrays", b, depth_len);
    free(b);
    dk_variant *s = sink(V4);
    uint8_t *enc = malloc(4096);
    ck_assert_dk_ok(dk_variant_encode(s, V4, enc, 4096, &n));
    check_bound("every type", enc, n);
    /* A decode that fails after allocating (repeated key) frees it. */
    b = int_dict(1000, 999, 3, &n);
    expect_fail(V4, b, n, DK_ERR_PARSE, "same key");
    failing_decode_allocs(V4, b, n, 1);
    free(b);
    free(enc);
    dk_variant_free(s);
}
END_TEST

/* ------------------------------------------------- the value calls */

START_TEST(constructors)
{
    ck_assert_ptr_null(dk_variant_new_string("\xff"));
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "invalid UTF-8"));
    ck_assert_ptr_null(dk_variant_new_string_len("a\0b", 3));
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "NUL byte at offset 1"));
    ck_assert_ptr_null(dk_variant_new_string(NULL));
    ck_assert_ptr_null(dk_variant_new_string_len(NULL, 1));
    dk_variant *v = dk_variant_new_string_len("abc", 2);
    const char *s;
    size_t len;
    ck_assert_dk_ok(dk_variant_get_string(v, &s, &len));
    ck_assert_str_eq(s, "ab");
    ck_assert_uint_eq(len, 2);
    dk_variant_free(v);
    v = dk_variant_new_string_len(NULL, 0);
    ck_assert_dk_ok(dk_variant_get_string(v, &s, NULL));
    ck_assert_str_eq(s, "");
    dk_variant_free(v);
    ck_assert_ptr_null(dk_variant_new_string_name("\xc3"));
    ck_assert_ptr_null(dk_variant_new_array((dk_var_type)8)); /* Rect2i */
    ck_assert_ptr_null(dk_variant_new_array((dk_var_type)-1));
    ck_assert_ptr_null(dk_variant_new_dictionary(DK_VAR_NIL, (dk_var_type)24));
    ck_assert_ptr_null(dk_variant_new_packed(DK_VAR_PACKED_STRING_ARRAY, "x", 1));
    ck_assert_ptr_null(dk_variant_new_packed(DK_VAR_INT, "x", 1));
    ck_assert_ptr_null(dk_variant_new_packed(DK_VAR_PACKED_BYTE_ARRAY, NULL, 1));
    ck_assert_ptr_null(dk_variant_new_packed(DK_VAR_PACKED_COLOR_ARRAY, "x", SIZE_MAX / 8));
    const char *bad[] = {"ok", NULL};
    ck_assert_ptr_null(dk_variant_new_packed_strings(bad, 2));
    const char *bad8[] = {"ok", "\xed\xa0\x80"};
    ck_assert_ptr_null(dk_variant_new_packed_strings(bad8, 2));
    ck_assert_ptr_null(dk_variant_new_packed_strings(NULL, 1));
    v = dk_variant_new_packed_strings(NULL, 0);
    ck_assert_uint_eq(dk_variant_count(v), 0);
    ck_assert_ptr_null(dk_variant_packed_string_at(v, 0, NULL));
    dk_variant_free(v);
    ck_assert_str_eq(dk_var_type_name(DK_VAR_PACKED_VECTOR3_ARRAY), "PackedVector3Array");
    ck_assert_str_eq(dk_var_type_name((dk_var_type)8), "unknown");
    ck_assert_ptr_null(dk_variant_copy(NULL));
    dk_variant_free(NULL);
}
END_TEST

START_TEST(getters)
{
    dk_variant *d = sink(V4);
    int64_t i = 7;
    double f;
    bool b;
    dk_vec2 v2;
    dk_vec2i v2i;
    dk_vec3 v3;
    dk_vec3i v3i;
    dk_rect2 r;
    dk_color c;
    const char *s;
    size_t n;
    ck_assert_dk_ok(dk_variant_get_int(dk_variant_dict_get_str(d, "int"), &i));
    ck_assert_int_eq(i, -123456);
    /* Chained lookups fail cleanly: missing key, wrong type. */
    ck_assert_int_eq(dk_variant_get_int(dk_variant_dict_get_str(d, "missing"), &i), DK_ERR_INVALID);
    ck_assert_int_eq(dk_variant_get_int(dk_variant_dict_get_str(d, "half"), &i), DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "is a float, not a int"));
    ck_assert_int_eq(i, -123456);
    ck_assert_int_eq(dk_variant_get_int(d, NULL), DK_ERR_INVALID);
    ck_assert_dk_ok(dk_variant_get_float(dk_variant_dict_get_str(d, "half"), &f));
    ck_assert(f == 0.5);
    ck_assert_dk_ok(dk_variant_get_bool(dk_variant_dict_get_str(d, "yes"), &b));
    ck_assert(b);
    ck_assert_dk_ok(dk_variant_get_vector2(dk_variant_dict_get_str(d, "v2"), &v2));
    ck_assert(v2.x == -1.25f && v2.y == 1e30f);
    ck_assert_dk_ok(dk_variant_get_vector2i(dk_variant_dict_get_str(d, "v2i"), &v2i));
    ck_assert(v2i.x == INT32_MIN && v2i.y == INT32_MAX);
    ck_assert_dk_ok(dk_variant_get_vector3(dk_variant_dict_get_str(d, "v3"), &v3));
    ck_assert(v3.x == 0.25f && v3.z == 7);
    ck_assert_dk_ok(dk_variant_get_vector3i(dk_variant_dict_get_str(d, "v3i"), &v3i));
    ck_assert(v3i.x == -1 && v3i.z == 1);
    ck_assert_dk_ok(dk_variant_get_rect2(dk_variant_dict_get_str(d, "rect"), &r));
    ck_assert(r.position.x == 1 && r.size.y == 4);
    ck_assert_dk_ok(dk_variant_get_color(dk_variant_dict_get_str(d, "color"), &c));
    ck_assert(c.a == 1 && c.r == 0.1f);
    ck_assert_dk_ok(dk_variant_get_string(dk_variant_dict_get_str(d, "name"), &s, &n));
    ck_assert_str_eq(s, "player_1");
    ck_assert_int_eq(dk_variant_get_string(dk_variant_dict_get_str(d, "int"), &s, &n),
                     DK_ERR_INVALID);
    /* Packed arrays, in host order. */
    const void *p;
    ck_assert_dk_ok(dk_variant_get_packed(dk_variant_dict_get_str(d, "i64"),
                                          DK_VAR_PACKED_INT64_ARRAY, &p, &n));
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(((const int64_t *)p)[0], INT64_C(1) << 32);
    ck_assert_dk_ok(dk_variant_get_packed(dk_variant_dict_get_str(d, "colors"),
                                          DK_VAR_PACKED_COLOR_ARRAY, &p, &n));
    ck_assert(((const dk_color *)p)[0].g == 0.5f);
    ck_assert_int_eq(dk_variant_get_packed(dk_variant_dict_get_str(d, "colors"),
                                           DK_VAR_PACKED_VECTOR3_ARRAY, &p, &n),
                     DK_ERR_INVALID);
    ck_assert_int_eq(dk_variant_get_packed(dk_variant_dict_get_str(d, "strings"),
                                           DK_VAR_PACKED_STRING_ARRAY, &p, &n),
                     DK_ERR_INVALID);
    ck_assert_dk_ok(dk_variant_get_packed(dk_variant_dict_get_str(d, "no bytes"),
                                          DK_VAR_PACKED_BYTE_ARRAY, &p, &n));
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(n, 0);
    const dk_variant *strs = dk_variant_dict_get_str(d, "strings");
    ck_assert_str_eq(dk_variant_packed_string_at(strs, 0, &n), "ab");
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(dk_variant_packed_string_at(strs, 1, NULL), "");
    ck_assert_ptr_null(dk_variant_packed_string_at(strs, 2, NULL));
    /* Containers. */
    const dk_variant *nested = dk_variant_dict_get_str(d, "nested");
    ck_assert_uint_eq(dk_variant_count(nested), 3);
    ck_assert_ptr_null(dk_variant_array_at(nested, 3));
    ck_assert_ptr_null(dk_variant_array_at(d, 0));
    ck_assert_ptr_null(dk_variant_dict_key_at(nested, 0));
    ck_assert_uint_eq(dk_variant_count(dk_variant_dict_get_str(d, "int")), 0);
    ck_assert_int_eq(dk_variant_type(NULL), DK_VAR_NIL);
    ck_assert_int_eq(dk_variant_array_type(dk_variant_dict_get_str(d, "Array[int]")), DK_VAR_INT);
    /* Insertion order, as Godot iterates. */
    ck_assert_dk_ok(dk_variant_get_string(dk_variant_dict_key_at(d, 0), &s, NULL));
    ck_assert_str_eq(s, "nil");
    ck_assert_dk_ok(dk_variant_get_string(dk_variant_dict_key_at(d, 1), &s, NULL));
    ck_assert_str_eq(s, "yes");
    /* String and StringName name the same key. */
    dk_variant *k = dk_variant_new_string_name("int");
    ck_assert_ptr_eq(dk_variant_dict_get(d, k), dk_variant_dict_get_str(d, "int"));
    dk_variant_free(k);
    dk_variant_free(d);
}
END_TEST

START_TEST(equality)
{
    dk_variant *a = dk_variant_new_float(NAN), *b = dk_variant_new_float(-NAN);
    ck_assert(dk_variant_equal(a, b));
    dk_variant_free(a);
    dk_variant_free(b);
    a = dk_variant_new_float(0.0), b = dk_variant_new_float(-0.0);
    ck_assert(dk_variant_equal(a, b));
    dk_variant_free(b);
    b = dk_variant_new_int(0);
    ck_assert(!dk_variant_equal(a, b));
    dk_variant_free(a);
    dk_variant_free(b);
    a = dk_variant_new_string("k"), b = dk_variant_new_string_name("k");
    ck_assert(!dk_variant_equal(a, b));
    ck_assert(dk__var_same_key(a, b));
    ck_assert(dk__var_key_hash(a) == dk__var_key_hash(b));
    dk_variant_free(a);
    dk_variant_free(b);
    a = dk_variant_new_array(DK_VAR_NIL), b = dk_variant_new_array(DK_VAR_INT);
    ck_assert(!dk_variant_equal(a, b));
    ck_assert(dk_variant_equal(NULL, NULL));
    ck_assert(!dk_variant_equal(a, NULL));
    dk_variant_free(a);
    dk_variant_free(b);
}
END_TEST

START_TEST(ownership)
{
    dk_variant *a = dk_variant_new_array(DK_VAR_NIL);
    dk_variant *x = dk_variant_new_int(1);
    add(a, x);
    /* Owned: not appended elsewhere, not freed. */
    dk_variant *b = dk_variant_new_array(DK_VAR_NIL);
    ck_assert_int_eq(dk_variant_array_append(b, x), DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "already belongs"));
    dk_variant_free(x); /* ignored: the array owns it */
    ck_assert_ptr_eq(dk_variant_array_at(a, 0), x);
    /* No cycles: not into itself, not into something it holds. */
    ck_assert_int_eq(dk_variant_array_append(a, a), DK_ERR_INVALID);
    dk_variant *inner = dk_variant_new_array(DK_VAR_NIL);
    add(a, inner);
    ck_assert_int_eq(dk_variant_array_append(inner, a), DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "holds the container"));
    dk_variant *d = dk_variant_new_dictionary(DK_VAR_NIL, DK_VAR_NIL);
    add(a, d);
    ck_assert_int_eq(dk_variant_dict_set(d, dk_variant_new_int(1), a), DK_ERR_INVALID);
    ck_assert_int_eq(dk_variant_dict_set(d, a, dk_variant_new_int(1)), DK_ERR_INVALID);
    ck_assert_uint_eq(dk_variant_count(d), 0);
    dk_variant *same = dk_variant_new_int(3);
    ck_assert_int_eq(dk_variant_dict_set(d, same, same), DK_ERR_INVALID);
    /* A NULL value (a failed constructor) keeps the constructor's reason. */
    ck_assert_int_eq(dk_variant_array_append(b, dk_variant_new_string("\xff")), DK_ERR_INVALID);
    ck_assert_ptr_nonnull(
        strstr(dk_last_error(), "value is NULL (last error: dk_variant_new_string"));
    /* Failures free what was given (ASan and valgrind check). */
    ck_assert_int_eq(dk_variant_array_append(NULL, dk_variant_new_int(5)), DK_ERR_INVALID);
    ck_assert_int_eq(dk_variant_array_append(d, dk_variant_new_int(5)), DK_ERR_INVALID);
    ck_assert_int_eq(dk_variant_dict_set(b, dk_variant_new_int(5), dk_variant_new_int(5)),
                     DK_ERR_INVALID);
    ck_assert_int_eq(dk_variant_dict_set(d, NULL, dk_variant_new_int(5)), DK_ERR_INVALID);
    ck_assert_int_eq(dk_variant_dict_set(d, dk_variant_new_int(5), NULL), DK_ERR_INVALID);
    ck_assert_int_eq(dk_variant_dict_set_str(d, NULL, dk_variant_new_int(5)), DK_ERR_INVALID);
    ck_assert_int_eq(dk_variant_dict_set_str(d, "\xff", dk_variant_new_int(5)), DK_ERR_INVALID);
    ck_assert_int_eq(dk_variant_dict_set_str(NULL, "k", dk_variant_new_int(5)), DK_ERR_INVALID);
    dk_variant *typed = dk_variant_new_array(DK_VAR_STRING);
    ck_assert_int_eq(dk_variant_array_append(typed, dk_variant_new_int(5)), DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "typed String cannot be a int"));
    dk_variant *td = dk_variant_new_dictionary(DK_VAR_INT, DK_VAR_BOOL);
    ck_assert_int_eq(dk_variant_dict_set_str(td, "k", dk_variant_new_bool(true)), DK_ERR_INVALID);
    ck_assert_int_eq(dk_variant_dict_set(td, dk_variant_new_int(1), dk_variant_new_nil()),
                     DK_ERR_INVALID);
    ck_assert_dk_ok(dk_variant_dict_set(td, dk_variant_new_int(1), dk_variant_new_bool(true)));
    /* Setting an existing key replaces its value, in place. */
    set(d, "k", dk_variant_new_int(1));
    set(d, "j", dk_variant_new_int(2));
    ck_assert_dk_ok(dk_variant_dict_set(d, dk_variant_new_string_name("k"), dk_variant_new_int(3)));
    ck_assert_uint_eq(dk_variant_count(d), 2);
    int64_t i;
    ck_assert_dk_ok(dk_variant_get_int(dk_variant_dict_value_at(d, 0), &i));
    ck_assert_int_eq(i, 3);
    ck_assert_int_eq(dk_variant_type(dk_variant_dict_key_at(d, 0)), DK_VAR_STRING);
    /* A StringName-typed dictionary's string keys are StringNames. */
    dk_variant *names = dk_variant_new_dictionary(DK_VAR_STRING_NAME, DK_VAR_NIL);
    set(names, "a", dk_variant_new_nil());
    ck_assert_int_eq(dk_variant_type(dk_variant_dict_key_at(names, 0)), DK_VAR_STRING_NAME);
    add(b, names);
    /* Decoded values are read-only; a copy is not; a decoded root can go
     * into a built container (and is freed with it). */
    dk_variant *dec = decode_ok(V4, array_4b, sizeof array_4b);
    ck_assert_int_eq(dk_variant_array_append(dec, dk_variant_new_nil()), DK_ERR_STATE);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "read-only"));
    ck_assert_int_eq(dk_variant_array_append(b, (dk_variant *)dk_variant_array_at(dec, 2)),
                     DK_ERR_INVALID);
    dk_variant *dec2 = decode_ok(V4, dict_4b, sizeof dict_4b);
    ck_assert_int_eq(dk_variant_dict_set_str(dec2, "x", dk_variant_new_nil()), DK_ERR_STATE);
    add(b, dec2);
    add(b, dk_variant_copy(dec));
    add((dk_variant *)dk_variant_array_at(b, 2), dk_variant_new_int(4));
    ck_assert_uint_eq(dk_variant_count(dk_variant_array_at(b, 2)), 4);
    add(b, dec);
    ck_assert_uint_eq(dk_variant_count(b), 4);
    dk_variant_free(typed);
    dk_variant_free(td);
    dk_variant_free(a);
    dk_variant_free(b);
}
END_TEST

START_TEST(depth_by_building)
{
    /* Top-down: each new Array goes into the last one, then gets filled. */
    dk_variant *root = dk_variant_new_array(DK_VAR_NIL), *last = root;
    for (int i = 1; i < DK_VARIANT_MAX_DEPTH; i++) {
        dk_variant *next = dk_variant_new_array(DK_VAR_NIL);
        add(last, next);
        last = next;
    }
    ck_assert_int_eq(dk_variant_array_append(last, dk_variant_new_array(DK_VAR_NIL)),
                     DK_ERR_INVALID);
    /* Bottom-up: a 64-deep value cannot go into another container (the
     * call frees it). */
    dk_variant *d = dk_variant_new_dictionary(DK_VAR_NIL, DK_VAR_NIL);
    ck_assert_int_eq(dk_variant_dict_set(d, dk_variant_new_nil(), root), DK_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "more than 64 nested"));
    dk_variant_free(d);
    /* 63 levels can. */
    root = dk_variant_new_array(DK_VAR_NIL), last = root;
    for (int i = 1; i < DK_VARIANT_MAX_DEPTH - 1; i++) {
        dk_variant *next = dk_variant_new_array(DK_VAR_NIL);
        add(last, next);
        last = next;
    }
    dk_variant *wrapper = dk_variant_new_array(DK_VAR_NIL);
    add(wrapper, root);
    ck_assert_int_eq(dk_variant_array_append(last, dk_variant_new_array(DK_VAR_NIL)),
                     DK_ERR_INVALID);
    add(last, dk_variant_new_int(0));
    round_trip(wrapper, V4);
    dk_variant_free(wrapper);
}
END_TEST

START_TEST(encode_bad_input)
{
    dk_variant *v = dk_variant_new_int(1);
    uint8_t buf[16];
    size_t n;
    ck_assert_int_eq(dk_variant_encode(NULL, V4, buf, sizeof buf, &n), DK_ERR_INVALID);
    ck_assert_int_eq(dk_variant_encode(v, V4, buf, sizeof buf, NULL), DK_ERR_INVALID);
    ck_assert_int_eq(dk_variant_encode(v, V4, NULL, 8, &n), DK_ERR_INVALID);
    ck_assert_int_eq(dk_variant_encode(v, (dk_var_version)2, buf, sizeof buf, &n), DK_ERR_INVALID);
    ck_assert_int_eq(dk_variant_encode(v, V4, buf, 7, &n), DK_ERR_BUFFER_TOO_SMALL);
    ck_assert_uint_eq(n, 8);
    dk_variant *out;
    ck_assert_int_eq(dk_variant_decode(int1_b, sizeof int1_b, V4, NULL), DK_ERR_INVALID);
    ck_assert_int_eq(dk_variant_decode(NULL, 8, V4, &out), DK_ERR_INVALID);
    ck_assert_int_eq(dk_variant_decode(int1_b, sizeof int1_b, (dk_var_version)-1, &out),
                     DK_ERR_INVALID);
    ck_assert_ptr_null(out);
    dk_variant_free(v);
}
END_TEST

/* ---------------------------------------------------------- over UDP */

static dk_udp_peer *bound_peer(void)
{
    dk_udp_peer *p = dk_udp_peer_new(NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_dk_ok(dk_udp_peer_bind(p, 0, "127.0.0.1", 0));
    return p;
}

/* Waits until `p` has `n` packets queued. */
static void wait_count(dk_udp_peer *p, int n)
{
    uint64_t end = tu_now_ms() + 2000;
    while (dk_udp_peer_get_available_packet_count(p) < n && tu_now_ms() < end)
        tu_sleep_ms(1);
    ck_assert_int_eq(dk_udp_peer_get_available_packet_count(p), n);
}

static void get_equal(dk_udp_peer *p, dk_var_version ver, const dk_variant *want)
{
    dk_variant *got = NULL;
    ck_assert_dk_ok(dk_udp_peer_wait(p, 2000));
    ck_assert_dk_ok(dk_udp_peer_get_var(p, ver, &got));
    ck_assert(dk_variant_equal(got, want));
    dk_variant_free(got);
}

START_TEST(udp_put_get)
{
    dk_udp_peer *a = bound_peer();
    dk_udp_peer *b = dk_udp_peer_new(NULL);
    ck_assert_dk_ok(dk_udp_peer_connect_to_host(b, "127.0.0.1", dk_udp_peer_get_local_port(a)));
    for (int ver = V4; ver <= V3; ver++) {
        dk_variant *msg = sink((dk_var_version)ver);
        ck_assert_dk_ok(dk_udp_peer_put_var(b, msg, (dk_var_version)ver));
        get_equal(a, (dk_var_version)ver, msg);
        /* And back, to the sender's address. */
        ck_assert_dk_ok(
            dk_udp_peer_set_dest_address(a, "127.0.0.1", dk_udp_peer_get_local_port(b)));
        ck_assert_dk_ok(dk_udp_peer_put_var(a, msg, (dk_var_version)ver));
        get_equal(b, (dk_var_version)ver, msg);
        dk_variant_free(msg);
    }
    /* The exact bytes Godot would send for {"k": 2}. */
    dk_variant *d = mk_dict();
    ck_assert_dk_ok(dk_udp_peer_put_var(b, d, V3));
    ck_assert_dk_ok(dk_udp_peer_wait(a, 2000));
    uint8_t raw[64];
    size_t n;
    ck_assert_dk_ok(dk_udp_peer_get_packet(a, raw, sizeof raw, &n));
    ck_assert_uint_eq(n, sizeof dict_3b);
    ck_assert_int_eq(memcmp(raw, dict_3b, n), 0);
    dk_variant_free(d);
    dk_udp_peer_free(a);
    dk_udp_peer_free(b);
}
END_TEST

/* A packet that does not decode is consumed with its error; the packets
 * around it are untouched. */
START_TEST(udp_bad_packets_keep_the_queue)
{
    dk_udp_peer *a = bound_peer();
    dk_udp_peer *b = dk_udp_peer_new(NULL);
    ck_assert_dk_ok(dk_udp_peer_connect_to_host(b, "127.0.0.1", dk_udp_peer_get_local_port(a)));
    dk_variant *m1 = mk_array(), *m2 = mk_dict(), *m3 = mk_hello();
    ck_assert_dk_ok(dk_udp_peer_put_var(b, m1, V4));
    ck_assert_dk_ok(dk_udp_peer_put_packet(b, "junk", 4));
    ck_assert_dk_ok(dk_udp_peer_put_var(b, m2, V4));
    ck_assert_dk_ok(dk_udp_peer_put_packet(b, "", 0));
    ck_assert_dk_ok(dk_udp_peer_put_packet(b, array_4b, sizeof array_4b - 4)); /* cut */
    ck_assert_dk_ok(dk_udp_peer_put_packet(b, "", 0));
    ck_assert_dk_ok(dk_udp_peer_put_var(b, m3, V4));
    wait_count(a, 7);
    dk_variant *v = (dk_variant *)a;
    /* Bad calls take nothing. */
    ck_assert_int_eq(dk_udp_peer_get_var(a, V4, NULL), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_peer_get_var(a, (dk_var_version)9, &v), DK_ERR_INVALID);
    ck_assert_ptr_null(v);
    ck_assert_int_eq(dk_udp_peer_get_var(NULL, V4, &v), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_peer_get_available_packet_count(a), 7);
    get_equal(a, V4, m1);
    ck_assert_int_eq(dk_udp_peer_get_var(a, V4, &v), DK_ERR_PARSE);
    ck_assert_ptr_null(v);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "dk_udp_peer_get_var: offset 0"));
    ck_assert_int_eq(dk_udp_peer_get_available_packet_count(a), 5);
    get_equal(a, V4, m2);
    ck_assert_int_eq(dk_udp_peer_get_var(a, V4, &v), DK_ERR_PARSE); /* empty */
    ck_assert_int_eq(dk_udp_peer_get_var(a, V4, &v), DK_ERR_PARSE); /* cut */
    ck_assert_int_eq(dk_udp_peer_get_var(a, V4, &v), DK_ERR_PARSE); /* empty again */
    ck_assert_int_eq(dk_udp_peer_get_available_packet_count(a), 1);
    get_equal(a, V4, m3);
    ck_assert_int_eq(dk_udp_peer_get_var(a, V4, &v), DK_ERR_WOULD_BLOCK);
    ck_assert_ptr_null(v);
    dk_variant_free(m1);
    dk_variant_free(m2);
    dk_variant_free(m3);
    dk_udp_peer_free(a);
    dk_udp_peer_free(b);
}
END_TEST

START_TEST(udp_too_big_and_bad_input)
{
    dk_udp_peer *a = bound_peer();
    dk_udp_peer *b = dk_udp_peer_new(NULL);
    ck_assert_dk_ok(dk_udp_peer_connect_to_host(b, "127.0.0.1", dk_udp_peer_get_local_port(a)));
    /* One packet already waiting at the receiver stays there. */
    dk_variant *first = mk_vec2();
    ck_assert_dk_ok(dk_udp_peer_put_var(b, first, V4));
    wait_count(a, 1);
    /* 8 bytes of header and count + 65496 = 65504: fits 65507. 65500 does
     * not (65508). */
    uint8_t *big = calloc(1, 70000);
    dk_variant *fits = dk_variant_new_packed(DK_VAR_PACKED_BYTE_ARRAY, big, 65496);
    dk_variant *over = dk_variant_new_packed(DK_VAR_PACKED_BYTE_ARRAY, big, 65500);
    dk_variant *way_over = dk_variant_new_packed(DK_VAR_PACKED_BYTE_ARRAY, big, 70000);
    ck_assert_int_eq(dk_udp_peer_put_var(b, over, V4), DK_ERR_TOO_BIG);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "65508 bytes"));
    ck_assert_int_eq(dk_udp_peer_put_var(b, way_over, V3), DK_ERR_TOO_BIG);
    /* Not for this version, or not a value: nothing is sent either. */
    dk_variant *v2i = mk_vec2i();
    ck_assert_int_eq(dk_udp_peer_put_var(b, v2i, V3), DK_ERR_UNAVAILABLE);
    ck_assert_int_eq(dk_udp_peer_put_var(b, NULL, V4), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_peer_put_var(NULL, v2i, V4), DK_ERR_INVALID);
    ck_assert_int_eq(dk_udp_peer_put_var(b, v2i, (dk_var_version)5), DK_ERR_INVALID);
    tu_sleep_ms(50);
    ck_assert_int_eq(dk_udp_peer_get_available_packet_count(a), 1);
    ck_assert_dk_ok(dk_udp_peer_put_var(b, fits, V4));
    wait_count(a, 2);
    get_equal(a, V4, first);
    get_equal(a, V4, fits);
    /* No destination, no socket. */
    dk_udp_peer *lone = dk_udp_peer_new(NULL);
    ck_assert_int_eq(dk_udp_peer_put_var(lone, first, V4), DK_ERR_STATE);
    dk_variant *v = NULL;
    ck_assert_int_eq(dk_udp_peer_get_var(lone, V4, &v), DK_ERR_STATE);
    dk_udp_peer_free(lone);
    free(big);
    dk_variant_free(first);
    dk_variant_free(fits);
    dk_variant_free(over);
    dk_variant_free(way_over);
    dk_variant_free(v2i);
    dk_udp_peer_free(a);
    dk_udp_peer_free(b);
}
END_TEST

/* A UDP server's taken peer, both ways. */
START_TEST(udp_server_peer)
{
    dk_udp_server *s = dk_udp_server_new(NULL);
    ck_assert_dk_ok(dk_udp_server_listen(s, 0, "127.0.0.1"));
    dk_udp_peer *c = dk_udp_peer_new(NULL);
    ck_assert_dk_ok(dk_udp_peer_connect_to_host(c, "127.0.0.1", dk_udp_server_get_local_port(s)));
    dk_variant *hello = mk_typed_dict();
    ck_assert_dk_ok(dk_udp_peer_put_var(c, hello, V4));
    ck_assert(TU_POLL_UNTIL(s, dk_udp_server_is_connection_available(s), 2000));
    dk_udp_peer *p = dk_udp_server_take_connection(s, NULL);
    ck_assert_ptr_nonnull(p);
    get_equal(p, V4, hello);
    ck_assert_dk_ok(dk_udp_peer_put_var(p, hello, V4));
    get_equal(c, V4, hello);
    dk_variant_free(hello);
    dk_udp_peer_free(p);
    dk_udp_peer_free(c);
    dk_udp_server_free(s);
}
END_TEST

/* --------------------------------------------------------- over DTLS */

/* A game's message, small enough for one record. */
static dk_variant *game_message(dk_var_version ver)
{
    dk_variant *d = dk_variant_new_dictionary(DK_VAR_NIL, DK_VAR_NIL);
    set(d, "type", dk_variant_new_string("move"));
    set(d, "id", dk_variant_new_int(12));
    set(d, "seq", dk_variant_new_int(INT64_C(1) << 40));
    set(d, "pos", mk_vec3());
    set(d, "dir", mk_vec2());
    set(d, "hp", dk_variant_new_float(0.75));
    set(d, "alive", dk_variant_new_bool(true));
    set(d, "tint", mk_color());
    set(d, "tags", mk_strings());
    set(d, "blob", mk_bytes());
    set(d, "path", mk_v2s());
    dk_variant *items = dk_variant_new_array(DK_VAR_NIL);
    set(d, "items", items);
    add(items, dk_variant_new_string("sword"));
    add(items, mk_dict());
    add(items, dk_variant_new_nil());
    if (ver == V4) {
        set(d, "cell", mk_vec2i());
        set(d, "name", mk_sname());
        set(d, "ids", mk_typed_array());
    }
    return d;
}

static bool wait_server_packets(tu_server *s, dk_dtls_peer *p, int n)
{
    uint64_t end = tu_now_ms() + 5000;
    while (dk_dtls_peer_get_available_packet_count(p) < n && tu_now_ms() < end) {
        tu_server_step(s);
        tu_sleep_ms(1);
    }
    return dk_dtls_peer_get_available_packet_count(p) == n;
}

START_TEST(dtls_put_get)
{
    tu_server *s = tu_server_start("127.0.0.1", "server-chain.pem", "server.key", true);
    dk_tls_options *o = tu_client_opts();
    dk_dtls_peer *c = tu_client("127.0.0.1", s->port, "localhost", o);
    dk_variant *msg = game_message(V4), *v = NULL;
    /* Not connected yet. */
    ck_assert_int_eq(dk_dtls_peer_put_var(c, msg, V4), DK_ERR_STATE);
    ck_assert_int_eq(dk_dtls_peer_get_var(c, V4, &v), DK_ERR_STATE);
    ck_assert_int_eq(tu_handshake(s, &c, 1, 10000), 1);
    size_t len;
    ck_assert_int_eq(dk_variant_encode(msg, V4, NULL, 0, &len), DK_ERR_BUFFER_TOO_SMALL);
    ck_assert_uint_le(len, (size_t)dk_dtls_peer_get_max_packet_size(c));

    /* Echoed by the server, decoded by the client, in both numberings. */
    ck_assert_dk_ok(dk_dtls_peer_put_var(c, msg, V4));
    ck_assert(tu_wait_packet(s, c, 5000));
    ck_assert_int_eq(dk_dtls_peer_get_var(c, V4, &v), DK_OK);
    ck_assert(dk_variant_equal(v, msg));
    dk_variant_free(v);
    dk_variant *msg3 = game_message(V3);
    ck_assert_dk_ok(dk_dtls_peer_put_var(c, msg3, V3));
    ck_assert(tu_wait_packet(s, c, 5000));
    ck_assert_dk_ok(dk_dtls_peer_get_var(c, V3, &v));
    ck_assert(dk_variant_equal(v, msg3));
    dk_variant_free(v);

    /* The server's side reads them itself: a bad packet between two good
     * ones costs only itself. */
    s->echo = false;
    dk_dtls_peer *sp = s->peers[0];
    dk_variant *m2 = mk_typed_array();
    ck_assert_dk_ok(dk_dtls_peer_put_var(c, m2, V4));
    ck_assert_dk_ok(dk_dtls_peer_put_packet(c,
                                            "\x18\x00\x01\x00"
                                            "12345678",
                                            12)); /* Object */
    ck_assert_dk_ok(dk_dtls_peer_put_packet(c, "junk", 4));
    ck_assert_dk_ok(dk_dtls_peer_put_var(c, msg, V4));
    ck_assert(wait_server_packets(s, sp, 4));
    ck_assert_dk_ok(dk_dtls_peer_get_var(sp, V4, &v));
    ck_assert(dk_variant_equal(v, m2));
    dk_variant_free(v);
    ck_assert_int_eq(dk_dtls_peer_get_var(sp, V4, &v), DK_ERR_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "dk_dtls_peer_get_var"));
    ck_assert_int_eq(dk_dtls_peer_get_var(sp, V4, &v), DK_ERR_PARSE);
    ck_assert_ptr_null(v);
    ck_assert_int_eq(dk_dtls_peer_get_available_packet_count(sp), 1);
    ck_assert_dk_ok(dk_dtls_peer_get_var(sp, V4, &v));
    ck_assert(dk_variant_equal(v, msg));
    dk_variant_free(v);
    ck_assert_int_eq(dk_dtls_peer_get_var(sp, V4, &v), DK_ERR_WOULD_BLOCK);
    ck_assert_dk_ok(dk_dtls_peer_put_var(sp, m2, V4));
    ck_assert(tu_wait_packet(s, c, 5000));
    ck_assert_dk_ok(dk_dtls_peer_get_var(c, V4, &v));
    ck_assert(dk_variant_equal(v, m2));
    dk_variant_free(v);

    /* Larger than a record carries: refused, nothing sent; exactly the
     * largest passes. */
    int max = dk_dtls_peer_get_max_packet_size(c);
    uint8_t *big = calloc(1, (size_t)max);
    dk_variant *over = dk_variant_new_packed(DK_VAR_PACKED_BYTE_ARRAY, big, (size_t)max - 7);
    /* 8 bytes of header and count, then the bytes padded to 4. */
    dk_variant *fits =
        dk_variant_new_packed(DK_VAR_PACKED_BYTE_ARRAY, big, ((size_t)max - 8) & ~(size_t)3);
    ck_assert_int_eq(dk_dtls_peer_put_var(c, over, V4), DK_ERR_TOO_BIG);
    ck_assert_ptr_nonnull(strstr(dk_last_error(), "dk_dtls_peer_put_var"));
    ck_assert_int_eq(dk_dtls_peer_put_var(c, NULL, V4), DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_peer_put_var(NULL, fits, V4), DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_peer_get_var(NULL, V4, &v), DK_ERR_INVALID);
    ck_assert_int_eq(dk_dtls_peer_get_var(c, V4, NULL), DK_ERR_INVALID);
    ck_assert_dk_ok(dk_dtls_peer_put_var(c, fits, V4));
    ck_assert(wait_server_packets(s, sp, 1));
    for (int i = 0; i < 20; i++)
        tu_server_step(s);
    ck_assert_int_eq(dk_dtls_peer_get_available_packet_count(sp), 1);
    ck_assert_dk_ok(dk_dtls_peer_get_var(sp, V4, &v));
    ck_assert(dk_variant_equal(v, fits));
    dk_variant_free(v);

    free(big);
    dk_variant_free(over);
    dk_variant_free(fits);
    dk_variant_free(m2);
    dk_variant_free(msg);
    dk_variant_free(msg3);
    dk_dtls_peer_free(c);
    dk_tls_options_free(o);
    tu_server_free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("variant");
    TCase *tc = tcase_create("codec");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, hand_encodings, 0, NVECTORS);
    tcase_add_loop_test(tc, truncations_and_trailing, 0, NVECTORS);
    tcase_add_test(tc, wide_forms);
    tcase_add_test(tc, round_trips);
    tcase_add_test(tc, godot3_refusals);
    suite_add_tcase(s, tc);
    tc = tcase_create("strict");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, bad_padding);
    tcase_add_test(tc, lengths_past_the_end);
    tcase_add_test(tc, huge_counts);
    tcase_add_test(tc, depth_limit);
    tcase_add_test(tc, objects_and_unknown_types);
    tcase_add_test(tc, flags);
    tcase_add_test(tc, typed_containers);
    tcase_add_test(tc, utf8);
    tcase_add_test(tc, duplicate_keys);
    tcase_add_test(tc, allocation_bound);
    suite_add_tcase(s, tc);
    tc = tcase_create("values");
    tcase_add_test(tc, constructors);
    tcase_add_test(tc, getters);
    tcase_add_test(tc, equality);
    tcase_add_test(tc, ownership);
    tcase_add_test(tc, depth_by_building);
    tcase_add_test(tc, encode_bad_input);
    suite_add_tcase(s, tc);
    tc = tcase_create("peers");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, udp_put_get);
    tcase_add_test(tc, udp_bad_packets_keep_the_queue);
    tcase_add_test(tc, udp_too_big_and_bad_input);
    tcase_add_test(tc, udp_server_peer);
    tcase_add_test(tc, dtls_put_get);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
