#include "base/alloc.h"

#include <stdlib.h>

static void *heap_alloc(void *ctx, size_t n) {
  (void)ctx;
  void *p = NULL;
  n = (n + 63) & ~(size_t)63;
  if (posix_memalign(&p, 64, n ? n : 64) != 0) return NULL;
  return p;
}

static void heap_free(void *ctx, void *p) {
  (void)ctx;
  free(p);
}

static const er_allocator host_allocator = {heap_alloc, heap_free, NULL};

const er_allocator *er_host_allocator(void) { return &host_allocator; }
