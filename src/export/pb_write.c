/* Protobuf wire-format writer (see pb_write.h). */
#include "export/pb_write.h"

#include <stdlib.h>
#include <string.h>

#define PBW_LIMIT ((size_t)0x7fffffff) /* protobuf messages are limited to 2 GiB - 1 */

void pbw_free(pbw *w) {
  free(w->buf);
  memset(w, 0, sizeof *w);
}

uint8_t *pbw_reserve(pbw *w, size_t n) {
  if (w->error) return NULL;
  if (n > PBW_LIMIT - w->len) {
    w->error = 2;
    return NULL;
  }
  if (w->len + n > w->cap) {
    size_t cap = w->cap ? w->cap : 4096;
    while (cap < w->len + n) cap *= 2;
    uint8_t *b = (uint8_t *)realloc(w->buf, cap);
    if (!b) {
      w->error = 1;
      return NULL;
    }
    w->buf = b;
    w->cap = cap;
  }
  uint8_t *p = w->buf + w->len;
  w->len += n;
  return p;
}

static int varint_len(uint64_t v) {
  int n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

static void put_varint(uint8_t *p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  *p = (uint8_t)v;
}

void pbw_varint(pbw *w, uint64_t v) {
  uint8_t *p = pbw_reserve(w, (size_t)varint_len(v));
  if (p) put_varint(p, v);
}

void pbw_tag(pbw *w, uint32_t field, int wire) { pbw_varint(w, ((uint64_t)field << 3) | (unsigned)wire); }

void pbw_uint(pbw *w, uint32_t field, uint64_t v) {
  pbw_tag(w, field, 0);
  pbw_varint(w, v);
}

void pbw_fixed32(pbw *w, uint32_t field, uint32_t v) {
  pbw_tag(w, field, 5);
  uint8_t *p = pbw_reserve(w, 4);
  if (p)
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

uint8_t *pbw_bytes_open(pbw *w, uint32_t field, size_t n) {
  pbw_tag(w, field, 2);
  pbw_varint(w, n);
  return pbw_reserve(w, n);
}

void pbw_bytes(pbw *w, uint32_t field, const void *data, size_t n) {
  uint8_t *p = pbw_bytes_open(w, field, n);
  if (p && n) memcpy(p, data, n);
}

void pbw_str(pbw *w, uint32_t field, const char *s) { pbw_bytes(w, field, s ? s : "", s ? strlen(s) : 0); }

size_t pbw_begin(pbw *w, uint32_t field) {
  pbw_tag(w, field, 2);
  pbw_reserve(w, 1); /* length placeholder */
  return w->len;
}

void pbw_end(pbw *w, size_t at) {
  if (w->error) return;
  size_t n = w->len - at;
  int k = varint_len(n);
  if (k > 1 && !pbw_reserve(w, (size_t)k - 1)) return;
  if (k > 1) memmove(w->buf + at + k - 1, w->buf + at, n);
  put_varint(w->buf + at - 1, n);
}
