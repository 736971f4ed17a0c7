/* Godot's binary serialization, reading, strictly: a value must be exactly
 * what Godot writes. The input is walked twice: the first walk checks it
 * and adds up the memory its tree needs, the second builds the tree in one
 * block of that size (at most 8 bytes per input byte: a node is 32 bytes
 * and every value has a 4-byte header, and strings or packed data take no
 * more than their encoding). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "variant_internal.h"

#define FLAG_64 1u /* header bits 16..31, shifted down */

typedef struct dec {
    const uint8_t *in;
    size_t len, off;
    dk_var_version version;
    const char *func;
    uint8_t *block; /* NULL while measuring */
    size_t used;    /* bytes taken (measuring: needed) */
    size_t cap;
    bool overflow; /* the second walk wanted more than the first measured */
} dec;

static dk_err fail(dec *d, dk_err err, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static dk_err fail(dec *d, dk_err err, size_t at, const char *fmt, ...)
{
    char why[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return dk__fail(err, d->func, "offset %zu: %s", at, why);
}

#define BAD(d, at, ...) fail((d), DK_ERR_PARSE, (at), __VA_ARGS__)

static size_t left(const dec *d)
{
    return d->len - d->off;
}

static uint32_t get32(dec *d)
{
    const uint8_t *p = d->in + d->off;
    d->off += 4;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(dec *d)
{
    uint64_t lo = get32(d);
    return lo | (uint64_t)get32(d) << 32;
}

static int32_t to_i32(uint32_t u)
{
    int32_t i;
    memcpy(&i, &u, sizeof i);
    return i;
}

static float to_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static dk_err need(dec *d, size_t n, const char *what)
{
    if (left(d) < n)
        return BAD(d, d->off, "%s needs %zu bytes, %zu left", what, n, left(d));
    return DK_OK;
}

/* Memory from the block, 8-aligned; NULL while measuring. */
static void *take(dec *d, size_t n)
{
    size_t a = (n + 7) & ~(size_t)7;
    if (!d->block) {
        d->used += a;
        return NULL;
    }
    if (a > d->cap - d->used) {
        d->overflow = true;
        return NULL;
    }
    void *p = d->block + d->used;
    d->used += a;
    return p;
}

/* The zero padding after `n` bytes of data that start at `at`. */
static dk_err padding(dec *d, size_t at, size_t n)
{
    size_t pad = (4 - n % 4) % 4;
    if (left(d) < pad)
        return BAD(d, d->off, "%zu padding bytes missing", pad);
    for (size_t i = 0; i < pad; i++)
        if (d->in[at + n + i])
            return BAD(d, at + n + i, "padding byte 0x%02x is not 0", d->in[at + n + i]);
    d->off += pad;
    return DK_OK;
}

/* Godot's lengths and counts are signed 32-bit. */
static dk_err count_of(dec *d, const char *what, uint32_t *n)
{
    dk_err e = need(d, 4, what);
    if (e != DK_OK)
        return e;
    size_t at = d->off;
    *n = get32(d);
    if (*n > DK__VAR_MAX_COUNT)
        return BAD(d, at, "%s 0x%08x has bit 31 set", what, *n);
    return DK_OK;
}

/* `n` bytes of UTF-8 at the current offset, and their padding. */
static dk_err text(dec *d, uint32_t n, bool with_nul, const uint8_t **bytes)
{
    size_t at = d->off;
    if (left(d) < n)
        return BAD(d, at, "a string of %u bytes runs past the end (%zu left)", n, left(d));
    *bytes = d->in + at;
    size_t chars = with_nul ? n - 1 : n;
    size_t bad = dk__var_utf8_check(*bytes, chars);
    if (bad < chars)
        return BAD(d, at + bad, "%s", (*bytes)[bad] ? "invalid UTF-8" : "NUL byte in a string");
    if (with_nul && (*bytes)[n - 1])
        return BAD(d, at + n - 1, "a PackedStringArray string does not end with NUL");
    d->off += n;
    return padding(d, at, n);
}

static dk_err string(dec *d, dk_variant *node)
{
    uint32_t n;
    const uint8_t *bytes;
    dk_err e = count_of(d, "string length", &n);
    if (e == DK_OK)
        e = text(d, n, false, &bytes);
    if (e != DK_OK)
        return e;
    char *s = take(d, (size_t)n + 1);
    if (s && node) {
        memcpy(s, bytes, n);
        s[n] = '\0';
        node->u.s = s;
        node->count = n;
    }
    return DK_OK;
}

static dk_err packed_strings(dec *d, dk_variant *node)
{
    uint32_t n;
    dk_err e = count_of(d, "PackedStringArray size", &n);
    if (e != DK_OK)
        return e;
    /* Each string takes 8 bytes at least: its length and a padded NUL. */
    if (n > left(d) / 8)
        return BAD(d, d->off - 4, "%u strings need %llu bytes at least, %zu left", n, 8ull * n,
                   left(d));
    size_t start = d->off, total = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len;
        const uint8_t *bytes;
        e = count_of(d, "string length", &len);
        if (e == DK_OK && len == 0)
            e = BAD(d, d->off - 4, "a PackedStringArray string without its NUL");
        if (e == DK_OK)
            e = text(d, len, true, &bytes);
        if (e != DK_OK)
            return e;
        total += len;
    }
    /* The slices, then the strings with their NULs, in one piece. */
    dk__var_slice *sl = take(d, n * sizeof *sl + total);
    if (!sl || !node)
        return DK_OK;
    char *blob = (char *)(sl + n);
    size_t end = d->off, off = 0;
    d->off = start;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len = get32(d);
        memcpy(blob + off, d->in + d->off, len);
        sl[i] = (dk__var_slice){(uint32_t)off, len - 1};
        off += len;
        d->off += len + (4 - len % 4) % 4;
    }
    d->off = end;
    node->u.p = sl;
    node->count = n;
    return DK_OK;
}

static dk_err packed(dec *d, dk_variant *node, unsigned type)
{
    uint32_t n;
    size_t es = dk__var_elem_size(type);
    dk_err e = count_of(d, "packed array size", &n);
    if (e != DK_OK)
        return e;
    if (n > left(d) / es)
        return BAD(d, d->off - 4, "%u elements of %zu bytes run past the end (%zu left)", n, es,
                   left(d));
    size_t at = d->off, bytes = n * es;
    d->off += bytes;
    e = padding(d, at, bytes);
    if (e != DK_OK)
        return e;
    void *p = take(d, bytes);
    if (!p || !node)
        return DK_OK;
    /* Stored as the C type the API hands out. */
    const uint8_t *src = d->in + at;
    dec r = {.in = src, .len = bytes};
    switch (type) {
    case DK_VAR_PACKED_BYTE_ARRAY: memcpy(p, src, bytes); break;
    case DK_VAR_PACKED_INT32_ARRAY:
        for (uint32_t i = 0; i < n; i++)
            ((int32_t *)p)[i] = to_i32(get32(&r));
        break;
    case DK_VAR_PACKED_INT64_ARRAY:
        for (uint32_t i = 0; i < n; i++) {
            uint64_t u = get64(&r);
            memcpy((int64_t *)p + i, &u, sizeof u);
        }
        break;
    case DK_VAR_PACKED_FLOAT64_ARRAY:
        for (uint32_t i = 0; i < n; i++) {
            uint64_t u = get64(&r);
            double f;
            memcpy(&f, &u, sizeof f);
            ((double *)p)[i] = f;
        }
        break;
    default: /* floats, vectors and colors: float components */
        for (size_t i = 0; i < bytes / 4; i++)
            ((float *)p)[i] = to_f32(get32(&r));
        break;
    }
    node->u.p = p;
    node->count = n;
    return DK_OK;
}

/* Two keys of a decoded dictionary that are the same key: *later and
 * *earlier get their entries. Small dictionaries compare every pair;
 * larger ones use a hash table whose buckets are the value nodes' parent
 * fields and whose chains run through the key nodes' parent fields
 * (restored afterwards): no memory beyond the tree's. */
static bool repeated_key(dk_variant *dict, dk_variant *kv, uint32_t n, uint32_t *later,
                         uint32_t *earlier)
{
    if (n <= 8) {
        for (uint32_t i = 1; i < n; i++)
            for (uint32_t j = 0; j < i; j++)
                if (dk__var_same_key(&kv[2 * i], &kv[2 * j])) {
                    *later = i, *earlier = j;
                    return true;
                }
        return false;
    }
    bool found = false;
    for (uint32_t i = 0; i < n; i++)
        kv[2 * (size_t)i + 1].parent = NULL;
    for (uint32_t i = 0; i < n && !found; i++) {
        dk_variant *k = &kv[2 * (size_t)i];
        dk_variant **head = &kv[2 * (size_t)(dk__var_key_hash(k) % n) + 1].parent;
        for (dk_variant *e = *head; e && !found; e = e->parent)
            if (dk__var_same_key(e, k)) {
                *later = i;
                *earlier = (uint32_t)((e - kv) / 2);
                found = true;
            }
        if (!found) {
            k->parent = *head;
            *head = k;
        }
    }
    for (size_t i = 0; i < 2 * (size_t)n; i++)
        kv[i].parent = dict;
    return found;
}

static dk_err value(dec *d, dk_variant *node, int depth, unsigned *type_out);

/* The element type a typed container's header announces (kind 1: a
 * built-in type, read from the input). */
static dk_err elem_type(dec *d, unsigned kind, uint8_t *out)
{
    *out = DK_VAR_NIL;
    if (kind == 0)
        return DK_OK;
    size_t at = d->off;
    if (kind != 1)
        return fail(d, DK_ERR_UNAVAILABLE, at,
                    "containers typed with a class or script (objects) are not supported");
    dk_err e = need(d, 4, "container element type");
    if (e != DK_OK)
        return e;
    uint32_t id = get32(d);
    const char *name = "";
    int t = id > 0xff ? -2 : dk__var_from_wire(id, d->version, &name);
    if (t == -2 || t == DK_VAR_NIL)
        return BAD(d, at, "container element type %u is not a Godot type", id);
    if (t < 0)
        return fail(d, DK_ERR_UNAVAILABLE, at, "containers of %s are not supported", name);
    *out = (uint8_t)t;
    return DK_OK;
}

static dk_err typed_ok(dec *d, size_t at, unsigned want, unsigned got, const char *what, uint32_t i)
{
    if (want == DK_VAR_NIL || want == got)
        return DK_OK;
    return BAD(d, at, "%s %u is a %s in a container typed %s", what, i,
               dk_var_type_name((dk_var_type)got), dk_var_type_name((dk_var_type)want));
}

static dk_err container(dec *d, dk_variant *node, unsigned type, uint32_t flags, int depth)
{
    size_t at = d->off - 4;
    bool dict = type == DK_VAR_DICTIONARY;
    uint8_t kt, vt = DK_VAR_NIL;
    if (depth + 1 > DK_VARIANT_MAX_DEPTH)
        return BAD(d, at, "more than %d nested containers", DK_VARIANT_MAX_DEPTH);
    dk_err e = elem_type(d, flags & 3, &kt);
    if (e == DK_OK && dict)
        e = elem_type(d, (flags >> 2) & 3, &vt);
    uint32_t n;
    if (e == DK_OK)
        e = count_of(d, dict ? "Dictionary size" : "Array size", &n);
    if (e != DK_OK)
        return e;
    /* Each element takes 4 bytes at least, each entry 8. */
    size_t per = dict ? 8 : 4;
    if (n > left(d) / per)
        return BAD(d, d->off - 4, "%u %s need %llu bytes at least, %zu left", n,
                   dict ? "entries" : "elements", (unsigned long long)per * n, left(d));
    size_t slots = dict ? 2 * (size_t)n : n;
    dk_variant *kids = take(d, slots * sizeof *kids);
    if (node) {
        node->elem = kt;
        node->u.c.value_type = vt;
        node->flags |= DK__VF_INLINE;
        node->u.c.items = kids;
        node->count = kids ? n : 0;
    }
    unsigned height = 0;
    for (size_t i = 0; i < slots; i++) {
        dk_variant *kid = node && kids ? &kids[i] : NULL;
        if (kid) {
            memset(kid, 0, sizeof *kid);
            kid->parent = node;
        }
        size_t kid_at = d->off;
        unsigned got;
        e = value(d, kid, depth + 1, &got);
        if (e == DK_OK && !dict)
            e = typed_ok(d, kid_at, kt, got, "element", (uint32_t)i);
        else if (e == DK_OK)
            e = typed_ok(d, kid_at, i % 2 ? vt : kt, got, i % 2 ? "value" : "key",
                         (uint32_t)(i / 2));
        if (e != DK_OK)
            return e;
        if (kid && kid->height > height)
            height = kid->height;
    }
    if (!node || !kids)
        return DK_OK;
    node->height = (uint8_t)(height + 1);
    uint32_t later, earlier;
    if (dict && repeated_key(node, kids, n, &later, &earlier))
        return BAD(d, at, "Dictionary entry %u has the same key as entry %u", later, earlier);
    return DK_OK;
}

/* One value at the current offset into `node` (NULL while measuring);
 * `*type_out` gets its type. `depth`: containers around it. */
static dk_err value(dec *d, dk_variant *node, int depth, unsigned *type_out)
{
    size_t at = d->off;
    dk_err e = need(d, 4, "a value's header");
    if (e != DK_OK)
        return e;
    uint32_t header = get32(d), flags = header >> 16;
    unsigned id = header & 0xff;
    if (header & 0xff00)
        return BAD(d, at, "header 0x%08x: byte 1 is not 0", header);
    const char *name = "";
    int t = dk__var_from_wire(id, d->version, &name);
    if (t == -2)
        return BAD(d, at, "type %u is not a Godot %d type", id,
                   d->version == DK_VAR_GODOT3 ? 3 : 4);
    if (t < 0)
        return fail(d, DK_ERR_UNAVAILABLE, at, "%s values are not supported%s", name,
                    strcmp(name, "Object") == 0 ? " (objects are never decoded)" : "");
    unsigned type = (unsigned)t;
    *type_out = type;

    /* Flags: the 8-byte form of int and float; typed containers (Godot 4);
     * a double-precision Godot build's vectors, which dtlskit does not
     * read. Any other bit is malformed. */
    uint32_t allowed = 0;
    bool v4 = d->version == DK_VAR_GODOT4;
    switch (type) {
    case DK_VAR_INT:
    case DK_VAR_FLOAT: allowed = FLAG_64; break;
    case DK_VAR_ARRAY: allowed = v4 ? 0x3 : 0; break;
    case DK_VAR_DICTIONARY: allowed = v4 ? 0xf : 0; break;
    case DK_VAR_VECTOR2:
    case DK_VAR_RECT2:
    case DK_VAR_VECTOR3:
    case DK_VAR_PACKED_VECTOR2_ARRAY:
    case DK_VAR_PACKED_VECTOR3_ARRAY: allowed = v4 ? FLAG_64 : 0; break;
    }
    if (flags & ~allowed)
        return BAD(d, at, "header 0x%08x: flags not valid for %s", header, name);
    if ((flags & FLAG_64) && type != DK_VAR_INT && type != DK_VAR_FLOAT &&
        !dk__var_is_container(type))
        return fail(d, DK_ERR_UNAVAILABLE, at,
                    "64-bit %s (a double-precision Godot build) is not supported", name);
    if (node) {
        node->type = (uint8_t)type;
        node->flags = DK__VF_ARENA;
    }

    switch (type) {
    case DK_VAR_NIL: return DK_OK;
    case DK_VAR_BOOL: {
        if ((e = need(d, 4, "bool")) != DK_OK)
            return e;
        uint32_t b = get32(d);
        if (b > 1)
            return BAD(d, at + 4, "bool %u is neither 0 nor 1", b);
        if (node)
            node->u.b = b;
        return DK_OK;
    }
    case DK_VAR_INT: {
        int64_t i;
        if (flags & FLAG_64) {
            if ((e = need(d, 8, "64-bit int")) != DK_OK)
                return e;
            uint64_t u = get64(d);
            memcpy(&i, &u, sizeof i);
        } else {
            if ((e = need(d, 4, "int")) != DK_OK)
                return e;
            i = to_i32(get32(d));
        }
        if (node)
            node->u.i = i;
        return DK_OK;
    }
    case DK_VAR_FLOAT: {
        double f;
        if (flags & FLAG_64) {
            if ((e = need(d, 8, "64-bit float")) != DK_OK)
                return e;
            uint64_t u = get64(d);
            memcpy(&f, &u, sizeof f);
        } else {
            if ((e = need(d, 4, "float")) != DK_OK)
                return e;
            f = to_f32(get32(d));
        }
        if (node)
            node->u.f = f;
        return DK_OK;
    }
    case DK_VAR_STRING:
    case DK_VAR_STRING_NAME: return string(d, node);
    case DK_VAR_VECTOR2:
    case DK_VAR_VECTOR3:
    case DK_VAR_RECT2:
    case DK_VAR_COLOR: {
        int n = type == DK_VAR_VECTOR2 ? 2 : type == DK_VAR_VECTOR3 ? 3 : 4;
        if ((e = need(d, 4 * (size_t)n, name)) != DK_OK)
            return e;
        for (int i = 0; i < n; i++) {
            float f = to_f32(get32(d));
            if (node)
                node->u.v[i] = f;
        }
        return DK_OK;
    }
    case DK_VAR_VECTOR2I:
    case DK_VAR_VECTOR3I: {
        int n = type == DK_VAR_VECTOR2I ? 2 : 3;
        if ((e = need(d, 4 * (size_t)n, name)) != DK_OK)
            return e;
        for (int i = 0; i < n; i++) {
            int32_t x = to_i32(get32(d));
            if (node)
                node->u.vi[i] = x;
        }
        return DK_OK;
    }
    case DK_VAR_ARRAY:
    case DK_VAR_DICTIONARY: return container(d, node, type, flags, depth);
    case DK_VAR_PACKED_STRING_ARRAY: return packed_strings(d, node);
    default: return packed(d, node, type);
    }
}

dk_err dk__variant_decode(const char *func, const void *data, size_t len, dk_var_version version,
                          dk_variant **out, size_t *allocated)
{
    if (allocated)
        *allocated = 0;
    if (!out)
        return dk__fail(DK_ERR_INVALID, func, "out is NULL");
    *out = NULL;
    if (!data && len)
        return dk__fail(DK_ERR_INVALID, func, "data is NULL");
    if (version != DK_VAR_GODOT4 && version != DK_VAR_GODOT3)
        return dk__fail(DK_ERR_INVALID, func, "version %d is not a dk_var_version", (int)version);
    if (len > SIZE_MAX / 8)
        return dk__fail(DK_ERR_NOMEM, func, "%zu bytes are more than a tree can hold", len);
    dec d = {.in = data, .len = len, .version = version, .func = func};
    unsigned type;
    (void)take(&d, sizeof(dk_variant)); /* the root */
    dk_err e = value(&d, NULL, 0, &type);
    if (e != DK_OK)
        return e;
    if (d.off != len)
        return BAD(&d, d.off, "%zu bytes follow the value", len - d.off);

    size_t size = d.used;
    d = (dec){.in = data, .len = len, .version = version, .func = func, .cap = size};
    d.block = malloc(size);
    if (!d.block)
        return dk__fail(DK_ERR_NOMEM, func, "no memory for a value of %zu bytes", size);
    dk_variant *root = take(&d, sizeof *root);
    memset(root, 0, sizeof *root);
    e = value(&d, root, 0, &type);
    if (e == DK_OK && (d.overflow || d.used != size))
        e = dk__fail(DK_ERR_INTERNAL, func, "the tree took %zu bytes, %zu were measured", d.used,
                     size);
    if (e != DK_OK) {
        free(d.block);
        return e;
    }
    root->flags |= DK__VF_BLOCK;
    *out = root;
    if (allocated)
        *allocated = size;
    return DK_OK;
}

dk_err dk_variant_decode(const void *data, size_t len, dk_var_version version, dk_variant **out)
{
    return dk__variant_decode(__func__, data, len, version, out, NULL);
}
