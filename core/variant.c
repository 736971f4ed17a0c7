/* dk_variant values: type tables, constructors, containers, accessors,
 * copy, equality and the dictionary key hash. The wire format is in
 * variant_encode.c and variant_decode.c. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "siphash.h"
#include "sysrand.h"
#include "variant_internal.h"

/* The decoder's memory bound (8 bytes per input byte) rests on this. */
_Static_assert(sizeof(dk_variant) <= 32, "dk_variant must stay within 32 bytes");
/* Packed vectors and colors are arrays of these, read and written as floats. */
_Static_assert(sizeof(dk_vec2) == 8 && sizeof(dk_vec3) == 12 && sizeof(dk_color) == 16,
               "vector structs must be plain float arrays");

/* A built node's string or packed data follows the node, 8-aligned. */
#define HEAD ((sizeof(dk_variant) + 7) & ~(size_t)7)

/* ------------------------------------------------------------ types */

const char *dk_var_type_name(dk_var_type type)
{
    switch (type) {
    case DK_VAR_NIL: return "Nil";
    case DK_VAR_BOOL: return "bool";
    case DK_VAR_INT: return "int";
    case DK_VAR_FLOAT: return "float";
    case DK_VAR_STRING: return "String";
    case DK_VAR_VECTOR2: return "Vector2";
    case DK_VAR_VECTOR2I: return "Vector2i";
    case DK_VAR_RECT2: return "Rect2";
    case DK_VAR_VECTOR3: return "Vector3";
    case DK_VAR_VECTOR3I: return "Vector3i";
    case DK_VAR_COLOR: return "Color";
    case DK_VAR_STRING_NAME: return "StringName";
    case DK_VAR_DICTIONARY: return "Dictionary";
    case DK_VAR_ARRAY: return "Array";
    case DK_VAR_PACKED_BYTE_ARRAY: return "PackedByteArray";
    case DK_VAR_PACKED_INT32_ARRAY: return "PackedInt32Array";
    case DK_VAR_PACKED_INT64_ARRAY: return "PackedInt64Array";
    case DK_VAR_PACKED_FLOAT32_ARRAY: return "PackedFloat32Array";
    case DK_VAR_PACKED_FLOAT64_ARRAY: return "PackedFloat64Array";
    case DK_VAR_PACKED_STRING_ARRAY: return "PackedStringArray";
    case DK_VAR_PACKED_VECTOR2_ARRAY: return "PackedVector2Array";
    case DK_VAR_PACKED_VECTOR3_ARRAY: return "PackedVector3Array";
    case DK_VAR_PACKED_COLOR_ARRAY: return "PackedColorArray";
    }
    return "unknown";
}

bool dk__var_type_known(unsigned type)
{
    return strcmp(dk_var_type_name((dk_var_type)type), "unknown") != 0;
}

size_t dk__var_elem_size(unsigned type)
{
    switch (type) {
    case DK_VAR_PACKED_BYTE_ARRAY: return 1;
    case DK_VAR_PACKED_INT32_ARRAY:
    case DK_VAR_PACKED_FLOAT32_ARRAY: return 4;
    case DK_VAR_PACKED_INT64_ARRAY:
    case DK_VAR_PACKED_FLOAT64_ARRAY:
    case DK_VAR_PACKED_VECTOR2_ARRAY: return 8;
    case DK_VAR_PACKED_VECTOR3_ARRAY: return 12;
    case DK_VAR_PACKED_COLOR_ARRAY: return 16;
    default: return 0;
    }
}

/* Godot's type numbers. Godot 4's are dk_var_type's own; the names of the
 * ones dtlskit lacks serve error messages. -1: not handled. */
