/* Fuzz target: dk_variant_decode() on arbitrary bytes, as Godot 4 and as
 * Godot 3. What decodes must re-encode, decode to an equal value, and
 * encode to the same bytes again; its copy must be equal; every dictionary entry
 * must be found under its own key (keys are distinct); and the decoded tree
 * stays within 8 bytes per input byte. */
#include <stdlib.h>
#include <string.h>

#include <dtlskit/dtlskit.h>

#include "variant_internal.h"

/* Reads every node through the public calls. */
static void walk(const dk_variant *v)
{
    size_t n = dk_variant_count(v);
    switch (dk_variant_type(v)) {
    case DK_VAR_ARRAY:
        for (size_t i = 0; i < n; i++)
            walk(dk_variant_array_at(v, i));
        if (dk_variant_array_at(v, n))
            abort();
        break;
    case DK_VAR_DICTIONARY:
        for (size_t i = 0; i < n; i++) {
            const dk_variant *k = dk_variant_dict_key_at(v, i);
            walk(k);
            walk(dk_variant_dict_value_at(v, i));
            /* Linear lookups: only for small dictionaries. */
            if (n <= 64 && dk_variant_dict_get(v, k) != dk_variant_dict_value_at(v, i))
                abort();
        }
        break;
    case DK_VAR_STRING:
    case DK_VAR_STRING_NAME: {
        const char *s;
        size_t len;
        if (dk_variant_get_string(v, &s, &len) != DK_OK || strlen(s) != len)
            abort();
        break;
    }
    case DK_VAR_PACKED_STRING_ARRAY:
        for (size_t i = 0; i < n; i++) {
            size_t len;
            const char *s = dk_variant_packed_string_at(v, i, &len);
            if (!s || strlen(s) != len)
                abort();
        }
        break;
    default:
        if (dk__var_elem_size(dk_variant_type(v))) {
            const void *p;
            size_t count;
            if (dk_variant_get_packed(v, dk_variant_type(v), &p, &count) != DK_OK || count != n)
                abort();
        }
        break;
    }
}

static uint8_t *encode(const dk_variant *v, dk_var_version ver, size_t *len)
{
    if (dk_variant_encode(v, ver, NULL, 0, len) != DK_ERR_BUFFER_TOO_SMALL)
        abort();
    uint8_t *b = malloc(*len);
    if (!b || dk_variant_encode(v, ver, b, *len, len) != DK_OK)
        abort();
    return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int ver = DK_VAR_GODOT4; ver <= DK_VAR_GODOT3; ver++) {
        dk_variant *v = NULL;
        size_t tree = 0;
        dk_err e = dk__variant_decode("fuzz", data, size, (dk_var_version)ver, &v, &tree);
        if (e != DK_OK) {
            if (v || (e != DK_ERR_PARSE && e != DK_ERR_UNAVAILABLE))
                abort();
            continue;
        }
        if (tree > 8 * size)
            abort();
        walk(v);
        size_t n1, n2;
        uint8_t *b1 = encode(v, (dk_var_version)ver, &n1);
        dk_variant *w = NULL;
        if (dk_variant_decode(b1, n1, (dk_var_version)ver, &w) != DK_OK || !dk_variant_equal(v, w))
            abort();
        uint8_t *b2 = encode(w, (dk_var_version)ver, &n2);
        if (n1 != n2 || memcmp(b1, b2, n1) != 0)
            abort();
        dk_variant *c = dk_variant_copy(v);
        if (!dk_variant_equal(c, v))
            abort();
        dk_variant_free(c);
        dk_variant_free(w);
        dk_variant_free(v);
        free(b1);
        free(b2);
    }
    return 0;
}
