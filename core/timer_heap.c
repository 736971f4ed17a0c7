/* Binary min-heap of intrusive deadline nodes. */
#include "timer_heap.h"

#include <stdlib.h>

void dk__heap_init(dk__heap *h)
{
    h->nodes = NULL;
    h->count = h->cap = 0;
}

void dk__heap_destroy(dk__heap *h)
{
    for (uint32_t i = 0; i < h->count; i++)
        h->nodes[i]->deadline = 0;
    free(h->nodes);
    dk__heap_init(h);
}

static void place(dk__heap *h, uint32_t i, dk__heap_node *n)
{
    h->nodes[i] = n;
    n->index = i;
}

static void sift_up(dk__heap *h, uint32_t i)
{
    dk__heap_node *n = h->nodes[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (h->nodes[parent]->deadline <= n->deadline)
            break;
        place(h, i, h->nodes[parent]);
        i = parent;
    }
    place(h, i, n);
}

static void sift_down(dk__heap *h, uint32_t i)
{
    dk__heap_node *n = h->nodes[i];
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        uint64_t best = n->deadline;
        if (l < h->count && h->nodes[l]->deadline < best) {
            m = l;
            best = h->nodes[l]->deadline;
        }
        if (r < h->count && h->nodes[r]->deadline < best)
            m = r;
        if (m == i)
            break;
        place(h, i, h->nodes[m]);
        i = m;
    }
    place(h, i, n);
}

static void remove_at(dk__heap *h, uint32_t i)
{
    dk__heap_node *last = h->nodes[--h->count];
    if (i < h->count) {
        place(h, i, last);
        sift_down(h, i);
        sift_up(h, last->index);
    }
}

bool dk__heap_set(dk__heap *h, dk__heap_node *n, uint64_t deadline)
{
    if (n->deadline == deadline)
        return true;
    if (n->deadline) { /* in the heap */
        if (!deadline) {
            remove_at(h, n->index);
            n->deadline = 0;
            return true;
        }
        uint64_t old = n->deadline;
        n->deadline = deadline;
        if (deadline < old)
            sift_up(h, n->index);
        else
            sift_down(h, n->index);
        return true;
    }
    if (!deadline)
        return true;
    if (h->count == h->cap) {
        uint32_t cap = h->cap ? h->cap * 2 : 64;
        dk__heap_node **nodes = realloc(h->nodes, cap * sizeof *nodes);
        if (!nodes)
            return false;
        h->nodes = nodes;
        h->cap = cap;
    }
    n->deadline = deadline;
    place(h, h->count++, n);
    sift_up(h, n->index);
    return true;
}
