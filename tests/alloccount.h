/* Counts heap allocations (malloc, calloc, realloc and the aligned
 * variants) made anywhere in a test program: the core, the test, libc, and
 * the TLS library's shared objects. The program defines the allocator
 * entry points itself and forwards them to glibc's __libc_* functions;
 * the dynamic linker resolves every shared object's malloc to the
 * executable's definition.
 *
 * Under a sanitizer that owns malloc (ASan, TSan, MSan, LSan) that would
 * bypass it, so only the linker's --wrap=malloc,calloc,realloc count:
 * calls from the objects linked statically (core and test), not from the
 * shared libraries. tu_alloc_whole_process() says which applies. */
#ifndef DK_TEST_ALLOCCOUNT_H
#define DK_TEST_ALLOCCOUNT_H

#include <stdbool.h>
#include <stdint.h>

/* Allocations so far in this process (see above for what is seen). */
uint64_t tu_alloc_count(void);

/* True when tu_alloc_count() sees the whole process. */
bool tu_alloc_whole_process(void);

#endif
