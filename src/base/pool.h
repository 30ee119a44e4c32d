/* Host bump allocator: many small allocations released together. */
#ifndef ER_BASE_POOL_H
#define ER_BASE_POOL_H
#include <stddef.h>

typedef struct er_pool_block er_pool_block;
typedef struct er_pool {
  er_pool_block *head;
} er_pool;

void er_pool_init(er_pool *p);
void er_pool_free(er_pool *p);
/* 16-byte aligned, zeroed. NULL on out-of-memory. */
void *er_pool_alloc(er_pool *p, size_t n);
/* The same, not zeroed (for memory the caller overwrites at once). */
void *er_pool_alloc_uninit(er_pool *p, size_t n);
char *er_pool_strndup(er_pool *p, const char *s, size_t n);
#endif
