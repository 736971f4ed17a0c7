/* Internal: packet buffers and bounded FIFO queues.
 *
 * Received datagrams are copied out of the receive batch into buffers of a
 * power-of-two size class, taken from a pool's free lists. Once the pool is
 * warm, queueing a datagram allocates nothing, and an idle peer costs no
 * buffer memory at all (unlike a per-peer ring buffer). */
#ifndef DK_CORE_PKTBUF_H
#define DK_CORE_PKTBUF_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define DK__POOL_CLASSES 10 /* 128 bytes << 0..9: up to 64 KiB */

typedef struct dk__pkt {
    struct dk__pkt *next;
    dk__addr src;
    uint32_t len;
    uint8_t cls;
    uint8_t data[];
} dk__pkt;

typedef struct dk__pool {
    dk__pkt *free_list[DK__POOL_CLASSES];
    size_t cached_bytes; /* bytes sitting in free lists */
    size_t cache_limit;  /* beyond this, returned buffers are freed */
    size_t outstanding;  /* buffers handed out and not returned */
} dk__pool;

typedef struct dk__pktq {
    dk__pkt *head, *tail;
    uint32_t count;
    uint32_t bytes;
} dk__pktq;

void dk__pool_init(dk__pool *pool, size_t cache_limit);
/* Frees every cached buffer. Outstanding ones must have been returned. */
void dk__pool_destroy(dk__pool *pool);
/* A buffer for `len` bytes (len set, next NULL), or NULL when out of memory
 * or len > 64 KiB. */
dk__pkt *dk__pool_get(dk__pool *pool, size_t len);
void dk__pool_put(dk__pool *pool, dk__pkt *pkt);

static inline void dk__pktq_init(dk__pktq *q)
{
    q->head = q->tail = NULL;
    q->count = q->bytes = 0;
}

void dk__pktq_push(dk__pktq *q, dk__pkt *pkt);
dk__pkt *dk__pktq_pop(dk__pktq *q);
/* Returns every packet to the pool. */
void dk__pktq_clear(dk__pktq *q, dk__pool *pool);

#endif
