/** @file
 * dtlskit — Godot Variant values, their binary serialization, and
 * PacketPeer's put_var() / get_var().
 *
 * A dk_variant is one value of the Variant types a network message uses:
 * nil, bool, int, float, String, StringName, Vector2, Vector2i, Rect2,
 * Vector3, Vector3i, Color, Array, Dictionary and the packed arrays. Arrays
 * and dictionaries hold other values, so a value is a tree; nesting is
 * limited to DK_VARIANT_MAX_DEPTH containers.
 *
 * The wire format is Godot's ("Binary serialization API" in Godot's
 * documentation): the same bytes Godot's var_to_bytes(), PacketPeer.put_var()
 * and get_var() use, with Godot 4's type numbering or Godot 3's
 * (dk_var_version). Objects, and the types listed under "not supported" in
 * README.md, are refused with DK_ERR_UNAVAILABLE.
 *
 * Ownership. A value returned by a constructor, dk_variant_copy() or
 * dk_variant_decode() belongs to the caller, who frees it with
 * dk_variant_free() or gives it to a container: dk_variant_array_append()
 * and dk_variant_dict_set() take the value (and key) in every case, freeing
 * them when the call fails, so that
 *
 *   dk_variant_array_append(list, dk_variant_new_int(42));
 *
 * never leaks. A constructor that fails returns NULL with the reason in
 * dk_last_error(); the container call that receives the NULL then fails with
 * DK_ERR_INVALID and keeps that reason in its message. Values inside a
 * container belong to it and stay valid until the outermost one is freed.
 *
 * Decoded values live in one block of memory and are read-only: the
 * container calls refuse them with DK_ERR_STATE; dk_variant_copy() makes a
 * copy that can be changed.
 *
 * Reading. Accessors take `const dk_variant *` and accept NULL, so lookups
 * chain: dk_variant_get_int(dk_variant_dict_get_str(msg, "id"), &id) fails
 * with DK_ERR_INVALID when "id" is missing or not an int. Getters never
 * convert between types (an int is not a float).
 *
 * Threads: a value may be read from several threads at once; changing it
 * needs the caller's exclusion.
 */
#ifndef DTLSKIT_VARIANT_H
#define DTLSKIT_VARIANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dtlskit/dtls.h>
#include <dtlskit/error.h>
#include <dtlskit/export.h>
#include <dtlskit/udp.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One Godot Variant value, possibly a container holding others (opaque).
 *  Owned as the file comment describes; freed with dk_variant_free(). */
typedef struct dk_variant dk_variant;

/** The types a dk_variant holds, numbered as Godot 4's Variant.Type
 *  (TYPE_INT is 2, TYPE_ARRAY is 28...). The gaps are Godot types dtlskit
 *  does not handle. */
typedef enum dk_var_type {
    /** null */
    DK_VAR_NIL = 0,
    /** bool */
    DK_VAR_BOOL = 1,
    DK_VAR_INT = 2,   /**< int64_t */
    DK_VAR_FLOAT = 3, /**< double */
    /** text, NUL-terminated UTF-8 */
    DK_VAR_STRING = 4,
    DK_VAR_VECTOR2 = 5,      /**< dk_vec2 */
    DK_VAR_VECTOR2I = 6,     /**< dk_vec2i (Godot 4 only) */
    DK_VAR_RECT2 = 7,        /**< dk_rect2 */
    DK_VAR_VECTOR3 = 9,      /**< dk_vec3 */
    DK_VAR_VECTOR3I = 10,    /**< dk_vec3i (Godot 4 only) */
    DK_VAR_COLOR = 20,       /**< dk_color */
    DK_VAR_STRING_NAME = 21, /**< text, like String (Godot 4 only) */
    /** Dictionary: key-value pairs in insertion order */
    DK_VAR_DICTIONARY = 27,
    /** Array of values */
    DK_VAR_ARRAY = 28,
    DK_VAR_PACKED_BYTE_ARRAY = 29,    /**< uint8_t[] */
    DK_VAR_PACKED_INT32_ARRAY = 30,   /**< int32_t[] */
    DK_VAR_PACKED_INT64_ARRAY = 31,   /**< int64_t[] (Godot 4 only) */
    DK_VAR_PACKED_FLOAT32_ARRAY = 32, /**< float[] */
    DK_VAR_PACKED_FLOAT64_ARRAY = 33, /**< double[] (Godot 4 only) */
    DK_VAR_PACKED_STRING_ARRAY = 34,  /**< strings, see dk_variant_packed_string_at() */
    DK_VAR_PACKED_VECTOR2_ARRAY = 35, /**< dk_vec2[] */
    DK_VAR_PACKED_VECTOR3_ARRAY = 36, /**< dk_vec3[] */
    DK_VAR_PACKED_COLOR_ARRAY = 37    /**< dk_color[] */
} dk_var_type;

