/* Shared by the fuzz targets: splitting an input into datagrams and a
 * session fed without sockets. Inputs are sequences of datagrams, each a
 * 2-byte big-endian length followed by that many bytes. */
#ifndef DK_FUZZ_COMMON_H
#define DK_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Calls fn for each datagram of `data`; stops at a truncated one. */
static inline void fuzz_each_datagram(const uint8_t *data, size_t size,
                                      void (*fn)(void *ctx, const uint8_t *d, size_t n),
                                      void *ctx)
{
    while (size >= 2) {
        size_t n = (size_t)data[0] << 8 | data[1];
        data += 2;
        size -= 2;
        if (n > size)
            n = size;
        fn(ctx, data, n);
        data += n;
        size -= n;
    }
}

#endif