static const struct wire_type {
    signed char type;
    const char *name;
} godot4[] =
    {
        {DK_VAR_NIL, "Nil"},
        {DK_VAR_BOOL, "bool"},
        {DK_VAR_INT, "int"},
        {DK_VAR_FLOAT, "float"},
        {DK_VAR_STRING, "String"},
        {DK_VAR_VECTOR2, "Vector2"},
        {DK_VAR_VECTOR2I, "Vector2i"},
        {DK_VAR_RECT2, "Rect2"},
        {-1, "Rect2i"},
        {DK_VAR_VECTOR3, "Vector3"},
        {DK_VAR_VECTOR3I, "Vector3i"},
        {-1, "Vector4"},
        {-1, "Vector4i"},
        {-1, "Transform2D"},
        {-1, "Plane"},
        {-1, "Quaternion"},
        {-1, "AABB"},
        {-1, "Basis"},
        {-1, "Transform3D"},
        {-1, "Projection"},
        {DK_VAR_COLOR, "Color"},
        {DK_VAR_STRING_NAME, "StringName"},
        {-1, "NodePath"},
        {-1, "RID"},
        {-1, "Object"},
        {-1, "Callable"},
        {-1, "Signal"},
        {DK_VAR_DICTIONARY, "Dictionary"},
        {DK_VAR_ARRAY, "Array"},
        {DK_VAR_PACKED_BYTE_ARRAY, "PackedByteArray"},
        {DK_VAR_PACKED_INT32_ARRAY, "PackedInt32Array"},
        {DK_VAR_PACKED_INT64_ARRAY, "PackedInt64Array"},
        {DK_VAR_PACKED_FLOAT32_ARRAY, "PackedFloat32Array"},
        {DK_VAR_PACKED_FLOAT64_ARRAY, "PackedFloat64Array"},
        {DK_VAR_PACKED_STRING_ARRAY, "PackedStringArray"},
        {DK_VAR_PACKED_VECTOR2_ARRAY, "PackedVector2Array"},
        {DK_VAR_PACKED_VECTOR3_ARRAY, "PackedVector3Array"},
        {DK_VAR_PACKED_COLOR_ARRAY, "PackedColorArray"},
        {-1, "PackedVector4Array"},
},
  godot3[] = {
      {DK_VAR_NIL, "Nil"},
      {DK_VAR_BOOL, "bool"},
      {DK_VAR_INT, "int"},
      {DK_VAR_FLOAT, "float"},
      {DK_VAR_STRING, "String"},
      {DK_VAR_VECTOR2, "Vector2"},
      {DK_VAR_RECT2, "Rect2"},
      {DK_VAR_VECTOR3, "Vector3"},
      {-1, "Transform2D"},
      {-1, "Plane"},
      {-1, "Quat"},
      {-1, "AABB"},
      {-1, "Basis"},
      {-1, "Transform"},
      {DK_VAR_COLOR, "Color"},
      {-1, "NodePath"},
      {-1, "RID"},
      {-1, "Object"},
      {DK_VAR_DICTIONARY, "Dictionary"},
      {DK_VAR_ARRAY, "Array"},
      {DK_VAR_PACKED_BYTE_ARRAY, "PoolByteArray"},
      {DK_VAR_PACKED_INT32_ARRAY, "PoolIntArray"},
      {DK_VAR_PACKED_FLOAT32_ARRAY, "PoolRealArray"},
      {DK_VAR_PACKED_STRING_ARRAY, "PoolStringArray"},
      {DK_VAR_PACKED_VECTOR2_ARRAY, "PoolVector2Array"},
      {DK_VAR_PACKED_VECTOR3_ARRAY, "PoolVector3Array"},
      {DK_VAR_PACKED_COLOR_ARRAY, "PoolColorArray"},
};

static const struct wire_type *table(dk_var_version version, size_t *n)
{
    if (version == DK_VAR_GODOT3) {
        *n = sizeof godot3 / sizeof godot3[0];
        return godot3;
    }
    *n = sizeof godot4 / sizeof godot4[0];
    return godot4;
}

int dk__var_wire_id(unsigned type, dk_var_version version)
{
    size_t n;
    const struct wire_type *t = table(version, &n);
    for (size_t id = 0; id < n; id++)
        if (t[id].type == (int)type)
            return (int)id;
    return -1;
}

int dk__var_from_wire(unsigned id, dk_var_version version, const char **godot_name)
{
    size_t n;
    const struct wire_type *t = table(version, &n);
    if (id >= n)
        return -2;
    *godot_name = t[id].name;
    return t[id].type;
}

/* ------------------------------------------------------------ UTF-8 */

size_t dk__var_utf8_check(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c >= 0x01 && c <= 0x7f) {
            i++;
            continue;
        }
        /* The lead byte fixes the length and the range of the second byte
         * (RFC 3629 section 4): that range excludes overlong forms,
         * surrogates and code points past U+10FFFF. */
        size_t more;
        uint8_t lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) {
            more = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            more = 2;
            if (c == 0xe0)
                lo = 0xa0;
            else if (c == 0xed)
                hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            more = 3;
            if (c == 0xf0)
                lo = 0x90;
            else if (c == 0xf4)
                hi = 0x8f;
        } else {
            return i; /* NUL, a continuation byte, C0, C1, F5..FF */
        }
        if (n - i <= more || s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= more; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return i;
        i += more + 1;
    }
    return n;
}

/* Records why `len` bytes are not a string Godot can carry. */
static dk_err check_text(const char *func, const char *s, size_t len, size_t *bad)
{
    if (len > DK__VAR_MAX_COUNT - 4)
        return dk__fail(DK_ERR_INVALID, func, "a string of %zu bytes is over Godot's limit", len);
    *bad = dk__var_utf8_check((const uint8_t *)s, len);
    if (*bad == len)
        return DK_OK;
    if (s[*bad] == '\0')
        return dk__fail(DK_ERR_INVALID, func, "NUL byte at offset %zu (Godot strings end at one)",
                        *bad);
    return dk__fail(DK_ERR_INVALID, func, "invalid UTF-8 at offset %zu", *bad);
}

/* ------------------------------------------------------ construction */

static dk_variant *new_node(const char *func, unsigned type, size_t payload)
{
    if (payload > SIZE_MAX - HEAD) {
        dk__fail(DK_ERR_NOMEM, func, "out of memory");
        return NULL;
    }
    dk_variant *v = calloc(1, HEAD + payload);
    if (!v) {
        dk__fail(DK_ERR_NOMEM, func, "out of memory");
        return NULL;
    }
    v->type = (uint8_t)type;
    return v;
}

static void *payload_of(dk_variant *v)
{
    return (char *)v + HEAD;
}

