/*
 * Minimal protobuf wire-format reader over an untrusted byte buffer.
 *
 * Every read is bounds-checked: truncated fields, varints longer than 10 bytes (or with
 * bits past 64), lengths running past the enclosing message, group wire types, field
 * number 0 and nesting deeper than PB_MAX_DEPTH are errors that name the byte offset.
 * No allocation: LEN payloads point into the buffer.
 *
 *   pb_reader r; pb_init(&r, buf, size);
 *   pb_field f; er_status s; int got;
 *   while ((got = pb_next(&r, &f, &s)) > 0) { switch (f.num) ... }
 *   if (got < 0) return s;
 */
#ifndef ER_IMPORT_ONNX_PB_H
#define ER_IMPORT_ONNX_PB_H
#include <stddef.h>
#include <stdint.h>

#include "base/status.h"

#define PB_MAX_DEPTH 100

enum { PB_VARINT = 0, PB_I64 = 1, PB_LEN = 2, PB_SGROUP = 3, PB_EGROUP = 4, PB_I32 = 5 };

typedef struct pb_reader {
  const uint8_t *p, *end;
  const uint8_t *base; /* start of the whole buffer: byte offsets in messages */
  int depth;           /* nesting level of this message */
} pb_reader;

typedef struct pb_field {
  uint32_t num;
  int wire;
  uint64_t u;          /* VARINT / I64 / I32 value */
  const uint8_t *data; /* LEN payload */
  size_t len;
  size_t offset;       /* byte offset of the field's tag in the whole buffer */
} pb_field;

void pb_init(pb_reader *r, const void *data, size_t size);
/* Read the next field. Returns 1 (field read), 0 (end of message) or -1 (*err set). */
int pb_next(pb_reader *r, pb_field *f, er_status *err);
/* Reader over a LEN field's payload as a nested message (depth + 1, checked). */
er_status pb_sub(const pb_reader *r, const pb_field *f, pb_reader *sub);
/* Error unless f has wire type `wire`; `name` names the field in the message. */
er_status pb_expect(const pb_field *f, int wire, const char *name);

/* Repeated scalar fields, packed (LEN) or not (one scalar per occurrence).
 * elem_wire is PB_VARINT, PB_I32 or PB_I64. pb_rep_count validates the occurrence and
 * adds its element count to *n; iterate a validated occurrence with pb_iter. */
er_status pb_rep_count(const pb_field *f, int elem_wire, const char *name, size_t *n);
typedef struct pb_iter {
  const uint8_t *p, *end;
  int elem_wire;
  int single; /* 1: one unpacked value left in `v`, 2: done */
  uint64_t v;
} pb_iter;
void pb_iter_init(pb_iter *it, const pb_field *f, int elem_wire);
int pb_iter_next(pb_iter *it, uint64_t *v); /* 1: value read, 0: end */

/* Decode a varint at *p (< end). Returns bytes used, 0 if truncated, -1 if too long. */
int pb_varint(const uint8_t *p, const uint8_t *end, uint64_t *v);
#endif
