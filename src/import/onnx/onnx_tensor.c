/* TensorProto: dims, element type and data (raw, typed fields or external file). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/dtype.h"
#include "base/tensor.h"
#include "import/onnx/onnx_internal.h"

/* Largest tensor we accept (bytes): far above any real model, far below overflow. */
#define TENSOR_LIMIT ((uint64_t)1 << 46)

enum { F_DIMS = 1, F_DTYPE = 2, F_SEGMENT = 3, F_FLOAT = 4, F_INT32 = 5, F_STRING = 6,
       F_INT64 = 7, F_NAME = 8, F_RAW = 9, F_DOUBLE = 10, F_UINT64 = 11, F_EXTERNAL = 13,
       F_LOCATION = 14 };

static int is_4bit(int dt) { return dt == ER_U4 || dt == ER_I4 || dt == ER_F4E2M1; }

/* Unpack n 4-bit elements (two per byte, low nibble first) into one byte each. */
static void unpack_4bit(const uint8_t *src, uint8_t *dst, size_t n, int dt) {
  for (size_t i = 0; i < n; i++) {
    uint8_t nib = (uint8_t)((src[i / 2] >> (4 * (i & 1))) & 0xf);
    dst[i] = dt == ER_I4 ? (uint8_t)(int8_t)((int8_t)(nib << 4) >> 4) : nib;
  }
}

/* Room for n unpacked 4-bit elements: a model's 4-bit weights go to a heap buffer of their
 * own, which the model releases once the optimizer has replaced them (er_mapping.unpacked4,
 * er_imported_release_unused); a standalone tensor's to the pool. NULL when out of memory. */
static uint8_t *alloc_unpacked4(onx_ctx *c, size_t n) {
  if (c->copy_data || n == 0) return (uint8_t *)er_pool_alloc(c->pool, n ? n : 1);
  er_mapping *mp = (er_mapping *)calloc(1, sizeof *mp);
  uint8_t *d = mp ? (uint8_t *)malloc(n) : NULL;
  if (!d) {
    free(mp);
    return NULL;
  }
  mp->ptr = d, mp->size = n, mp->unpacked4 = 1;
  mp->next = *c->mappings;
  *c->mappings = mp;
  return d;
}

/* Room for a large copy (>= 64 KiB) of file bytes: all of them share one anonymous mapping
 * with transparent huge pages, reserved (not touched) at the first copy with the size of the
 * model's bytes, so that copying faults once per 2 MiB instead of once per 4 KiB (about a
 * tenth of a CNN's load time). NULL: use the pool (area full, e.g. external data, or no mmap). */