static dk_variant *make_string(const char *func, unsigned type, const char *s, size_t len,
                               dk_err *err)
{
    size_t bad;
    if (!s && len) {
        *err = dk__fail(DK_ERR_INVALID, func, "utf8 is NULL");
        return NULL;
    }
    *err = check_text(func, s, len, &bad);
    if (*err != DK_OK)
        return NULL;
    dk_variant *v = new_node(func, type, len + 1);
    if (!v) {
        *err = DK_ERR_NOMEM;
        return NULL;
    }
    char *p = payload_of(v);
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    v->u.s = p;
    v->count = (uint32_t)len;
    return v;
}

dk_variant *dk_variant_new_nil(void)
{
    return new_node(__func__, DK_VAR_NIL, 0);
}

dk_variant *dk_variant_new_bool(bool value)
{
    dk_variant *v = new_node(__func__, DK_VAR_BOOL, 0);
    if (v)
        v->u.b = value;
    return v;
}

dk_variant *dk_variant_new_int(int64_t value)
{
    dk_variant *v = new_node(__func__, DK_VAR_INT, 0);
    if (v)
        v->u.i = value;
    return v;
}

dk_variant *dk_variant_new_float(double value)
{
    dk_variant *v = new_node(__func__, DK_VAR_FLOAT, 0);
    if (v)
        v->u.f = value;
    return v;
}

dk_variant *dk_variant_new_string(const char *utf8)
{
    dk_err e;
    if (!utf8) {
        dk__fail(DK_ERR_INVALID, __func__, "utf8 is NULL");
        return NULL;
    }
    return make_string(__func__, DK_VAR_STRING, utf8, strlen(utf8), &e);
}

dk_variant *dk_variant_new_string_len(const char *utf8, size_t len)
{
    dk_err e;
    return make_string(__func__, DK_VAR_STRING, utf8, len, &e);
}

dk_variant *dk_variant_new_string_name(const char *utf8)
{
    dk_err e;
    if (!utf8) {
        dk__fail(DK_ERR_INVALID, __func__, "utf8 is NULL");
        return NULL;
    }
    return make_string(__func__, DK_VAR_STRING_NAME, utf8, strlen(utf8), &e);
}

static dk_variant *new_floats(const char *func, unsigned type, float a, float b, float c, float d)
{
    dk_variant *v = new_node(func, type, 0);
    if (v) {
        v->u.v[0] = a;
        v->u.v[1] = b;
        v->u.v[2] = c;
        v->u.v[3] = d;
    }
    return v;
}

static dk_variant *new_ints(const char *func, unsigned type, int32_t a, int32_t b, int32_t c)
{
    dk_variant *v = new_node(func, type, 0);
    if (v) {
        v->u.vi[0] = a;
        v->u.vi[1] = b;
        v->u.vi[2] = c;
    }
    return v;
}

dk_variant *dk_variant_new_vector2(float x, float y)
{
    return new_floats(__func__, DK_VAR_VECTOR2, x, y, 0, 0);
}

dk_variant *dk_variant_new_vector2i(int32_t x, int32_t y)
{
    return new_ints(__func__, DK_VAR_VECTOR2I, x, y, 0);
}

dk_variant *dk_variant_new_rect2(float x, float y, float width, float height)
{
    return new_floats(__func__, DK_VAR_RECT2, x, y, width, height);
}

dk_variant *dk_variant_new_vector3(float x, float y, float z)
{
    return new_floats(__func__, DK_VAR_VECTOR3, x, y, z, 0);
}

dk_variant *dk_variant_new_vector3i(int32_t x, int32_t y, int32_t z)
{
    return new_ints(__func__, DK_VAR_VECTOR3I, x, y, z);
}

dk_variant *dk_variant_new_color(float r, float g, float b, float a)
{
    return new_floats(__func__, DK_VAR_COLOR, r, g, b, a);
}

/* A container's element, key or value type: untyped (Nil) or one of ours. */
static bool elem_type_ok(dk_var_type t)
{
    return (unsigned)t <= 0xff && dk__var_type_known((unsigned)t);
}

dk_variant *dk_variant_new_array(dk_var_type elem_type)
{
    if (!elem_type_ok(elem_type)) {
        dk__fail(DK_ERR_INVALID, __func__, "elem_type %d is not a dk_var_type", (int)elem_type);
        return NULL;
    }
    dk_variant *v = new_node(__func__, DK_VAR_ARRAY, 0);
    if (v) {
        v->elem = (uint8_t)elem_type;
        v->height = 1;
    }
    return v;
}

dk_variant *dk_variant_new_dictionary(dk_var_type key_type, dk_var_type value_type)
{
    if (!elem_type_ok(key_type) || !elem_type_ok(value_type)) {
        dk__fail(DK_ERR_INVALID, __func__, "key_type %d or value_type %d is not a dk_var_type",
                 (int)key_type, (int)value_type);
        return NULL;
    }
    dk_variant *v = new_node(__func__, DK_VAR_DICTIONARY, 0);
    if (v) {
        v->elem = (uint8_t)key_type;
        v->u.c.value_type = (uint8_t)value_type;
        v->height = 1;
    }
    return v;
}

