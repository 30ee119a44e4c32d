#include "base/alloc.h"

#include <stdlib.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

/* Large blocks (packed weights, arenas) are 2 MiB aligned and marked for transparent huge
 * pages where the OS has them: one page fault per 2 MiB instead of per 4 KiB when they are
 * first written (about a third of a CNN's start-up otherwise). */
enum { HUGE = 2 << 20 };

static void *heap_alloc(void *ctx, size_t n) {
  (void)ctx;
  void *p = NULL;
  n = (n + 63) & ~(size_t)63;
  size_t align = n >= HUGE ? HUGE : 64;
  if (posix_memalign(&p, align, n ? n : 64) != 0) return NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (n >= HUGE) madvise(p, n & ~(size_t)(HUGE - 1), MADV_HUGEPAGE);
#endif
  return p;
}

static void heap_free(void *ctx, void *p) {
  (void)ctx;
  free(p);
}

static const er_allocator host_allocator = {heap_alloc, heap_free, NULL};

const er_allocator *er_host_allocator(void) { return &host_allocator; }