enum { COPY_MIN = 64 << 10, HUGE_PAGE = 2 << 20 };
static void *copy_area_take(onx_ctx *c, size_t nbytes) {
#if defined(MAP_ANONYMOUS)
  if (!c->copy_area && c->copy_cap >= COPY_MIN) {
    size_t cap = (c->copy_cap + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
    er_mapping *mp = (er_mapping *)calloc(1, sizeof *mp);
    void *p = mp ? mmap(NULL, cap + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
                 : MAP_FAILED;
    if (p == MAP_FAILED) {
      free(mp);
      c->copy_cap = 0; /* don't try again */
      return NULL;
    }
    mp->ptr = p, mp->size = cap + HUGE_PAGE, mp->is_mmap = 2;
    mp->next = *c->mappings;
    *c->mappings = mp;
    c->copy_area = (uint8_t *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    c->copy_cap = cap;
#if defined(MADV_HUGEPAGE)
    madvise(c->copy_area, cap, MADV_HUGEPAGE);
#endif
  }
  size_t at = (c->copy_used + 63) & ~(size_t)63;
  if (!c->copy_area || nbytes > c->copy_cap || at > c->copy_cap - nbytes) return NULL;
  c->copy_used = at + nbytes;
  return c->copy_area + at;
#else
  return NULL;
#endif
}

/* Element data of a tensor from bytes in the file (raw_data or external file). */
static er_status take_bytes(onx_ctx *c, er_tensor *t, const uint8_t *src, size_t numel,
                            size_t esize) {
  if (is_4bit(t->dtype)) {
    uint8_t *d = alloc_unpacked4(c, numel);
    if (!d) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
    unpack_4bit(src, d, numel, t->dtype);
    t->data = d;
    return NULL;
  }
  size_t nbytes = numel * esize;
  if (!c->copy_data && numel > 0 && ((uintptr_t)src % esize) == 0) {
    t->data = (void *)(uintptr_t)src; /* referenced in place; never written */
    return NULL;
  }
  void *d = !c->copy_data && nbytes >= COPY_MIN ? copy_area_take(c, nbytes) : NULL;
  if (!d) d = er_pool_alloc_uninit(c->pool, nbytes ? nbytes : 1);
  if (!d) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory (%zu bytes)", nbytes);
  if (nbytes) memcpy(d, src, nbytes);
  t->data = d;
  if (c->copies && !c->copy_data && nbytes >= COPY_MIN) {
    er_copied *cp = (er_copied *)er_pool_alloc(c->pool, sizeof *cp);
    if (!cp) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
    cp->dst = d, cp->src = src, cp->bytes = nbytes, cp->dropped = 0;
    cp->next = *c->copies;
    *c->copies = cp;
  }
  return NULL;
}

static int parse_u64(const char *s, uint64_t *out) {
  if (!*s) return 0;
  uint64_t v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return 0;
    if (v > (UINT64_MAX - 9) / 10) return 0;
    v = v * 10 + (uint64_t)(*s - '0');
  }
  *out = v;
  return 1;
}

/* Reject absolute paths and any ".." component. */
static int path_is_safe(const char *p) {
  if (!*p || p[0] == '/' || p[0] == '\\') return 0;
  const char *s = p;
  while (*s) {
    const char *e = s;
    while (*e && *e != '/' && *e != '\\') e++;
    if (e - s == 2 && s[0] == '.' && s[1] == '.') return 0;
    s = *e ? e + 1 : e;
  }
  return 1;
}

static er_status map_external(onx_ctx *c, const char *location, const uint8_t **data,
                              size_t *size) {
  for (onx_extfile *f = c->files; f; f = f->next)
    if (strcmp(f->path, location) == 0) {
      *data = f->data;
      *size = f->size;
      return NULL;
    }
  size_t n = strlen(c->base_dir) + 1 + strlen(location) + 1;
  char *full = (char *)er_pool_alloc(&c->tmp, n);
  onx_extfile *f = (onx_extfile *)er_pool_alloc(&c->tmp, sizeof *f);
  if (!full || !f) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
  snprintf(full, n, "%s/%s", c->base_dir, location);
  const void *d;
  size_t sz;
  ER_RETURN_IF_ERROR(er_map_file(full, c->mappings, &d, &sz));
  f->path = location;
  f->data = (const uint8_t *)d;
  f->size = sz;
  f->next = c->files;
  c->files = f;
  *data = f->data;
  *size = sz;
  return NULL;
}

typedef struct tinfo {
  const char *kind, *name;
  int dtype, rank;
  int64_t dims[ER_MAX_RANK];
} tinfo;

static er_status terr(er_status s, const tinfo *ti) {
  if (!s) return s;
  if (ti->name && *ti->name) return onx_prefix(s, "%s '%s'", ti->kind, ti->name);
  return onx_prefix(s, "%s", ti->kind);
}

static er_status size_mismatch(const tinfo *ti, const char *field, size_t have, const char *unit,
                               size_t need) {
  char b[200];
  er_shape_str(ti->dims, ti->rank, b, sizeof b);
  return ER_ERR(ER_INVALID_MODEL, "%s has %zu %s, shape %s %s needs %zu", field, have, unit, b,
                er_dtype_name((er_dtype)ti->dtype), need);
}

/* Fill a typed field (float_data, int32_data, ...) into t->data. */
static er_status fill_typed(onx_ctx *c, const pb_reader *msg, er_tensor *t, uint32_t fnum,
                            int elem_wire, size_t numel) {
  int dt = t->dtype;
  size_t esize = er_dtype_size(dt);
  size_t bytes = numel * esize;
  uint8_t *d = is_4bit(dt) ? alloc_unpacked4(c, numel) : (uint8_t *)er_pool_alloc(c->pool, bytes ? bytes : 1);
  if (!d) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory (%zu bytes)", bytes);
  t->data = d;
  pb_reader r = *msg;
  pb_field f;
  er_status err = NULL;
  size_t k = 0; /* elements (4-bit: stored values, two elements each) */
  while (pb_next(&r, &f, &err) > 0) {
    if (f.num != fnum) continue;
    pb_iter it;
    uint64_t v;
    pb_iter_init(&it, &f, elem_wire);
    while (pb_iter_next(&it, &v)) {
      if (is_4bit(dt)) {
        uint8_t byte = (uint8_t)v;
        for (int h = 0; h < 2 && 2 * k + (size_t)h < numel; h++) {
          uint8_t nib = (uint8_t)((byte >> (4 * h)) & 0xf);
          d[2 * k + (size_t)h] = dt == ER_I4 ? (uint8_t)(int8_t)((int8_t)(nib << 4) >> 4) : nib;
        }
        k++;
        continue;
      }
      if (k >= numel) break; /* counted before: cannot happen */
      switch (fnum) {
        case F_FLOAT: { uint32_t u = (uint32_t)v; memcpy(d + 4 * k, &u, 4); break; }
        case F_DOUBLE: memcpy(d + 8 * k, &v, 8); break;
        case F_INT64: memcpy(d + 8 * k, &v, 8); break;
        case F_UINT64:
          if (esize == 8) memcpy(d + 8 * k, &v, 8);
          else { uint32_t u = (uint32_t)v; memcpy(d + 4 * k, &u, 4); }
          break;
        default: /* int32_data: low bits hold the value / bit pattern */
          if (dt == ER_BOOL) d[k] = v != 0;
          else if (esize == 4) { uint32_t u = (uint32_t)v; memcpy(d + 4 * k, &u, 4); }
          else if (esize == 2) { uint16_t u = (uint16_t)v; memcpy(d + 2 * k, &u, 2); }
          else d[k] = (uint8_t)v;
          break;
      }
      k++;
    }
  }
  if (err) return err; /* validated in the first pass: defensive */
  return NULL;
}

/* Which typed field holds each dtype. */
static int typed_field_for(int dt) {
  switch (dt) {
    case ER_F32: return F_FLOAT;
    case ER_I32: case ER_I16: case ER_I8: case ER_U16: case ER_U8: case ER_BOOL: case ER_F16:
    case ER_BF16: case ER_F8E4M3FN: case ER_F8E4M3FNUZ: case ER_F8E5M2: case ER_F8E5M2FNUZ:
    case ER_I4: case ER_U4: case ER_F4E2M1:
      return F_INT32;
    case ER_I64: return F_INT64;
    case ER_F64: return F_DOUBLE;
    case ER_U32: case ER_U64: return F_UINT64;
    default: return 0;
  }
}

static const char *field_name(uint32_t f) {
  switch (f) {
    case F_FLOAT: return "float_data";
    case F_INT32: return "int32_data";
    case F_STRING: return "string_data";
    case F_INT64: return "int64_data";
    case F_DOUBLE: return "double_data";
    case F_UINT64: return "uint64_data";
    default: return "data";
  }
}

static er_status parse_tensor(onx_ctx *c, const pb_reader *msg, tinfo *ti, er_tensor **out) {
  pb_reader r = *msg;
  pb_field f;
  er_status err = NULL;
  int got, ndims = 0, has_raw = 0, has_dtype = 0;
  int64_t location = 0;
  const uint8_t *raw = NULL;
  size_t raw_len = 0;
  size_t counts[16] = {0};
  const char *ext_location = NULL, *ext_offset = NULL, *ext_length = NULL;
  ti->dtype = 0;
  while ((got = pb_next(&r, &f, &err)) > 0) {
    switch (f.num) {
      case F_DIMS: {
        size_t n = 0;
        ER_RETURN_IF_ERROR(pb_rep_count(&f, PB_VARINT, "dims", &n));
        pb_iter it;
        uint64_t v;
        pb_iter_init(&it, &f, PB_VARINT);
        while (pb_iter_next(&it, &v)) {
          if (ndims < ER_MAX_RANK) ti->dims[ndims] = (int64_t)v;
          if (ndims <= ER_MAX_RANK) ndims++;
        }
        break;
      }
      case F_DTYPE:
        ER_RETURN_IF_ERROR(pb_expect(&f, PB_VARINT, "data_type"));
        ti->dtype = f.u > 1000 ? 1000 : (int)f.u;
        has_dtype = 1;
        break;
      case F_SEGMENT:
        return ER_ERR(ER_UNSUPPORTED, "segmented tensors are not supported");
      case F_FLOAT:
        ER_RETURN_IF_ERROR(pb_rep_count(&f, PB_I32, "float_data", &counts[f.num]));
        break;
      case F_DOUBLE:
        ER_RETURN_IF_ERROR(pb_rep_count(&f, PB_I64, "double_data", &counts[f.num]));
        break;
      case F_INT32: case F_INT64: case F_UINT64:
        ER_RETURN_IF_ERROR(pb_rep_count(&f, PB_VARINT, field_name(f.num), &counts[f.num]));
        break;
      case F_STRING:
        ER_RETURN_IF_ERROR(pb_expect(&f, PB_LEN, "string_data"));
        counts[F_STRING]++;
        break;
      case F_NAME:
        ER_RETURN_IF_ERROR(pb_expect(&f, PB_LEN, "name"));
        ti->name = onx_str(c->pool, &f);
        if (!ti->name) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
        break;
      case F_RAW:
        ER_RETURN_IF_ERROR(pb_expect(&f, PB_LEN, "raw_data"));
        raw = f.data;
        raw_len = f.len;
        has_raw = 1;
        break;
      case F_LOCATION:
        ER_RETURN_IF_ERROR(pb_expect(&f, PB_VARINT, "data_location"));
        location = (int64_t)f.u;
        break;
      case F_EXTERNAL: {
        pb_reader e;
        pb_field g;
        ER_RETURN_IF_ERROR(pb_sub(&r, &f, &e));
        const char *key = NULL, *val = NULL;
        while ((got = pb_next(&e, &g, &err)) > 0) {
          if (g.num != 1 && g.num != 2) continue;
          ER_RETURN_IF_ERROR(pb_expect(&g, PB_LEN, g.num == 1 ? "key" : "value"));
          if (memchr(g.data, 0, g.len))
            return ER_ERR(ER_INVALID_MODEL, "external_data entry contains a NUL byte");
          char *s = onx_str(&c->tmp, &g);
          if (!s) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
          if (g.num == 1) key = s;
          else val = s;
        }
        if (got < 0) return err;
        if (!key || !val) break;
        if (!strcmp(key, "location")) ext_location = val;
        else if (!strcmp(key, "offset")) ext_offset = val;
        else if (!strcmp(key, "length")) ext_length = val;
        break;
      }
      default:
        break;
    }
  }
  if (got < 0) return err;

  int dt = ti->dtype;
  if (!has_dtype || dt == ER_UNDEFINED) return ER_ERR(ER_INVALID_MODEL, "data_type is not set");
  if (dt == ER_STRING || dt == ER_C64 || dt == ER_C128)
    return ER_ERR(ER_UNSUPPORTED, "element type %s is not supported", er_dtype_name((er_dtype)dt));
  if (er_dtype_size(dt) == 0) return ER_ERR(ER_INVALID_MODEL, "invalid data_type %d", dt);
  if (ndims > ER_MAX_RANK)
    return ER_ERR(ER_UNSUPPORTED, "rank exceeds the maximum of %d", ER_MAX_RANK);
  ti->rank = ndims;
  for (int i = 0; i < ndims; i++)
    if (ti->dims[i] < 0)
      return ER_ERR(ER_INVALID_MODEL, "dimension %d is negative (%lld)", i,
                    (long long)ti->dims[i]);
  /* The product of the non-zero dims must stay small even when another dim is 0, so
   * that er_shape_numel never overflows whatever order it multiplies in. */
  uint64_t prod = 1;
  for (int i = 0; i < ndims; i++) {
    uint64_t d = ti->dims[i] ? (uint64_t)ti->dims[i] : 1;
    if (d > TENSOR_LIMIT || prod > TENSOR_LIMIT / d) {
      char b[200];
      return ER_ERR(ER_OUT_OF_RANGE, "tensor of shape %s is too large",
                    er_shape_str(ti->dims, ndims, b, sizeof b));
    }
    prod *= d;
  }
  ER_RETURN_IF_ERROR(er_shape_check(ti->dims, ndims, dt, TENSOR_LIMIT));
  size_t numel = (size_t)er_shape_numel(ti->dims, ndims);
  size_t esize = er_dtype_size(dt);
  size_t need = is_4bit(dt) ? (numel + 1) / 2 : numel * esize; /* bytes in the file */

  er_tensor *t = (er_tensor *)er_pool_alloc(c->pool, sizeof *t);
  if (!t) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
  er_tensor_set_shape(t, dt, ndims, ti->dims);
  *out = t;

  if (location == 1) { /* EXTERNAL */
    if (!ext_location) return ER_ERR(ER_INVALID_MODEL, "external data has no 'location'");
    if (!c->base_dir)
      return ER_ERR(ER_INVALID_MODEL,
                    "uses external data file '%s' but no base directory is known",
                    ext_location);
    if (!path_is_safe(ext_location))
      return ER_ERR(ER_INVALID_MODEL,
                    "external data location '%s' must be a relative path inside the model "
                    "directory",
                    ext_location);
    uint64_t off = 0, len = 0;
    if (ext_offset && !parse_u64(ext_offset, &off))
      return ER_ERR(ER_INVALID_MODEL, "external data offset '%s' is not a number", ext_offset);
    if (ext_length && !parse_u64(ext_length, &len))
      return ER_ERR(ER_INVALID_MODEL, "external data length '%s' is not a number", ext_length);
    const uint8_t *fd = NULL;
    size_t fsize = 0;
    ER_RETURN_IF_ERROR(map_external(c, ext_location, &fd, &fsize));
    if (off > fsize)
      return ER_ERR(ER_INVALID_MODEL, "external data offset %llu is past the end of '%s' (%zu bytes)",
                    (unsigned long long)off, ext_location, fsize);
    if (!ext_length) len = fsize - off;
    if (len > fsize - off)
      return ER_ERR(ER_INVALID_MODEL,
                    "external data offset %llu + length %llu is past the end of '%s' (%zu bytes)",
                    (unsigned long long)off, (unsigned long long)len, ext_location, fsize);
    if (len != need) return size_mismatch(ti, "external data", (size_t)len, "bytes", need);
    return take_bytes(c, t, fd + off, numel, esize);
  }
  if (location != 0) return ER_ERR(ER_INVALID_MODEL, "invalid data_location %lld", (long long)location);

  if (has_raw) {
    if (raw_len != need) return size_mismatch(ti, "raw_data", raw_len, "bytes", need);
    return take_bytes(c, t, raw, numel, esize);
  }
  uint32_t want = (uint32_t)typed_field_for(dt);
  for (uint32_t k = F_FLOAT; k <= F_UINT64; k++)
    if (counts[k] && k != want && k != F_NAME && k != F_RAW)
      return ER_ERR(ER_INVALID_MODEL, "%s is not valid for element type %s", field_name(k),
                    er_dtype_name((er_dtype)dt));
  size_t have = counts[want];
  size_t need_n = is_4bit(dt) ? (numel + 1) / 2 : numel;
  if (have != need_n) {
    if (have == 0 && numel > 0) {
      char b[200];
      return ER_ERR(ER_INVALID_MODEL, "has no data (shape %s %s)",
                    er_shape_str(ti->dims, ti->rank, b, sizeof b), er_dtype_name((er_dtype)dt));
    }
    return size_mismatch(ti, field_name(want), have, "values", need_n);
  }
  int elem_wire = want == F_FLOAT ? PB_I32 : want == F_DOUBLE ? PB_I64 : PB_VARINT;
  return fill_typed(c, msg, t, want, elem_wire, numel);
}

er_status onx_parse_tensor(onx_ctx *c, const pb_reader *r, const char *kind, er_tensor **out,
                           const char **out_name) {
  tinfo ti = {0};
  ti.kind = kind;
  ti.name = "";
  *out = NULL;
  er_status s = parse_tensor(c, r, &ti, out);
  if (out_name) *out_name = ti.name;
  return terr(s, &ti);
}

er_status er_onnx_parse_tensor(const void *data, size_t size, er_pool *pool, er_tensor *out,
                               const char **out_name) {
  onx_ctx c;
  memset(&c, 0, sizeof c);
  c.pool = pool;
  er_pool_init(&c.tmp);
  c.copy_data = 1;
  c.what = "tensor";
  er_mapping *none = NULL;
  c.mappings = &none;
  pb_reader r;
  pb_init(&r, data, size);
  er_tensor *t = NULL;
  const char *name = "";
  er_status s = onx_parse_tensor(&c, &r, "tensor", &t, &name);
  er_pool_free(&c.tmp);
  er_mappings_free(none);
  if (s) return s;
  *out = *t;
  if (out_name) *out_name = name ? name : "";
  return NULL;
}