/** Which Godot's numbering the bytes use. Godot 3 has no Vector2i,
 *  Vector3i, StringName, PackedInt64Array, PackedFloat64Array or typed
 *  containers: encoding them for Godot 3 fails with DK_ERR_UNAVAILABLE. */
typedef enum dk_var_version {
    DK_VAR_GODOT4 = 0, /**< Godot 4.x (the default: 0) */
    DK_VAR_GODOT3 = 1  /**< Godot 3.x */
} dk_var_version;

/** Containers nested in one value at most (an Array in an Array counts
 *  two); deeper input is refused by the decoder, deeper trees by the
 *  container calls. */
#define DK_VARIANT_MAX_DEPTH 64

/* Godot's vectors (real_t is float in Godot's standard builds). */
/** Godot's Vector2. */
typedef struct dk_vec2 {
    float x, y;
} dk_vec2;
/** @var dk_vec2::x
 *  X coordinate. */
/** @var dk_vec2::y
 *  Y coordinate. */
/** Godot 4's Vector2i. */
typedef struct dk_vec2i {
    int32_t x, y;
} dk_vec2i;
/** @var dk_vec2i::x
 *  X coordinate. */
/** @var dk_vec2i::y
 *  Y coordinate. */
/** Godot's Vector3. */
typedef struct dk_vec3 {
    float x, y, z;
} dk_vec3;
/** @var dk_vec3::x
 *  X coordinate. */
/** @var dk_vec3::y
 *  Y coordinate. */
/** @var dk_vec3::z
 *  Z coordinate. */
/** Godot 4's Vector3i. */
typedef struct dk_vec3i {
    int32_t x, y, z;
} dk_vec3i;
/** @var dk_vec3i::x
 *  X coordinate. */
/** @var dk_vec3i::y
 *  Y coordinate. */
/** @var dk_vec3i::z
 *  Z coordinate. */
/** Godot's Rect2: an axis-aligned rectangle. */
typedef struct dk_rect2 {
    dk_vec2 position, size;
} dk_rect2;
/** @var dk_rect2::position
 *  The corner with the smallest coordinates. */
/** @var dk_rect2::size
 *  Width (x) and height (y). */
/** Godot's Color: RGBA components, 0 to 1 for the usual range. */
typedef struct dk_color {
    float r, g, b, a;
} dk_color;

/** @var dk_color::r
 *  Red. */
/** @var dk_color::g
 *  Green. */
/** @var dk_color::b
 *  Blue. */
/** @var dk_color::a
 *  Alpha (1: opaque). */
/** Godot's name of a type ("int", "Vector2", "PackedByteArray"), or
 *  "unknown"; never NULL. */
DK_API const char *dk_var_type_name(dk_var_type type);

/* ------------------------------------------------------- constructors */

/* Each returns a new value owned by the caller, or NULL (dk_last_error()
 * says why: out of memory, or an invalid argument). */

/** A nil value (Godot's null). */
DK_API dk_variant *dk_variant_new_nil(void);
/** A bool. */
DK_API dk_variant *dk_variant_new_bool(bool value);
/** An int (64-bit, as Godot 4's; encoded in 32 bits when it fits). */
DK_API dk_variant *dk_variant_new_int(int64_t value);
/** A float (double; encoded in 32 bits when exact). */
DK_API dk_variant *dk_variant_new_float(double value);