dk_variant *dk_variant_new_packed(dk_var_type type, const void *elems, size_t count)
{
    size_t es = dk__var_elem_size((unsigned)type);
    if (!es) {
        dk__fail(DK_ERR_INVALID, __func__, "%s is not a numeric packed array type",
                 dk_var_type_name(type));
        return NULL;
    }
    if (!elems && count) {
        dk__fail(DK_ERR_INVALID, __func__, "elems is NULL");
        return NULL;
    }
    if (count > (DK__VAR_MAX_COUNT - 8) / es) {
        dk__fail(DK_ERR_INVALID, __func__, "%zu elements are over Godot's limit", count);
        return NULL;
    }
    dk_variant *v = new_node(__func__, (unsigned)type, count * es);
    if (!v)
        return NULL;
    if (count)
        memcpy(payload_of(v), elems, count * es);
    v->u.p = payload_of(v);
    v->count = (uint32_t)count;
    return v;
}

dk_variant *dk_variant_new_packed_strings(const char *const *strings, size_t count)
{
    if (!strings && count) {
        dk__fail(DK_ERR_INVALID, __func__, "strings is NULL");
        return NULL;
    }
    /* Godot writes each with its NUL, padded: the encoding's size bounds
     * the count. */
    size_t total = 0, wire = 4;
    for (size_t i = 0; i < count; i++) {
        size_t bad;
        if (!strings[i]) {
            dk__fail(DK_ERR_INVALID, __func__, "strings[%zu] is NULL", i);
            return NULL;
        }
        size_t len = strlen(strings[i]);
        if (check_text(__func__, strings[i], len, &bad) != DK_OK)
            return NULL;
        total += len + 1;
        wire += 4 + ((len + 4) & ~(size_t)3);
        if (wire > DK__VAR_MAX_COUNT) {
            dk__fail(DK_ERR_INVALID, __func__, "the strings are over Godot's 2 GiB limit");
            return NULL;
        }
    }
    dk_variant *v =
        new_node(__func__, DK_VAR_PACKED_STRING_ARRAY, count * sizeof(dk__var_slice) + total);
    if (!v)
        return NULL;
    dk__var_slice *sl = payload_of(v);
    char *blob = (char *)(sl + count);
    uint32_t off = 0;
    for (size_t i = 0; i < count; i++) {
        size_t len = strlen(strings[i]);
        memcpy(blob + off, strings[i], len + 1);
        sl[i].off = off;
        sl[i].len = (uint32_t)len;
        off += (uint32_t)len + 1;
    }
    v->u.p = sl;
    v->count = (uint32_t)count;
    return v;
}

static bool is_text(const dk_variant *v)
{
    return v->type == DK_VAR_STRING || v->type == DK_VAR_STRING_NAME;
}

/* Bytes of data after a node: a string's, a packed array's. */
static size_t payload_size(const dk_variant *v)
{
    if (is_text(v))
        return (size_t)v->count + 1;
    if (v->type == DK_VAR_PACKED_STRING_ARRAY) {
        if (!v->count)
            return 0;
        const dk__var_slice *last = (const dk__var_slice *)v->u.p + v->count - 1;
        return v->count * sizeof(dk__var_slice) + last->off + last->len + 1;
    }
    return v->count * dk__var_elem_size(v->type);
}

/* Frees a value and what it holds. A decoded value's nodes go with its
 * block. */
static void destroy(dk_variant *v)
{
    if (v->flags & DK__VF_ARENA) {
        if (v->flags & DK__VF_BLOCK)
            free(v);
        return;
    }
    if (dk__var_is_container(v->type)) {
        size_t n = dk__var_slots(v);
        for (size_t i = 0; i < n; i++)
            destroy(dk__var_slot(v, i));
        free(v->u.c.items);
    }
    free(v);
}

void dk_variant_free(dk_variant *v)
{
    if (v && !v->parent)
        destroy(v);
}

static dk_variant *copy(const char *func, const dk_variant *src)
{
    size_t extra = payload_size(src);
    dk_variant *v = new_node(func, src->type, extra);
    if (!v)
        return NULL;
    *v = *src;
    v->flags = 0;
    v->parent = NULL;
    if (extra && is_text(src)) {
        memcpy(payload_of(v), src->u.s, extra);
        v->u.s = payload_of(v);
    } else if (extra) {
        memcpy(payload_of(v), src->u.p, extra);
        v->u.p = payload_of(v);
    }
    if (!dk__var_is_container(src->type))
        return v;
    size_t n = dk__var_slots(src);
    v->u.c.items = NULL;
    v->u.c.cap = 0;
    v->count = 0;
    if (n) {
        v->u.c.items = malloc(n * sizeof(dk_variant *));
        if (!v->u.c.items) {
            free(v);
            dk__fail(DK_ERR_NOMEM, func, "out of memory");
            return NULL;
        }
        v->u.c.cap = (uint32_t)n;
    }
    dk_variant **items = v->u.c.items;
    for (size_t i = 0; i < n; i++) {
        items[i] = copy(func, dk__var_slot(src, i));
        if (!items[i]) {
            while (i--)
                destroy(items[i]);
            free(items);
            free(v);
            return NULL;
        }
        items[i]->parent = v;
    }
    v->count = src->count;
    return v;
}

dk_variant *dk_variant_copy(const dk_variant *value)
{
    if (!value) {
        dk__fail(DK_ERR_INVALID, __func__, "value is NULL");
        return NULL;
    }
    return copy(__func__, value);
}

/* ------------------------------------------------------- containers */

/* True when `v` is `c` or a container holding it. */
static bool holds(const dk_variant *v, const dk_variant *c)
{
    for (; c; c = c->parent)
        if (c == v)
            return true;
    return false;
}

