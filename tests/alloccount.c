/* Allocation counter (see alloccount.h). */
#include "alloccount.h"

#include <stdatomic.h>
#include <stddef.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);

static atomic_uint_fast64_t count;

void *__wrap_malloc(size_t n)
{
    atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
    atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
    return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
    atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
    return __real_realloc(p, n);
}

uint64_t tu_alloc_count(void)
{
    return atomic_load(&count);
}
