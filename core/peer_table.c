/* Chained hash table keyed by transport id. */
#include "peer_table.h"

#include <stdlib.h>
#include <string.h>

#include "siphash.h"
#include "sysrand.h"

#define INITIAL_BUCKETS 64u

dk_err dk__table_init(dk__table *t)
{
    t->buckets = calloc(INITIAL_BUCKETS, sizeof *t->buckets);
    if (!t->buckets)
        return DK_ERR_NOMEM;
    t->mask = INITIAL_BUCKETS - 1;
    t->count = 0;
    if (dk__sys_random(t->seed, sizeof t->seed) != DK_OK) {
        free(t->buckets);
        t->buckets = NULL;
        return DK_ERR_INTERNAL;
    }
    return DK_OK;
}

void dk__table_destroy(dk__table *t)
{
    free(t->buckets);
    t->buckets = NULL;
    t->count = 0;
}

void dk__table_key(const dk__table *t, const dk__addr *addr, dk__tnode *node)
{
    dk__addr_transport_id(addr, node->key);
    node->hash = dk__siphash13(t->seed, node->key, sizeof node->key);
}

dk__tnode *dk__table_find(const dk__table *t, const dk__tnode *probe)
{
    for (dk__tnode *n = t->buckets[probe->hash & t->mask]; n; n = n->next)
        if (n->hash == probe->hash && memcmp(n->key, probe->key, sizeof n->key) == 0)
            return n;
    return NULL;
}

static void grow(dk__table *t)
{
    size_t nb = (t->mask + 1) * 2;
    dk__tnode **b = calloc(nb, sizeof *b);
    if (!b)
        return; /* keep working with longer chains */
    for (size_t i = 0; i <= t->mask; i++) {
        dk__tnode *n = t->buckets[i];
        while (n) {
            dk__tnode *next = n->next;
            n->next = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
            n = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->mask = nb - 1;
}

dk_err dk__table_insert(dk__table *t, dk__tnode *node)
{
    if (t->count >= t->mask + 1)
        grow(t);
    if (t->count >= 4 * (t->mask + 1))
        return DK_ERR_NOMEM;
    dk__tnode **head = &t->buckets[node->hash & t->mask];
    node->next = *head;
    *head = node;
    t->count++;
    return DK_OK;
}

void dk__table_remove(dk__table *t, dk__tnode *node)
{
    for (dk__tnode **pp = &t->buckets[node->hash & t->mask]; *pp; pp = &(*pp)->next) {
        if (*pp == node) {
            *pp = node->next;
            node->next = NULL;
            t->count--;
            return;
        }
    }
}
