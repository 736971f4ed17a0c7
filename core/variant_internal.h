/* Internal: the dk_variant node, shared by variant.c (values), the
 * encoder, the decoder and put_var/get_var. */
#ifndef DK_CORE_VARIANT_INTERNAL_H
#define DK_CORE_VARIANT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtlskit/variant.h>

/* Node flags. */
#define DK__VF_ARENA  1u /* inside a decoded block: read-only */
#define DK__VF_BLOCK  2u /* first node of a decoded block: freeing it frees the block */
#define DK__VF_INLINE 4u /* container whose children are nodes in a row (decoded) */

/* Godot's lengths and counts are 32-bit signed: nothing may exceed this. */
#define DK__VAR_MAX_COUNT 0x7fffffffu

/* One value. 32 bytes, so that a decoded tree takes at most 8 bytes per
 * input byte: every value has at least a 4-byte header on the wire. */
struct dk_variant {
    uint32_t count;     /* String: bytes; Array, Dictionary: entries; packed: elements */
    uint8_t type;       /* dk_var_type */
    uint8_t flags;      /* DK__VF_* */
    uint8_t height;     /* containers in this value, itself included; 0 for others */
    uint8_t elem;       /* typed Array: element type; typed Dictionary: key type */
    dk_variant *parent; /* the container holding it; NULL for a root */
    union {
        bool b;
        int64_t i;
        double f;
        float v[4];    /* Vector2, Vector3, Rect2 (x, y, width, height), Color */
        int32_t vi[3]; /* Vector2i, Vector3i */
        const char *s; /* String, StringName: count bytes and a NUL */
        const void *p; /* packed: count elements; PackedStringArray: see below */
        struct {
            /* built: dk_variant *[cap]; decoded (DK__VF_INLINE): dk_variant[].
             * A Dictionary's entries take two slots: key, value. */
            void *items;
            uint32_t cap;
            uint8_t value_type; /* typed Dictionary: value type */
        } c;
    } u;
};

/* A PackedStringArray's data: count slices, then the strings' bytes, each
 * followed by a NUL. */
typedef struct dk__var_slice {
    uint32_t off, len;
} dk__var_slice;

static inline bool dk__var_is_container(unsigned type)
{
    return type == DK_VAR_ARRAY || type == DK_VAR_DICTIONARY;
}

/* Child slot `i` of a container (a Dictionary's key i is slot 2i). */
static inline dk_variant *dk__var_slot(const dk_variant *c, size_t i)
{
    if (c->flags & DK__VF_INLINE)
        return (dk_variant *)c->u.c.items + i;
    return ((dk_variant **)c->u.c.items)[i];
}

static inline size_t dk__var_slots(const dk_variant *c)
{
    return c->type == DK_VAR_DICTIONARY ? 2 * (size_t)c->count : c->count;
}

/* True for the types dtlskit handles. */
bool dk__var_type_known(unsigned type);

/* Bytes of one element of a numeric packed type, 0 for other types. */
size_t dk__var_elem_size(unsigned type);

/* The wire id of `type` in `version`, or -1 when that Godot lacks it. */
int dk__var_wire_id(unsigned type, dk_var_version version);

/* The dk_var_type of wire id `id` in `version`: -2 when Godot has no such
 * type, -1 when dtlskit does not handle it; `*godot_name` gets Godot's name
 * for it (except for -2). */
int dk__var_from_wire(unsigned id, dk_var_version version, const char **godot_name);

/* Valid UTF-8 without NUL, overlong forms, surrogates or code points past
 * U+10FFFF. Returns the offset of the first bad byte, or `n` when valid. */
size_t dk__var_utf8_check(const uint8_t *s, size_t n);

/* Dictionary keys: Godot 4's rule (String and StringName with the same text
 * are one key) over dk_variant_equal(). dk__var_key_hash() agrees with it. */
bool dk__var_same_key(const dk_variant *a, const dk_variant *b);
uint64_t dk__var_key_hash(const dk_variant *key);

/* Nesting of `c` from its root: 1 for a root container. */
int dk__var_depth(const dk_variant *c);

/* dk_variant_decode() for the library's callers: `func` names the public
 * call in error messages; `*allocated` (optional) gets the bytes allocated
 * for the value (tests check the bound). */
dk_err dk__variant_decode(const char *func, const void *data, size_t len, dk_var_version version,
                          dk_variant **out, size_t *allocated);

/* dk_variant_encode() for the library's callers. */
dk_err dk__variant_encode(const char *func, const dk_variant *value, dk_var_version version,
                          void *out, size_t cap, size_t *len);

#endif
