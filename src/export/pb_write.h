/*
 * Minimal protobuf wire-format writer (host code) into a growing heap buffer.
 *
 * Errors are sticky: after an allocation failure or a size beyond the 2 GiB protobuf limit
 * every call does nothing and pbw_error() is non-zero; check once at the end.
 *
 * Nested messages: `size_t at = pbw_begin(w, field); ...fields...; pbw_end(w, at);`
 * writes the tag and a one-byte length placeholder, and pbw_end moves the content up when
 * the length needs more bytes, so lengths are always minimally encoded.
 */
#ifndef ER_EXPORT_PB_WRITE_H
#define ER_EXPORT_PB_WRITE_H
#include <stddef.h>
#include <stdint.h>

typedef struct pbw {
  uint8_t *buf;
  size_t len, cap;
  int error; /* 1: out of memory, 2: larger than the 2 GiB protobuf limit */
} pbw;

void pbw_free(pbw *w);
static inline int pbw_error(const pbw *w) { return w->error; }

/* Raw space for n bytes at the end (NULL after an error); the caller fills it. */
uint8_t *pbw_reserve(pbw *w, size_t n);
void pbw_varint(pbw *w, uint64_t v);
void pbw_tag(pbw *w, uint32_t field, int wire);
/* VARINT field (int32/int64/uint64/enum/bool; negative values as 10-byte two's complement). */
void pbw_uint(pbw *w, uint32_t field, uint64_t v);
static inline void pbw_int(pbw *w, uint32_t field, int64_t v) { pbw_uint(w, field, (uint64_t)v); }
/* I32 field (float bits, fixed32). */
void pbw_fixed32(pbw *w, uint32_t field, uint32_t v);
/* LEN field with the given payload. */
void pbw_bytes(pbw *w, uint32_t field, const void *data, size_t n);
void pbw_str(pbw *w, uint32_t field, const char *s); /* NULL writes "" */
/* LEN field whose payload (n bytes) the caller writes into the returned space. */
uint8_t *pbw_bytes_open(pbw *w, uint32_t field, size_t n);
size_t pbw_begin(pbw *w, uint32_t field);
void pbw_end(pbw *w, size_t at);
#endif