int dk__var_depth(const dk_variant *c)
{
    int d = 0;
    for (; c; c = c->parent)
        d++;
    return d;
}

/* Frees a value given to a container call that failed, unless it was not
 * the caller's to give. */
static void drop(dk_variant *v, const dk_variant *c)
{
    if (v && !v->parent && !holds(v, c))
        destroy(v);
}

/* A value handed to a container: present, not inside another, not the
 * container nor one holding it. */
static dk_err check_given(const char *func, const dk_variant *c, const dk_variant *v,
                          const char *what)
{
    if (!v) {
        /* Usually a constructor failed just before: keep its reason. */
        char before[160];
        snprintf(before, sizeof before, "%s", dk_last_error());
        if (before[0])
            return dk__fail(DK_ERR_INVALID, func, "%s is NULL (last error: %s)", what, before);
        return dk__fail(DK_ERR_INVALID, func, "%s is NULL", what);
    }
    if (v->parent)
        return dk__fail(DK_ERR_INVALID, func, "the %s already belongs to a container", what);
    if (holds(v, c))
        return dk__fail(DK_ERR_INVALID, func, "the %s holds the container: it cannot go inside it",
                        what);
    return DK_OK;
}

static dk_err check_container(const char *func, const dk_variant *c, unsigned type)
{
    if (!c)
        return dk__fail(DK_ERR_INVALID, func, "%s is NULL", dk_var_type_name((dk_var_type)type));
    if (c->type != type)
        return dk__fail(DK_ERR_INVALID, func, "the container is a %s, not a %s",
                        dk_var_type_name((dk_var_type)c->type),
                        dk_var_type_name((dk_var_type)type));
    if (c->flags & DK__VF_ARENA)
        return dk__fail(DK_ERR_STATE, func,
                        "decoded values are read-only (dk_variant_copy() makes one to change)");
    return DK_OK;
}

static dk_err check_typed(const char *func, unsigned want, const dk_variant *v, const char *what)
{
    if (want == DK_VAR_NIL || v->type == want)
        return DK_OK;
    return dk__fail(DK_ERR_INVALID, func, "a %s typed %s cannot be a %s", what,
                    dk_var_type_name((dk_var_type)want), dk_var_type_name((dk_var_type)v->type));
}

static dk_err check_room(const char *func, const dk_variant *c, unsigned height)
{
    if (dk__var_depth(c) + (int)height > DK_VARIANT_MAX_DEPTH)
        return dk__fail(DK_ERR_INVALID, func, "more than %d nested containers",
                        DK_VARIANT_MAX_DEPTH);
    if (c->count >= DK__VAR_MAX_COUNT)
        return dk__fail(DK_ERR_TOO_BIG, func, "a container holds at most %u entries",
                        DK__VAR_MAX_COUNT);
    return DK_OK;
}

static dk_err grow(const char *func, dk_variant *c, size_t slots)
{
    if (slots <= c->u.c.cap)
        return DK_OK;
    size_t cap = c->u.c.cap ? 2 * (size_t)c->u.c.cap : 4;
    while (cap < slots)
        cap *= 2;
    if (cap > UINT32_MAX)
        cap = slots;
    void *p = realloc(c->u.c.items, cap * sizeof(dk_variant *));
    if (!p)
        return dk__fail(DK_ERR_NOMEM, func, "out of memory");
    c->u.c.items = p;
    c->u.c.cap = (uint32_t)cap;
    return DK_OK;
}

/* A container gained a child of `height`: so may the containers above. */
static void raise_heights(dk_variant *c, unsigned height)
{
    for (unsigned h = height + 1; c && c->height < h; c = c->parent, h++)
        c->height = (uint8_t)h;
}

dk_err dk_variant_array_append(dk_variant *array, dk_variant *value)
{
    dk_err e = check_given(__func__, array, value, "value");
    if (e != DK_OK)
        return e;
    e = check_container(__func__, array, DK_VAR_ARRAY);
    if (e == DK_OK)
        e = check_typed(__func__, array->elem, value, "typed Array's element");
    if (e == DK_OK)
        e = check_room(__func__, array, value->height);
    if (e == DK_OK)
        e = grow(__func__, array, (size_t)array->count + 1);
    if (e != DK_OK) {
        destroy(value);
        return e;
    }
    ((dk_variant **)array->u.c.items)[array->count++] = value;
    value->parent = array;
    raise_heights(array, value->height);
    return DK_OK;
}

