/* Internal: hash table from transport id (address + port) to an intrusive
 * node, with a random SipHash key so that remote peers cannot aim for
 * collisions. O(1) lookups; grows by doubling. */
#ifndef DK_CORE_PEER_TABLE_H
#define DK_CORE_PEER_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include <dtlskit/error.h>

#include "addr.h"

typedef struct dk__tnode {
    struct dk__tnode *next;
    uint64_t hash;
    uint8_t key[DK__TRANSPORT_ID_LEN];
} dk__tnode;

typedef struct dk__table {
    dk__tnode **buckets;
    size_t mask; /* bucket count - 1 */
    size_t count;
    uint8_t seed[16];
} dk__table;

dk_err dk__table_init(dk__table *t);
void dk__table_destroy(dk__table *t);

/* Fills node->key and node->hash for `addr`. */
void dk__table_key(const dk__table *t, const dk__addr *addr, dk__tnode *node);

/* The node whose key equals probe's (key and hash filled by
 * dk__table_key), or NULL. */
dk__tnode *dk__table_find(const dk__table *t, const dk__tnode *probe);

/* Inserts a node not in the table (its key must be unique). May grow the
 * table; DK_ERR_NOMEM only when growth fails and the table is over full. */
dk_err dk__table_insert(dk__table *t, dk__tnode *node);

void dk__table_remove(dk__table *t, dk__tnode *node);

#endif