/** A String from NUL-terminated UTF-8 (copied). Invalid UTF-8 is refused. */
DK_API dk_variant *dk_variant_new_string(const char *utf8);

/** A String from `len` bytes of UTF-8 (copied); a NUL byte is refused, as
 *  Godot's strings end at one. */
DK_API dk_variant *dk_variant_new_string_len(const char *utf8, size_t len);

/** A StringName (Godot 4's &"name"). */
DK_API dk_variant *dk_variant_new_string_name(const char *utf8);

/** A Vector2. */
DK_API dk_variant *dk_variant_new_vector2(float x, float y);
/** A Vector2i (Godot 4 only). */
DK_API dk_variant *dk_variant_new_vector2i(int32_t x, int32_t y);
/** A Rect2 at (`x`, `y`) of size `width` x `height`. */
DK_API dk_variant *dk_variant_new_rect2(float x, float y, float width, float height);
/** A Vector3. */
DK_API dk_variant *dk_variant_new_vector3(float x, float y, float z);
/** A Vector3i (Godot 4 only). */
DK_API dk_variant *dk_variant_new_vector3i(int32_t x, int32_t y, int32_t z);
/** A Color from its red, green, blue and alpha components. */
DK_API dk_variant *dk_variant_new_color(float r, float g, float b, float a);

/** An empty Array. `elem_type` DK_VAR_NIL makes Godot's untyped Array; any
 *  other type a typed Array[T], which accepts only values of that type
 *  (Godot 4.3 and later read and write typed Arrays). */
DK_API dk_variant *dk_variant_new_array(dk_var_type elem_type);

/** An empty Dictionary; DK_VAR_NIL for untyped keys or values, another
 *  type for a typed Dictionary[K, V] (Godot 4.4 and later). */
DK_API dk_variant *dk_variant_new_dictionary(dk_var_type key_type, dk_var_type value_type);

/** A packed array of `count` elements copied from `elems`, whose C type
 *  the packed type names (int32_t for DK_VAR_PACKED_INT32_ARRAY, dk_vec2
 *  for DK_VAR_PACKED_VECTOR2_ARRAY...). Not for PackedStringArray. */
DK_API dk_variant *dk_variant_new_packed(dk_var_type type, const void *elems, size_t count);

/** A PackedStringArray of `count` NUL-terminated UTF-8 strings (copied). */
DK_API dk_variant *dk_variant_new_packed_strings(const char *const *strings, size_t count);

/** A deep copy that the caller owns and may change (of a decoded value
 *  too). NULL when `value` is NULL or memory runs out. */
DK_API dk_variant *dk_variant_copy(const dk_variant *value);

/** Frees a value the caller owns, with everything inside it. NULL is
 *  ignored, and so is a value inside a container (its container owns it). */
DK_API void dk_variant_free(dk_variant *value);

/* ------------------------------------------------------- containers */

/** Appends `value` to `array`, which takes it: `value` is freed if the
 *  call fails, except when it is not the caller's to give (already inside
 *  a container, or `array` itself or a container holding it: then
 *  DK_ERR_INVALID and nothing changes). Errors: DK_ERR_INVALID (NULL, not
 *  an Array, the typed Array's type differs, nesting beyond
 *  DK_VARIANT_MAX_DEPTH), DK_ERR_STATE (decoded, read-only), DK_ERR_NOMEM,
 *  DK_ERR_TOO_BIG (2^31 - 1 elements). */
DK_API dk_err dk_variant_array_append(dk_variant *array, dk_variant *value);

/** Sets dict[key] = value, taking both as dk_variant_array_append() takes
 *  its value. An existing equal key keeps its place and gets the new value
 *  (the old value and the new key are freed); keys compare as Godot 4's do,
 *  so a String and a StringName with the same text are the same key.
 *  Linear in the dictionary's size. Errors as for
 *  dk_variant_array_append(). */
DK_API dk_err dk_variant_dict_set(dk_variant *dict, dk_variant *key, dk_variant *value);

/** dk_variant_dict_set() with a String key made from `key` (a StringName
 *  when the dictionary's keys are typed StringName). */
