/* Godot's binary serialization, writing: every value is a 4-byte
 * little-endian header (type id in byte 0, flags in bytes 2-3) and a body
 * padded to 4 bytes. One walk measures, a second writes. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "error.h"
#include "variant_internal.h"

#define FLAG_64             (1u << 16) /* int, float: the 8-byte form */
#define TYPED_KEY_BUILTIN   (1u << 16) /* Array: element type; Dictionary: key type */
#define TYPED_VALUE_BUILTIN (1u << 18) /* Dictionary: value type */

typedef struct enc {
    uint8_t *out; /* NULL while measuring */
    uint64_t pos;
    dk_var_version version;
    const char *func;
} enc;

static void put32(enc *e, uint32_t x)
{
    if (e->out) {
        uint8_t *p = e->out + e->pos;
        p[0] = (uint8_t)x;
        p[1] = (uint8_t)(x >> 8);
        p[2] = (uint8_t)(x >> 16);
        p[3] = (uint8_t)(x >> 24);
    }
    e->pos += 4;
}

static void put64(enc *e, uint64_t x)
{
    put32(e, (uint32_t)x);
    put32(e, (uint32_t)(x >> 32));
}

static void put_f32(enc *e, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    put32(e, u);
}

static void put_f64(enc *e, double f)
{
    uint64_t u;
    memcpy(&u, &f, sizeof u);
    put64(e, u);
}

static void put_bytes(enc *e, const void *p, size_t n)
{
    if (e->out && n)
        memcpy(e->out + e->pos, p, n);
    e->pos += n;
}

/* Zero bytes up to the next multiple of 4 (values all start on one). */
static void put_pad(enc *e)
{
    while (e->pos % 4) {
        if (e->out)
            e->out[e->pos] = 0;
        e->pos++;
    }
}

/* Godot writes a float in 4 bytes when that loses nothing (NaN never
 * compares equal, so it takes 8). */
static bool fits_f32(double d)
{
    if (isnan(d))
        return false;
    if (isinf(d))
        return true;
    if (fabs(d) > FLT_MAX) /* converting it would be undefined */
        return false;
    return (double)(float)d == d;
}

static dk_err unavailable(enc *e, const char *what)
{
    return dk__fail(DK_ERR_UNAVAILABLE, e->func, "Godot %d has no %s",
                    e->version == DK_VAR_GODOT3 ? 3 : 4, what);
}

/* The header of a typed container, whose element types follow it. */
static dk_err typed_header(enc *e, const dk_variant *v, uint32_t *header)
{
    unsigned key = v->elem;
    unsigned value = v->type == DK_VAR_DICTIONARY ? v->u.c.value_type : DK_VAR_NIL;
    if (key == DK_VAR_NIL && value == DK_VAR_NIL)
        return DK_OK;
    if (e->version == DK_VAR_GODOT3)
        return unavailable(e, v->type == DK_VAR_ARRAY ? "typed Arrays" : "typed Dictionaries");
    if (key != DK_VAR_NIL)
        *header |= TYPED_KEY_BUILTIN;
    if (value != DK_VAR_NIL)
        *header |= TYPED_VALUE_BUILTIN;
    return DK_OK;
}