static dk_err dict_set(const char *func, dk_variant *d, dk_variant *key, dk_variant *value)
{
    dk_err e = check_given(func, d, key, "key");
    if (e == DK_OK)
        e = check_given(func, d, value, "value");
    if (e == DK_OK && key == value)
        e = dk__fail(DK_ERR_INVALID, func, "the key and the value are the same dk_variant");
    if (e != DK_OK) {
        drop(key, d);
        if (value != key)
            drop(value, d);
        return e;
    }
    unsigned height = key->height > value->height ? key->height : value->height;
    e = check_container(func, d, DK_VAR_DICTIONARY);
    if (e == DK_OK)
        e = check_typed(func, d->elem, key, "typed Dictionary's key");
    if (e == DK_OK)
        e = check_typed(func, d->u.c.value_type, value, "typed Dictionary's value");
    if (e == DK_OK)
        e = check_room(func, d, height);
    dk_variant **items = e == DK_OK ? d->u.c.items : NULL;
    for (size_t i = 0; e == DK_OK && i < d->count; i++) {
        if (!dk__var_same_key(items[2 * i], key))
            continue;
        destroy(items[2 * i + 1]);
        items[2 * i + 1] = value;
        value->parent = d;
        destroy(key);
        raise_heights(d, value->height);
        return DK_OK;
    }
    if (e == DK_OK)
        e = grow(func, d, 2 * ((size_t)d->count + 1));
    if (e != DK_OK) {
        destroy(key);
        destroy(value);
        return e;
    }
    items = d->u.c.items;
    items[2 * (size_t)d->count] = key;
    items[2 * (size_t)d->count + 1] = value;
    d->count++;
    key->parent = value->parent = d;
    raise_heights(d, height);
    return DK_OK;
}

dk_err dk_variant_dict_set(dk_variant *dict, dk_variant *key, dk_variant *value)
{
    return dict_set(__func__, dict, key, value);
}

dk_err dk_variant_dict_set_str(dk_variant *dict, const char *key, dk_variant *value)
{
    if (!key) {
        drop(value, dict);
        return dk__fail(DK_ERR_INVALID, __func__, "key is NULL");
    }
    unsigned kt = dict && dict->type == DK_VAR_DICTIONARY && dict->elem == DK_VAR_STRING_NAME
                      ? DK_VAR_STRING_NAME
                      : DK_VAR_STRING;
    dk_err e;
    dk_variant *k = make_string(__func__, kt, key, strlen(key), &e);
    if (!k) {
        drop(value, dict);
        return e;
    }
    return dict_set(__func__, dict, k, value);
}

/* ---------------------------------------------------------- reading */

dk_var_type dk_variant_type(const dk_variant *v)
{
    return v ? (dk_var_type)v->type : DK_VAR_NIL;
}

static dk_err check_get(const char *func, const dk_variant *v, const void *out, unsigned type)
{
    if (!v || !out)
        return dk__fail(DK_ERR_INVALID, func, "%s is NULL", v ? "out" : "value");
    if (v->type != type)
        return dk__fail(DK_ERR_INVALID, func, "the value is a %s, not a %s",
                        dk_var_type_name((dk_var_type)v->type),
                        dk_var_type_name((dk_var_type)type));
    return DK_OK;
}

dk_err dk_variant_get_bool(const dk_variant *v, bool *out)
{
    dk_err e = check_get(__func__, v, out, DK_VAR_BOOL);
    if (e == DK_OK)
        *out = v->u.b;
    return e;
}

dk_err dk_variant_get_int(const dk_variant *v, int64_t *out)
{
    dk_err e = check_get(__func__, v, out, DK_VAR_INT);
    if (e == DK_OK)
        *out = v->u.i;
    return e;
}

dk_err dk_variant_get_float(const dk_variant *v, double *out)
{
    dk_err e = check_get(__func__, v, out, DK_VAR_FLOAT);
    if (e == DK_OK)
        *out = v->u.f;
    return e;
}

dk_err dk_variant_get_vector2(const dk_variant *v, dk_vec2 *out)
{
    dk_err e = check_get(__func__, v, out, DK_VAR_VECTOR2);
    if (e == DK_OK)
        *out = (dk_vec2){v->u.v[0], v->u.v[1]};
    return e;
}

dk_err dk_variant_get_vector2i(const dk_variant *v, dk_vec2i *out)
{
    dk_err e = check_get(__func__, v, out, DK_VAR_VECTOR2I);
    if (e == DK_OK)
        *out = (dk_vec2i){v->u.vi[0], v->u.vi[1]};
    return e;
}

dk_err dk_variant_get_rect2(const dk_variant *v, dk_rect2 *out)
{
    dk_err e = check_get(__func__, v, out, DK_VAR_RECT2);
    if (e == DK_OK)
        *out = (dk_rect2){{v->u.v[0], v->u.v[1]}, {v->u.v[2], v->u.v[3]}};
    return e;
}

dk_err dk_variant_get_vector3(const dk_variant *v, dk_vec3 *out)
{
    dk_err e = check_get(__func__, v, out, DK_VAR_VECTOR3);
    if (e == DK_OK)
        *out = (dk_vec3){v->u.v[0], v->u.v[1], v->u.v[2]};
    return e;
}

dk_err dk_variant_get_vector3i(const dk_variant *v, dk_vec3i *out)
{
    dk_err e = check_get(__func__, v, out, DK_VAR_VECTOR3I);
    if (e == DK_OK)
        *out = (dk_vec3i){v->u.vi[0], v->u.vi[1], v->u.vi[2]};
    return e;
}

dk_err dk_variant_get_color(const dk_variant *v, dk_color *out)
{
    dk_err e = check_get(__func__, v, out, DK_VAR_COLOR);
    if (e == DK_OK)
        *out = (dk_color){v->u.v[0], v->u.v[1], v->u.v[2], v->u.v[3]};
    return e;
}

