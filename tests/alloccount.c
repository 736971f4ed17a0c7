/* Allocation counter (see alloccount.h). */
#include "alloccount.h"

#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TU_SANITIZER_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||                         \
    __has_feature(memory_sanitizer) || __has_feature(leak_sanitizer)
#define TU_SANITIZER_MALLOC 1
#endif
#endif
#ifndef TU_SANITIZER_MALLOC
#define TU_SANITIZER_MALLOC 0
#endif

static atomic_uint_fast64_t count;

static void counted(void)
{
    atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
}

/* The program is linked with --wrap=malloc,calloc,realloc: the core's and
 * the test's calls arrive here first. */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);

#if TU_SANITIZER_MALLOC

/* The sanitizer's allocator must see every call: count the wrapped ones
 * only. */
void *__wrap_malloc(size_t n)
{
    counted();
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
    counted();
    return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
    counted();
    return __real_realloc(p, n);
}

bool tu_alloc_whole_process(void)
{
    return false;
}

#else

/* __real_malloc is the executable's malloc below, which counts: the
 * wrappers only pass through, so nothing is counted twice. */
void *__wrap_malloc(size_t n)
{
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
    return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
    return __real_realloc(p, n);
}

/* glibc's allocator under its exported internal names. */
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t m);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t align, size_t n);
void __libc_free(void *p);

void *malloc(size_t n)
{
    counted();
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
    counted();
    return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
    counted();
    return __libc_realloc(p, n);
}

void free(void *p)
{
    __libc_free(p);
}

/* The aligned variants come from the same heap, so free() above releases
 * them; counted like the others. */
void *memalign(size_t align, size_t n)
{
    counted();
    return __libc_memalign(align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
    counted();
    return __libc_memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    /* A power of two and a multiple of sizeof(void *), as POSIX asks. */
    if (align < sizeof(void *) || (align & (align - 1)) != 0)
        return EINVAL;
    counted();
    void *p = __libc_memalign(align, n);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

bool tu_alloc_whole_process(void)
{
    return true;
}

#endif

uint64_t tu_alloc_count(void)
{
    return atomic_load(&count);
}
