#include "import/onnx/pb.h"

#include <string.h>

void pb_init(pb_reader *r, const void *data, size_t size) {
  r->base = (const uint8_t *)data;
  r->p = r->base;
  r->end = r->base + size;
  r->depth = 0;
}

int pb_varint(const uint8_t *p, const uint8_t *end, uint64_t *v) {
  uint64_t x = 0;
  for (int i = 0; i < 10; i++) {
    if (p + i >= end) return 0;
    uint8_t b = p[i];
    if (i == 9 && b > 1) return -1; /* bits past 64 */
    x |= (uint64_t)(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) {
      *v = x;
      return i + 1;
    }
  }
  return -1;
}

static const char *wire_name(int w) {
  switch (w) {
    case PB_VARINT: return "varint";
    case PB_I64: return "64-bit";
    case PB_LEN: return "length-delimited";
    case PB_I32: return "32-bit";
    default: return "group";
  }
}

int pb_next(pb_reader *r, pb_field *f, er_status *err) {
  if (r->p >= r->end) return 0;
  size_t off = (size_t)(r->p - r->base);
  uint64_t tag;
  int n = pb_varint(r->p, r->end, &tag);
  if (n == 0) {
    *err = ER_ERR(ER_INVALID_MODEL, "truncated field tag at byte %zu", off);
    return -1;
  }
  if (n < 0) {
    *err = ER_ERR(ER_INVALID_MODEL, "overlong varint in field tag at byte %zu", off);
    return -1;
  }
  const uint8_t *p = r->p + n;
  uint64_t num = tag >> 3;
  int wire = (int)(tag & 7);
  if (num == 0 || num > 0x1fffffff) {
    *err = ER_ERR(ER_INVALID_MODEL, "invalid field number %llu at byte %zu",
                  (unsigned long long)num, off);
    return -1;
  }
  f->num = (uint32_t)num;
  f->wire = wire;
  f->offset = off;
  f->u = 0;
  f->data = NULL;
  f->len = 0;
  switch (wire) {
    case PB_VARINT:
      n = pb_varint(p, r->end, &f->u);
      if (n <= 0) {
        *err = ER_ERR(ER_INVALID_MODEL, "%s varint in field %u at byte %zu",
                      n == 0 ? "truncated" : "overlong", f->num, off);
        return -1;
      }
      p += n;
      break;
    case PB_I64:
    case PB_I32: {
      size_t w = wire == PB_I64 ? 8 : 4;
      if ((size_t)(r->end - p) < w) {
        *err = ER_ERR(ER_INVALID_MODEL, "truncated %s value in field %u at byte %zu",
                      wire_name(wire), f->num, off);
        return -1;
      }
      uint64_t v = 0;
      for (size_t i = 0; i < w; i++) v |= (uint64_t)p[i] << (8 * i);
      f->u = v;
      p += w;
      break;
    }
    case PB_LEN: {
      uint64_t len;
      n = pb_varint(p, r->end, &len);
      if (n <= 0) {
        *err = ER_ERR(ER_INVALID_MODEL, "%s length in field %u at byte %zu",
                      n == 0 ? "truncated" : "overlong", f->num, off);
        return -1;
      }
      p += n;
      if (len > (uint64_t)(r->end - p)) {
        *err = ER_ERR(ER_INVALID_MODEL,
                      "field %u at byte %zu has length %llu but only %zu bytes remain",
                      f->num, off, (unsigned long long)len, (size_t)(r->end - p));
        return -1;
      }
      f->data = p;
      f->len = (size_t)len;
      p += len;
      break;
    }
    default:
      *err = ER_ERR(ER_INVALID_MODEL, "unsupported wire type %d (%s) in field %u at byte %zu",
                    wire, wire == PB_SGROUP || wire == PB_EGROUP ? "group" : "invalid",
                    f->num, off);
      return -1;
  }
  r->p = p;
  return 1;
}

er_status pb_sub(const pb_reader *r, const pb_field *f, pb_reader *sub) {
  if (f->wire != PB_LEN)
    return ER_ERR(ER_INVALID_MODEL, "field %u at byte %zu is %s, expected a message", f->num,
                  f->offset, wire_name(f->wire));
  if (r->depth + 1 > PB_MAX_DEPTH)
    return ER_ERR(ER_INVALID_MODEL, "messages nested deeper than %d at byte %zu", PB_MAX_DEPTH,
                  f->offset);
  sub->base = r->base;
  sub->p = f->data;
  sub->end = f->data + f->len;
  sub->depth = r->depth + 1;
  return NULL;
}

er_status pb_expect(const pb_field *f, int wire, const char *name) {
  if (f->wire == wire) return NULL;
  return ER_ERR(ER_INVALID_MODEL, "field '%s' at byte %zu is %s, expected %s", name, f->offset,
                wire_name(f->wire), wire_name(wire));
}

er_status pb_rep_count(const pb_field *f, int elem_wire, const char *name, size_t *n) {
  if (f->wire == elem_wire) {
    *n += 1;
    return NULL;
  }
  if (f->wire != PB_LEN)
    return ER_ERR(ER_INVALID_MODEL, "repeated field '%s' at byte %zu is %s, expected %s", name,
                  f->offset, wire_name(f->wire), wire_name(elem_wire));
  if (elem_wire == PB_I32 || elem_wire == PB_I64) {
    size_t w = elem_wire == PB_I32 ? 4 : 8;
    if (f->len % w)
      return ER_ERR(ER_INVALID_MODEL,
                    "packed field '%s' at byte %zu has %zu bytes, not a multiple of %zu", name,
                    f->offset, f->len, w);
    *n += f->len / w;
    return NULL;
  }
  const uint8_t *p = f->data, *end = f->data + f->len;
  size_t k = 0;
  while (p < end) {
    uint64_t v;
    int m = pb_varint(p, end, &v);
    if (m <= 0)
      return ER_ERR(ER_INVALID_MODEL, "%s varint in packed field '%s' at byte %zu",
                    m == 0 ? "truncated" : "overlong", name, f->offset);
    p += m;
    k++;
  }
  *n += k;
  return NULL;
}

void pb_iter_init(pb_iter *it, const pb_field *f, int elem_wire) {
  it->elem_wire = elem_wire;
  if (f->wire == elem_wire) {
    it->single = 1;
    it->v = f->u;
    it->p = it->end = NULL;
  } else {
    it->single = 0;
    it->p = f->data;
    it->end = f->data + f->len;
  }
}

int pb_iter_next(pb_iter *it, uint64_t *v) {
  if (it->single) {
    if (it->single == 2) return 0;
    it->single = 2;
    *v = it->v;
    return 1;
  }
  if (it->p >= it->end) return 0;
  if (it->elem_wire == PB_VARINT) {
    int m = pb_varint(it->p, it->end, v);
    if (m <= 0) return 0; /* validated by pb_rep_count; defensive */
    it->p += m;
    return 1;
  }
  size_t w = it->elem_wire == PB_I32 ? 4 : 8;
  if ((size_t)(it->end - it->p) < w) return 0;
  uint64_t x = 0;
  for (size_t i = 0; i < w; i++) x |= (uint64_t)it->p[i] << (8 * i);
  it->p += w;
  *v = x;
  return 1;
}