dk_err dk_variant_get_string(const dk_variant *v, const char **utf8, size_t *len)
{
    if (!v || !utf8)
        return dk__fail(DK_ERR_INVALID, __func__, "%s is NULL", v ? "utf8" : "value");
    if (!is_text(v))
        return dk__fail(DK_ERR_INVALID, __func__, "the value is a %s, not a String",
                        dk_var_type_name((dk_var_type)v->type));
    *utf8 = v->u.s;
    if (len)
        *len = v->count;
    return DK_OK;
}

dk_err dk_variant_get_packed(const dk_variant *v, dk_var_type type, const void **elems,
                             size_t *count)
{
    static const uint64_t empty[2];
    if (!dk__var_elem_size((unsigned)type))
        return dk__fail(DK_ERR_INVALID, __func__, "%s is not a numeric packed array type",
                        dk_var_type_name(type));
    dk_err e = check_get(__func__, v, elems, (unsigned)type);
    if (e != DK_OK)
        return e;
    if (!count)
        return dk__fail(DK_ERR_INVALID, __func__, "count is NULL");
    *elems = v->count ? v->u.p : (const void *)empty;
    *count = v->count;
    return DK_OK;
}

const char *dk_variant_packed_string_at(const dk_variant *v, size_t i, size_t *len)
{
    if (!v || v->type != DK_VAR_PACKED_STRING_ARRAY || i >= v->count)
        return NULL;
    const dk__var_slice *sl = v->u.p;
    if (len)
        *len = sl[i].len;
    return (const char *)(sl + v->count) + sl[i].off;
}

size_t dk_variant_count(const dk_variant *v)
{
    if (!v || (!dk__var_is_container(v->type) && v->type != DK_VAR_PACKED_STRING_ARRAY &&
               !dk__var_elem_size(v->type)))
        return 0;
    return v->count;
}

const dk_variant *dk_variant_array_at(const dk_variant *a, size_t i)
{
    if (!a || a->type != DK_VAR_ARRAY || i >= a->count)
        return NULL;
    return dk__var_slot(a, i);
}

dk_var_type dk_variant_array_type(const dk_variant *a)
{
    return a && a->type == DK_VAR_ARRAY ? (dk_var_type)a->elem : DK_VAR_NIL;
}

const dk_variant *dk_variant_dict_key_at(const dk_variant *d, size_t i)
{
    if (!d || d->type != DK_VAR_DICTIONARY || i >= d->count)
        return NULL;
    return dk__var_slot(d, 2 * i);
}

const dk_variant *dk_variant_dict_value_at(const dk_variant *d, size_t i)
{
    if (!d || d->type != DK_VAR_DICTIONARY || i >= d->count)
        return NULL;
    return dk__var_slot(d, 2 * i + 1);
}

const dk_variant *dk_variant_dict_get(const dk_variant *d, const dk_variant *key)
{
    if (!d || !key || d->type != DK_VAR_DICTIONARY)
        return NULL;
    for (size_t i = 0; i < d->count; i++)
        if (dk__var_same_key(dk__var_slot(d, 2 * i), key))
            return dk__var_slot(d, 2 * i + 1);
    return NULL;
}

const dk_variant *dk_variant_dict_get_str(const dk_variant *d, const char *key)
{
    if (!d || !key || d->type != DK_VAR_DICTIONARY)
        return NULL;
    size_t len = strlen(key);
    for (size_t i = 0; i < d->count; i++) {
        const dk_variant *k = dk__var_slot(d, 2 * i);
        if (is_text(k) && k->count == len && memcmp(k->u.s, key, len) == 0)
            return dk__var_slot(d, 2 * i + 1);
    }
    return NULL;
}

void dk_variant_dict_types(const dk_variant *d, dk_var_type *key_type, dk_var_type *value_type)
{
    bool dict = d && d->type == DK_VAR_DICTIONARY;
    if (key_type)
        *key_type = dict ? (dk_var_type)d->elem : DK_VAR_NIL;
    if (value_type)
        *value_type = dict ? (dk_var_type)d->u.c.value_type : DK_VAR_NIL;
}

/* -------------------------------------------------- equality, hash */

/* Components of the float vectors and colors. */
static int float_count(unsigned type)
{
    switch (type) {
    case DK_VAR_VECTOR2: return 2;
    case DK_VAR_VECTOR3: return 3;
    case DK_VAR_RECT2:
    case DK_VAR_COLOR: return 4;
    default: return 0;
    }
}

/* Godot compares dictionary keys this way: NaN is NaN, -0.0 is 0.0. */
static bool same_float(double a, double b)
{
    return a == b || (isnan(a) && isnan(b));
}

static bool same_packed(const dk_variant *a, const dk_variant *b)
{
    size_t n = a->count;
    switch (a->type) {
    case DK_VAR_PACKED_FLOAT32_ARRAY:
    case DK_VAR_PACKED_VECTOR2_ARRAY:
    case DK_VAR_PACKED_VECTOR3_ARRAY:
    case DK_VAR_PACKED_COLOR_ARRAY: {
        const float *x = a->u.p, *y = b->u.p;
        for (size_t i = 0; i < n * dk__var_elem_size(a->type) / 4; i++)
            if (!same_float(x[i], y[i]))
                return false;
        return true;
    }
    case DK_VAR_PACKED_FLOAT64_ARRAY: {
        const double *x = a->u.p, *y = b->u.p;
        for (size_t i = 0; i < n; i++)
            if (!same_float(x[i], y[i]))
                return false;
        return true;
    }
    case DK_VAR_PACKED_STRING_ARRAY: return n == 0 || memcmp(a->u.p, b->u.p, payload_size(a)) == 0;
    default: return n == 0 || memcmp(a->u.p, b->u.p, n * dk__var_elem_size(a->type)) == 0;
    }
}

