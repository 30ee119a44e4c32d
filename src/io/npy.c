#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import/onnx/onnx.h"
#include "io/tensor_io.h"

static const struct {
  const char *descr;
  int dtype;
} npy_types[] = {
    {"f4", ER_F32}, {"f8", ER_F64}, {"f2", ER_F16}, {"i1", ER_I8}, {"u1", ER_U8},
    {"i2", ER_I16}, {"u2", ER_U16}, {"i4", ER_I32}, {"u4", ER_U32}, {"i8", ER_I64},
    {"u8", ER_U64}, {"b1", ER_BOOL},
};

/* Find `'key':` in the header dict and return a pointer just after the colon. */
static const char *find_key(const char *h, size_t n, const char *key) {
  size_t k = strlen(key);
  for (size_t i = 0; i + k + 2 < n; i++) {
    if ((h[i] == '\'' || h[i] == '"') && memcmp(h + i + 1, key, k) == 0 && h[i + 1 + k] == h[i]) {
      const char *p = h + i + k + 2;
      while (p < h + n && (*p == ' ')) p++;
      if (p < h + n && *p == ':') return p + 1;
      return NULL;
    }
  }
  return NULL;
}

static const char *skip_ws(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t')) p++;
  return p;
}

er_status er_npy_parse(const void *data, size_t size, er_pool *pool, er_tensor *out) {
  const unsigned char *b = (const unsigned char *)data;
  if (size < 10 || memcmp(b, "\x93NUMPY", 6) != 0) return ER_ERR(ER_INVALID_ARGUMENT, "not an .npy file (bad magic)");
  int major = b[6];
  size_t hlen, hoff;
  if (major == 1) {
    hlen = (size_t)b[8] | ((size_t)b[9] << 8);
    hoff = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) return ER_ERR(ER_INVALID_ARGUMENT, ".npy header truncated");
    hlen = (size_t)b[8] | ((size_t)b[9] << 8) | ((size_t)b[10] << 16) | ((size_t)b[11] << 24);
    hoff = 12;
  } else {
    return ER_ERR(ER_UNSUPPORTED, ".npy version %d is not supported", major);
  }
  if (hlen > size - hoff) return ER_ERR(ER_INVALID_ARGUMENT, ".npy header length %zu exceeds the file", hlen);
  const char *h = (const char *)b + hoff, *hend = h + hlen;
  /* descr */
  const char *p = find_key(h, hlen, "descr");
  if (!p) return ER_ERR(ER_INVALID_ARGUMENT, ".npy header has no 'descr'");
  p = skip_ws(p, hend);
  if (p >= hend || (*p != '\'' && *p != '"')) return ER_ERR(ER_INVALID_ARGUMENT, ".npy 'descr' is not a string");
  char q = *p++;
  const char *ds = p;
  while (p < hend && *p != q) p++;
  if (p >= hend) return ER_ERR(ER_INVALID_ARGUMENT, ".npy 'descr' is unterminated");
  size_t dl = (size_t)(p - ds);
  if (dl < 2 || dl > 3) return ER_ERR(ER_UNSUPPORTED, ".npy dtype '%.*s' is not supported", (int)dl, ds);
  char order = dl == 3 ? ds[0] : '|';
  const char *code = dl == 3 ? ds + 1 : ds;
  if (order == '>' && !(code[1] == '1'))
    return ER_ERR(ER_UNSUPPORTED, ".npy big-endian data ('%.*s') is not supported", (int)dl, ds);
  int dtype = 0;
  for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
    if (memcmp(npy_types[i].descr, code, 2) == 0) dtype = npy_types[i].dtype;
  if (!dtype) return ER_ERR(ER_UNSUPPORTED, ".npy dtype '%.*s' is not supported", (int)dl, ds);
  /* fortran_order */
  p = find_key(h, hlen, "fortran_order");
  if (!p) return ER_ERR(ER_INVALID_ARGUMENT, ".npy header has no 'fortran_order'");
  p = skip_ws(p, hend);
  if (hend - p >= 4 && memcmp(p, "True", 4) == 0)
    return ER_ERR(ER_UNSUPPORTED, ".npy Fortran-order arrays are not supported");
  /* shape */
  p = find_key(h, hlen, "shape");
  if (!p) return ER_ERR(ER_INVALID_ARGUMENT, ".npy header has no 'shape'");
  p = skip_ws(p, hend);
  if (p >= hend || *p != '(') return ER_ERR(ER_INVALID_ARGUMENT, ".npy 'shape' is not a tuple");
  p++;
  int64_t dims[ER_MAX_RANK];
  int rank = 0;
  for (;;) {
    p = skip_ws(p, hend);
    if (p >= hend) return ER_ERR(ER_INVALID_ARGUMENT, ".npy 'shape' is unterminated");
    if (*p == ')') break;
    if (*p < '0' || *p > '9') return ER_ERR(ER_INVALID_ARGUMENT, ".npy 'shape' has a bad character");
    int64_t v = 0;
    while (p < hend && *p >= '0' && *p <= '9') {
      if (v > (INT64_MAX - 9) / 10) return ER_ERR(ER_INVALID_ARGUMENT, ".npy dimension is too large");
      v = v * 10 + (*p++ - '0');
    }
    if (rank == ER_MAX_RANK) return ER_ERR(ER_UNSUPPORTED, ".npy rank exceeds %d", ER_MAX_RANK);
    dims[rank++] = v;
    p = skip_ws(p, hend);
    if (p < hend && *p == ',') p++;
  }
  ER_RETURN_IF_ERROR(er_shape_check(dims, rank, dtype, (uint64_t)size));
  er_tensor_set_shape(out, dtype, rank, dims);
  size_t nb = er_tensor_nbytes(out);
  size_t off = hoff + hlen;
  if (size - off < nb)
    return ER_ERR(ER_INVALID_ARGUMENT, ".npy data is truncated: %zu bytes present, %zu needed",
                  size - off, nb);
  out->data = er_pool_alloc(pool, nb ? nb : 1);
  if (!out->data) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory");
  memcpy(out->data, b + off, nb);
  return NULL;
}

