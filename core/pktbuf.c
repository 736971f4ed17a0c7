/* Size-class pool and FIFO of packet buffers. */
#include "pktbuf.h"

#include <stdlib.h>

static size_t class_capacity(unsigned cls)
{
    return (size_t)128u << cls;
}

static int class_for(size_t len)
{
    for (unsigned c = 0; c < DK__POOL_CLASSES; c++)
        if (len <= class_capacity(c))
            return (int)c;
    return -1;
}

void dk__pool_init(dk__pool *pool, size_t cache_limit)
{
    for (unsigned c = 0; c < DK__POOL_CLASSES; c++)
        pool->free_list[c] = NULL;
    pool->cached_bytes = 0;
    pool->cache_limit = cache_limit;
    pool->outstanding = 0;
}

void dk__pool_destroy(dk__pool *pool)
{
    for (unsigned c = 0; c < DK__POOL_CLASSES; c++) {
        dk__pkt *p = pool->free_list[c];
        while (p) {
            dk__pkt *n = p->next;
            free(p);
            p = n;
        }
        pool->free_list[c] = NULL;
    }
    pool->cached_bytes = 0;
}

dk__pkt *dk__pool_get(dk__pool *pool, size_t len)
{
    int c = class_for(len);
    if (c < 0)
        return NULL;
    dk__pkt *p = pool->free_list[c];
    if (p) {
        pool->free_list[c] = p->next;
        pool->cached_bytes -= class_capacity((unsigned)c);
    } else {
        p = malloc(sizeof *p + class_capacity((unsigned)c));
        if (!p)
            return NULL;
        p->cls = (uint8_t)c;
    }
    p->next = NULL;
    p->len = (uint32_t)len;
    pool->outstanding++;
    return p;
}

void dk__pool_put(dk__pool *pool, dk__pkt *pkt)
{
    if (!pkt)
        return;
    pool->outstanding--;
    size_t cap = class_capacity(pkt->cls);
    if (pool->cached_bytes + cap > pool->cache_limit) {
        free(pkt);
        return;
    }
    pkt->next = pool->free_list[pkt->cls];
    pool->free_list[pkt->cls] = pkt;
    pool->cached_bytes += cap;
}

void dk__pktq_push(dk__pktq *q, dk__pkt *pkt)
{
    pkt->next = NULL;
    if (q->tail)
        q->tail->next = pkt;
    else
        q->head = pkt;
    q->tail = pkt;
    q->count++;
    q->bytes += pkt->len;
}

dk__pkt *dk__pktq_pop(dk__pktq *q)
{
    dk__pkt *p = q->head;
    if (!p)
        return NULL;
    q->head = p->next;
    if (!q->head)
        q->tail = NULL;
    q->count--;
    q->bytes -= p->len;
    p->next = NULL;
    return p;
}

void dk__pktq_clear(dk__pktq *q, dk__pool *pool)
{
    dk__pkt *p;
    while ((p = dk__pktq_pop(q)))
        dk__pool_put(pool, p);
}