bool dk_variant_equal(const dk_variant *a, const dk_variant *b)
{
    if (a == b)
        return true;
    if (!a || !b || a->type != b->type || a->count != b->count)
        return false;
    switch (a->type) {
    case DK_VAR_NIL: return true;
    case DK_VAR_BOOL: return a->u.b == b->u.b;
    case DK_VAR_INT: return a->u.i == b->u.i;
    case DK_VAR_FLOAT: return same_float(a->u.f, b->u.f);
    case DK_VAR_VECTOR2I:
    case DK_VAR_VECTOR3I: return memcmp(a->u.vi, b->u.vi, sizeof a->u.vi) == 0;
    case DK_VAR_STRING:
    case DK_VAR_STRING_NAME: return memcmp(a->u.s, b->u.s, a->count) == 0;
    case DK_VAR_ARRAY:
    case DK_VAR_DICTIONARY:
        if (a->elem != b->elem ||
            (a->type == DK_VAR_DICTIONARY && a->u.c.value_type != b->u.c.value_type))
            return false;
        for (size_t i = 0; i < dk__var_slots(a); i++)
            if (!dk_variant_equal(dk__var_slot(a, i), dk__var_slot(b, i)))
                return false;
        return true;
    default:
        if (float_count(a->type)) {
            for (int i = 0; i < float_count(a->type); i++)
                if (!same_float(a->u.v[i], b->u.v[i]))
                    return false;
            return true;
        }
        return same_packed(a, b);
    }
}

bool dk__var_same_key(const dk_variant *a, const dk_variant *b)
{
    if (is_text(a) && is_text(b))
        return a->count == b->count && memcmp(a->u.s, b->u.s, a->count) == 0;
    return dk_variant_equal(a, b);
}

/* Keyed hash: dictionary keys come from the network, and a random key keeps
 * their hash-table chains short whatever they are. */
static uint8_t seed[16];
static pthread_once_t seed_once = PTHREAD_ONCE_INIT;

static void make_seed(void)
{
    /* Without one the table still works; only its worst case is slower. */
    if (dk__sys_random(seed, sizeof seed) != DK_OK)
        memset(seed, 0x5a, sizeof seed);
}

static uint64_t mix(uint64_t acc, uint64_t x)
{
    uint64_t two[2] = {acc, x};
    return dk__siphash13(seed, two, sizeof two);
}

/* Equal floats hash alike: -0.0 as 0.0, every NaN as one. */
static uint64_t float_bits(double f)
{
    if (isnan(f))
        return 0x7ff8000000000000u;
    if (f == 0)
        f = 0;
    uint64_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static uint64_t hash(const dk_variant *v)
{
    /* String and StringName hash alike: they may be the same key. */
    uint64_t h = mix(is_text(v) ? DK_VAR_STRING : v->type, v->count);
    switch (v->type) {
    case DK_VAR_NIL: return h;
    case DK_VAR_BOOL: return mix(h, v->u.b);
    case DK_VAR_INT: return mix(h, (uint64_t)v->u.i);
    case DK_VAR_FLOAT: return mix(h, float_bits(v->u.f));
    case DK_VAR_VECTOR2I:
    case DK_VAR_VECTOR3I:
        return mix(mix(mix(h, (uint32_t)v->u.vi[0]), (uint32_t)v->u.vi[1]), (uint32_t)v->u.vi[2]);
    case DK_VAR_STRING:
    case DK_VAR_STRING_NAME: return mix(h, dk__siphash13(seed, v->u.s, v->count));
    case DK_VAR_ARRAY:
    case DK_VAR_DICTIONARY:
        h = mix(h, v->elem | (v->type == DK_VAR_DICTIONARY ? v->u.c.value_type << 8 : 0));
        for (size_t i = 0; i < dk__var_slots(v); i++)
            h = mix(h, hash(dk__var_slot(v, i)));
        return h;
    case DK_VAR_PACKED_FLOAT32_ARRAY:
    case DK_VAR_PACKED_VECTOR2_ARRAY:
    case DK_VAR_PACKED_VECTOR3_ARRAY:
    case DK_VAR_PACKED_COLOR_ARRAY: {
        const float *x = v->u.p;
        for (size_t i = 0; i < v->count * dk__var_elem_size(v->type) / 4; i++)
            h = mix(h, float_bits(x[i]));
        return h;
    }
    case DK_VAR_PACKED_FLOAT64_ARRAY: {
        const double *x = v->u.p;
        for (size_t i = 0; i < v->count; i++)
            h = mix(h, float_bits(x[i]));
        return h;
    }
    default:
        if (float_count(v->type)) {
            for (int i = 0; i < float_count(v->type); i++)
                h = mix(h, float_bits(v->u.v[i]));
            return h;
        }
        return v->count ? mix(h, dk__siphash13(seed, v->u.p, payload_size(v))) : h;
    }
}

uint64_t dk__var_key_hash(const dk_variant *key)
{
    pthread_once(&seed_once, make_seed);
    return hash(key);
}
