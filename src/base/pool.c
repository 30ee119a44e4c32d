#include "base/pool.h"

#include <stdlib.h>
#include <string.h>

struct er_pool_block {
  er_pool_block *next;
  size_t used, cap;
  _Alignas(16) unsigned char data[];
};

void er_pool_init(er_pool *p) { p->head = NULL; }

void er_pool_free(er_pool *p) {
  er_pool_block *b = p->head;
  while (b) {
    er_pool_block *n = b->next;
    free(b);
    b = n;
  }
  p->head = NULL;
}

static void *pool_take(er_pool *p, size_t n);

void *er_pool_alloc(er_pool *p, size_t n) {
  void *r = pool_take(p, n);
  if (r) memset(r, 0, n ? n : 16);
  return r;
}

void *er_pool_alloc_uninit(er_pool *p, size_t n) { return pool_take(p, n); }

static void *pool_take(er_pool *p, size_t n) {
  if (n > ((size_t)-1) / 2) return NULL; /* rounding up below must not wrap */
  n = (n + 15) & ~(size_t)15;
  if (n == 0) n = 16;
  er_pool_block *b = p->head;
  if (!b || b->cap - b->used < n) {
    size_t cap = n > 65536 ? n : 65536;
    er_pool_block *nb = (er_pool_block *)malloc(sizeof(er_pool_block) + cap);
    if (!nb) return NULL;
    nb->used = 0;
    nb->cap = cap;
    if (b && n > 65536) { /* big one-off block: keep the current block on top */
      nb->next = b->next;
      b->next = nb;
    } else {
      nb->next = b;
      p->head = nb;
    }
    b = nb;
  }
  void *r = b->data + b->used;
  b->used += n;
  return r;
}

char *er_pool_strndup(er_pool *p, const char *s, size_t n) {
  char *r = (char *)er_pool_alloc(p, n + 1);
  if (r) {
    memcpy(r, s, n);
    r[n] = 0;
  }
  return r;
}