DK_API dk_err dk_variant_dict_set_str(dk_variant *dict, const char *key, dk_variant *value);

/* ---------------------------------------------------------- reading */

/** The value's type; DK_VAR_NIL for NULL. */
DK_API dk_var_type dk_variant_type(const dk_variant *value);

/* Getters: DK_OK and the value in `*out`, or DK_ERR_INVALID when `value`
 * is NULL or of another type (`*out` unchanged). */
/** A bool's value. */
DK_API dk_err dk_variant_get_bool(const dk_variant *value, bool *out);
/** An int's value. */
DK_API dk_err dk_variant_get_int(const dk_variant *value, int64_t *out);
/** A float's value (an int is refused). */
DK_API dk_err dk_variant_get_float(const dk_variant *value, double *out);
/** A Vector2's value. */
DK_API dk_err dk_variant_get_vector2(const dk_variant *value, dk_vec2 *out);
/** A Vector2i's value. */
DK_API dk_err dk_variant_get_vector2i(const dk_variant *value, dk_vec2i *out);
/** A Rect2's value. */
DK_API dk_err dk_variant_get_rect2(const dk_variant *value, dk_rect2 *out);
/** A Vector3's value. */
DK_API dk_err dk_variant_get_vector3(const dk_variant *value, dk_vec3 *out);
/** A Vector3i's value. */
DK_API dk_err dk_variant_get_vector3i(const dk_variant *value, dk_vec3i *out);
/** A Color's value. */
DK_API dk_err dk_variant_get_color(const dk_variant *value, dk_color *out);

/** A String's or StringName's text: NUL-terminated UTF-8 without NUL
 *  inside, valid as long as the value; `*len` (optional) gets its length
 *  in bytes. */
DK_API dk_err dk_variant_get_string(const dk_variant *value, const char **utf8, size_t *len);

/** A packed array's elements in host byte order: `type` must be the
 *  value's packed type (not PackedStringArray), `*elems` gets `*count`
 *  elements of its C type (never NULL, even when empty), valid as long as
 *  the value. */
DK_API dk_err dk_variant_get_packed(const dk_variant *value, dk_var_type type, const void **elems,
                                    size_t *count);

/** String `i` of a PackedStringArray, NUL-terminated (`*len`, optional:
 *  its length); NULL when not one or `i` is out of range. */
DK_API const char *dk_variant_packed_string_at(const dk_variant *value, size_t i, size_t *len);

/** Elements of an Array or packed array, entries of a Dictionary; 0 for
 *  anything else. */
DK_API size_t dk_variant_count(const dk_variant *value);

/** Element `i` of an Array; NULL when not one or out of range. */
DK_API const dk_variant *dk_variant_array_at(const dk_variant *array, size_t i);

/** A typed Array's element type; DK_VAR_NIL when untyped or not an Array. */
DK_API dk_var_type dk_variant_array_type(const dk_variant *array);

/** Key of entry `i` of a Dictionary, in insertion order (as
 *  Godot iterates); NULL when not one or out of range. */
DK_API const dk_variant *dk_variant_dict_key_at(const dk_variant *dict, size_t i);
/** Value of entry `i` of a Dictionary, in the same order as
 *  dk_variant_dict_key_at(); NULL when not one or out of range. */
DK_API const dk_variant *dk_variant_dict_value_at(const dk_variant *dict, size_t i);

/** The value stored under `key` (compared as dk_variant_dict_set()
 *  does), or NULL. */
DK_API const dk_variant *dk_variant_dict_get(const dk_variant *dict, const dk_variant *key);

/** The value stored under the String or StringName `key`, or NULL. */
DK_API const dk_variant *dk_variant_dict_get_str(const dk_variant *dict, const char *key);

/** A typed Dictionary's key and value types (optional out-parameters);
 *  DK_VAR_NIL for untyped ones. */
DK_API void dk_variant_dict_types(const dk_variant *dict, dk_var_type *key_type,
                                  dk_var_type *value_type);

/** True when both have the same type (containers: the same element types)
 *  and contents; floats compare as Godot's dictionary keys do (NaN equals
 *  NaN, -0.0 equals 0.0). Two NULLs are equal. */
