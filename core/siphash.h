/* Internal: SipHash-1-3, a keyed hash for tables whose keys an attacker
 * chooses (source addresses): a random key makes collisions unpredictable. */
#ifndef DK_CORE_SIPHASH_H
#define DK_CORE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t dk__siphash13(const uint8_t key[16], const void *data, size_t len);

#endif
