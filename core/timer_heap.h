/* Internal: a binary min-heap of deadlines with intrusive nodes, so that a
 * server finds its next due session in O(1) and updates one in O(log n),
 * without scanning idle sessions. */
#ifndef DK_CORE_TIMER_HEAP_H
#define DK_CORE_TIMER_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dk__heap_node {
    uint64_t deadline; /* 0 while not in a heap */
    uint32_t index;
} dk__heap_node;

typedef struct dk__heap {
    dk__heap_node **nodes;
    uint32_t count, cap;
} dk__heap;

void dk__heap_init(dk__heap *h);
void dk__heap_destroy(dk__heap *h);

/* Puts `n` in the heap at `deadline`, or moves it there; deadline 0 takes it
 * out. Returns false when memory is short (the node stays out). */
bool dk__heap_set(dk__heap *h, dk__heap_node *n, uint64_t deadline);

/* The node with the earliest deadline, or NULL. */
static inline dk__heap_node *dk__heap_top(const dk__heap *h)
{
    return h->count ? h->nodes[0] : NULL;
}

#endif