static const char *npy_descr(int dtype) {
  switch (dtype) {
    case ER_F32: return "<f4";
    case ER_F64: return "<f8";
    case ER_F16: return "<f2";
    case ER_BF16: case ER_U16: return "<u2";
    case ER_I8: case ER_I4: return "|i1";
    case ER_U8: case ER_U4: case ER_F8E4M3FN: case ER_F8E4M3FNUZ: case ER_F8E5M2:
    case ER_F8E5M2FNUZ: case ER_F4E2M1: return "|u1";
    case ER_I16: return "<i2";
    case ER_I32: return "<i4";
    case ER_U32: return "<u4";
    case ER_I64: return "<i8";
    case ER_U64: return "<u8";
    case ER_BOOL: return "|b1";
    default: return NULL;
  }
}

er_status er_npy_write(const char *path, const er_tensor *t) {
  const char *descr = npy_descr(t->dtype);
  if (!descr) return ER_ERR(ER_UNSUPPORTED, "%s: cannot write %s tensors as .npy", path, er_dtype_name((er_dtype)t->dtype));
  char hdr[512];
  int n = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
  for (int i = 0; i < t->rank; i++)
    n += snprintf(hdr + n, sizeof hdr - (size_t)n, "%lld,%s", (long long)t->dims[i],
                  (i + 1 < t->rank) ? " " : "");
  if (t->rank > 1) n--; /* numpy writes (2, 3) without trailing comma for rank > 1 */
  n += snprintf(hdr + n, sizeof hdr - (size_t)n, "), }");
  size_t total = 10 + (size_t)n + 1;
  size_t pad = (64 - total % 64) % 64;
  FILE *f = fopen(path, "wb");
  if (!f) return ER_ERR(ER_IO, "%s: cannot open for writing: %s", path, strerror(errno));
  unsigned short hl = (unsigned short)((size_t)n + pad + 1);
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hl & 0xff), (unsigned char)(hl >> 8)};
  int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(hdr, 1, (size_t)n, f) == (size_t)n;
  for (size_t i = 0; ok && i < pad; i++) ok = fputc(' ', f) != EOF;
  ok = ok && fputc('\n', f) != EOF;
  size_t nb = er_tensor_nbytes(t);
  if (ok && nb) ok = fwrite(t->data, 1, nb, f) == nb;
  if (fclose(f) != 0) ok = 0;
  if (!ok) return ER_ERR(ER_IO, "%s: write failed", path);
  return NULL;
}

er_status er_tensor_file_read(const char *path, er_pool *pool, er_tensor *out) {
  er_mapping *maps = NULL;
  const void *data;
  size_t size;
  er_status s = er_map_file(path, &maps, &data, &size);
  if (s) return er_status_prefix(s, "%s", path);
  if (size >= 6 && memcmp(data, "\x93NUMPY", 6) == 0) {
    s = er_npy_parse(data, size, pool, out);
  } else {
    const char *name;
    s = er_onnx_parse_tensor(data, size, pool, out, &name);
  }
  er_mappings_free(maps);
  if (s) return er_status_prefix(s, "%s", path);
  return NULL;
}