static dk_err put_value(enc *e, const dk_variant *v, int depth)
{
    int id = dk__var_wire_id(v->type, e->version);
    if (id < 0)
        return unavailable(e, dk_var_type_name((dk_var_type)v->type));
    uint32_t header = (uint32_t)id;
    dk_err err = DK_OK;
    switch (v->type) {
    case DK_VAR_INT:
        if (v->u.i < INT32_MIN || v->u.i > INT32_MAX)
            header |= FLAG_64;
        break;
    case DK_VAR_FLOAT:
        if (!fits_f32(v->u.f))
            header |= FLAG_64;
        break;
    case DK_VAR_ARRAY:
    case DK_VAR_DICTIONARY:
        if (depth >= DK_VARIANT_MAX_DEPTH)
            return dk__fail(DK_ERR_INVALID, e->func, "more than %d nested containers",
                            DK_VARIANT_MAX_DEPTH);
        err = typed_header(e, v, &header);
        break;
    }
    if (err != DK_OK)
        return err;
    put32(e, header);

    switch (v->type) {
    case DK_VAR_NIL: break;
    case DK_VAR_BOOL: put32(e, v->u.b ? 1 : 0); break;
    case DK_VAR_INT:
        if (header & FLAG_64)
            put64(e, (uint64_t)v->u.i);
        else
            put32(e, (uint32_t)v->u.i);
        break;
    case DK_VAR_FLOAT:
        if (header & FLAG_64)
            put_f64(e, v->u.f);
        else
            put_f32(e, (float)v->u.f);
        break;
    case DK_VAR_STRING:
    case DK_VAR_STRING_NAME:
        put32(e, v->count);
        put_bytes(e, v->u.s, v->count);
        put_pad(e);
        break;
    case DK_VAR_VECTOR2I: put32(e, (uint32_t)v->u.vi[0]), put32(e, (uint32_t)v->u.vi[1]); break;
    case DK_VAR_VECTOR3I:
        for (int i = 0; i < 3; i++)
            put32(e, (uint32_t)v->u.vi[i]);
        break;
    case DK_VAR_VECTOR2: put_f32(e, v->u.v[0]), put_f32(e, v->u.v[1]); break;
    case DK_VAR_VECTOR3:
        for (int i = 0; i < 3; i++)
            put_f32(e, v->u.v[i]);
        break;
    case DK_VAR_RECT2:
    case DK_VAR_COLOR:
        for (int i = 0; i < 4; i++)
            put_f32(e, v->u.v[i]);
        break;
    case DK_VAR_ARRAY:
    case DK_VAR_DICTIONARY:
        if (header & TYPED_KEY_BUILTIN)
            put32(e, v->elem);
        if (header & TYPED_VALUE_BUILTIN)
            put32(e, v->u.c.value_type);
        put32(e, v->count);
        for (size_t i = 0; i < dk__var_slots(v); i++) {
            err = put_value(e, dk__var_slot(v, i), depth + 1);
            if (err != DK_OK)
                return err;
        }
        break;
    case DK_VAR_PACKED_STRING_ARRAY: {
        const dk__var_slice *sl = v->u.p;
        const char *blob = (const char *)(sl + v->count);
        put32(e, v->count);
        for (size_t i = 0; i < v->count; i++) {
            put32(e, sl[i].len + 1); /* Godot counts the NUL */
            put_bytes(e, blob + sl[i].off, sl[i].len + 1);
            put_pad(e);
        }
        break;
    }
    case DK_VAR_PACKED_BYTE_ARRAY:
        put32(e, v->count);
        put_bytes(e, v->u.p, v->count);
        put_pad(e);
        break;
    case DK_VAR_PACKED_INT64_ARRAY:
    case DK_VAR_PACKED_FLOAT64_ARRAY: {
        put32(e, v->count);
        const uint8_t *p = v->u.p;
        for (size_t i = 0; i < v->count; i++) {
            uint64_t w; /* memcpy: the elements may be doubles */
            memcpy(&w, p + 8 * i, sizeof w);
            put64(e, w);
        }
        break;
    }
    default: {
        /* The rest are made of 32-bit words: ints, floats, vectors. */
        put32(e, v->count);
        const uint8_t *p = v->u.p;
        for (size_t i = 0; i < v->count * dk__var_elem_size(v->type) / 4; i++) {
            uint32_t w;
            memcpy(&w, p + 4 * i, sizeof w);
            put32(e, w);
        }
        break;
    }
    }
    return DK_OK;
}

dk_err dk__variant_encode(const char *func, const dk_variant *value, dk_var_version version,
                          void *out, size_t cap, size_t *len)
{
    if (!value || !len)
        return dk__fail(DK_ERR_INVALID, func, "%s is NULL", value ? "len" : "value");
    if (!out && cap)
        return dk__fail(DK_ERR_INVALID, func, "out is NULL");
    if (version != DK_VAR_GODOT4 && version != DK_VAR_GODOT3)
        return dk__fail(DK_ERR_INVALID, func, "version %d is not a dk_var_version", (int)version);
    enc e = {.out = NULL, .version = version, .func = func};
    dk_err err = put_value(&e, value, 0);
    if (err != DK_OK)
        return err;
    if (e.pos > DK__VAR_MAX_COUNT)
        return dk__fail(DK_ERR_TOO_BIG, func, "the value takes %llu bytes; Godot reads at most %u",
                        (unsigned long long)e.pos, DK__VAR_MAX_COUNT);
    *len = (size_t)e.pos;
    if (cap < e.pos)
        return dk__fail(DK_ERR_BUFFER_TOO_SMALL, func, "the value takes %zu bytes, out holds %zu",
                        *len, cap);
    e = (enc){.out = out, .version = version, .func = func};
    return put_value(&e, value, 0);
}

dk_err dk_variant_encode(const dk_variant *value, dk_var_version version, void *out, size_t cap,
                         size_t *len)
{
    return dk__variant_encode(__func__, value, version, out, cap, len);
}
