/* Allocator interface: all runtime memory goes through one of these, so device builds can
 * supply their own. */
#ifndef ER_BASE_ALLOC_H
#define ER_BASE_ALLOC_H
#include <stddef.h>

typedef struct er_allocator {
  void *(*alloc)(void *ctx, size_t n); /* 64-byte aligned, NULL on failure */
  void (*free)(void *ctx, void *p);
  void *ctx;
} er_allocator;

/* posix_memalign-based allocator (host builds only: base/host_alloc.c). */
const er_allocator *er_host_allocator(void);
#endif
