/* Counts heap allocations made by the code linked into a test program
 * (the core and the test; not the TLS library's own shared objects), via
 * the linker's --wrap=malloc,calloc,realloc. */
#ifndef DK_TEST_ALLOCCOUNT_H
#define DK_TEST_ALLOCCOUNT_H

#include <stdint.h>

uint64_t tu_alloc_count(void);

#endif