DK_API bool dk_variant_equal(const dk_variant *a, const dk_variant *b);

/* ------------------------------------------------- serialization */

/** Writes `value` in Godot's binary serialization: the bytes
 *  var_to_bytes() makes (ints and floats take the 32-bit form when the
 *  value fits it exactly, as Godot writes them). `*len` gets the size
 *  written, or the size needed with DK_ERR_BUFFER_TOO_SMALL (`out` may be
 *  NULL with `cap` 0 to ask). Errors: DK_ERR_INVALID, DK_ERR_UNAVAILABLE
 *  (a type or typed container the version has not), DK_ERR_TOO_BIG (over
 *  2 GiB, more than Godot reads), DK_ERR_BUFFER_TOO_SMALL. */
DK_API dk_err dk_variant_encode(const dk_variant *value, dk_var_version version, void *out,
                                size_t cap, size_t *len);

/** Reads exactly one value from `len` bytes, strictly: every length must
 *  fit in the input, padding bytes must be zero, strings valid UTF-8
 *  without NUL, booleans 0 or 1, dictionary keys distinct, nesting at most
 *  DK_VARIANT_MAX_DEPTH, and nothing may follow the value. `*out` gets a
 *  read-only value the caller frees, made with one allocation of at most
 *  8 x `len` bytes; NULL on error. Errors: DK_ERR_INVALID (arguments),
 *  DK_ERR_PARSE (malformed; dk_last_error() gives the offset and the
 *  reason), DK_ERR_UNAVAILABLE (a valid value of a type dtlskit does not
 *  handle: objects, Transform2D..., a double-precision build's vectors),
 *  DK_ERR_NOMEM. */
DK_API dk_err dk_variant_decode(const void *data, size_t len, dk_var_version version,
                                dk_variant **out);

/* ---------------------------------------------- put_var / get_var */

/* Godot: PacketPeer.put_var(value) / get_var() (full_objects and
 * allow_objects false: objects are never sent or accepted). One value per
 * datagram.
 *
 * put_var encodes `value` and sends it as one packet. A value that does not
 * fit in one (DK_UDP_MAX_DATAGRAM for UDP, dk_dtls_peer_get_max_packet_size()
 * for DTLS) fails with DK_ERR_TOO_BIG and nothing is sent; otherwise the
 * errors of encode and of put_packet().
 *
 * get_var takes the next packet and decodes it into `*out` (the caller
 * frees it). Like Godot's, it consumes the packet even when the packet does
 * not decode: the error (DK_ERR_PARSE, DK_ERR_UNAVAILABLE, or DK_ERR_NOMEM
 * for its value) concerns that packet only, and the next call reads the
 * next one; no other queued packet is touched. Nothing queued:
 * DK_ERR_WOULD_BLOCK. Other errors as get_packet(); when memory for the
 * packet itself runs out (DK_ERR_NOMEM) it stays queued. */

/** put_var on a UDP peer: one datagram of at most DK_UDP_MAX_DATAGRAM
 *  bytes. Godot: PacketPeerUDP.put_var(). */
DK_API dk_err dk_udp_peer_put_var(dk_udp_peer *peer, const dk_variant *value,
                                  dk_var_version version);
/** get_var on a UDP peer: decodes the next datagram into `*out`.
 *  Godot: PacketPeerUDP.get_var(). */
DK_API dk_err dk_udp_peer_get_var(dk_udp_peer *peer, dk_var_version version, dk_variant **out);
/** put_var on a DTLS session: one record of at most
 *  dk_dtls_peer_get_max_packet_size() bytes. Godot: PacketPeerDTLS.put_var(). */
DK_API dk_err dk_dtls_peer_put_var(dk_dtls_peer *peer, const dk_variant *value,
                                   dk_var_version version);
/** get_var on a DTLS session: decodes the next packet into `*out`.
 *  Godot: PacketPeerDTLS.get_var(). */
DK_API dk_err dk_dtls_peer_get_var(dk_dtls_peer *peer, dk_var_version version, dk_variant **out);

#ifdef __cplusplus
}
#endif

#endif
