/* Helpers shared by the subcommands: binding tensors to a session's inputs (files or seeded
 * random data), number parsing, a monotonic clock and the terminal progress line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/dtype.h"
#include "base/status.h"
#include "cli.h"
#include "io/tensor_io.h"

er_status cli_bind_input_tensor(er_model *m, er_session *s, size_t k, er_tensor *t) {
  er_tensor_info info;
  ER_RETURN_IF_ERROR(er_model_input_info(m, k, &info));
  /* numpy has no bfloat16/float8/int4: accept their bit patterns from .npy files */
  int same_size = er_dtype_size(t->dtype) == er_dtype_size(info.dtype);
  if (same_size && ((info.dtype == ER_BF16 && t->dtype == ER_U16) ||
                    (info.dtype >= ER_F8E4M3FN && info.dtype <= ER_F8E5M2FNUZ && t->dtype == ER_U8) ||
                    (info.dtype == ER_F4E2M1 && t->dtype == ER_U8) ||
                    (info.dtype == ER_I4 && t->dtype == ER_I8) || (info.dtype == ER_U4 && t->dtype == ER_U8)))
    t->dtype = info.dtype;
  return er_session_set_input(s, k, (er_dtype)t->dtype, t->dims, t->rank, t->data, er_tensor_nbytes(t));
}

er_status cli_bind_input_file(er_model *m, er_session *s, size_t k, const char *path, er_pool *pool) {
  er_tensor t;
  ER_RETURN_IF_ERROR(er_tensor_file_read(path, pool, &t));
  return cli_bind_input_tensor(m, s, k, &t);
}

/* Deterministic xorshift for random inputs. */
static uint64_t rng_next(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

er_status cli_random_tensor(const er_tensor_info *info, uint64_t *seed, er_pool *pool, er_tensor *out) {
  memset(out, 0, sizeof *out);
  int rank = info->rank < 0 ? 0 : info->rank;
  int64_t dims[ER_MAX_RANK];
  for (int d = 0; d < rank; d++) dims[d] = info->dims[d] < 0 ? 1 : info->dims[d];
  er_tensor_set_shape(out, info->dtype, rank, dims);
  size_t nb = er_tensor_nbytes(out), es = er_dtype_size(info->dtype);
  if (!es)
    return ER_ERR(ER_UNSUPPORTED, "input '%s' has type %s: give it as a file", info->name,
                  er_dtype_name(info->dtype));
  void *buf = er_pool_alloc(pool, nb ? nb : 1);
  if (!buf) return ER_ERR(ER_OUT_OF_MEMORY, "out of memory for input '%s'", info->name);
  int64_t n = er_tensor_numel(out);
  for (int64_t i = 0; i < n; i++) {
    if (er_dtype_is_float(info->dtype)) {
      double v = (double)(rng_next(seed) >> 11) / 9007199254740992.0 * 2.0 - 1.0;
      er_store_f64(buf, info->dtype, (size_t)i, v);
    } else {
      er_store_i64(buf, info->dtype, (size_t)i, 1);
    }
  }
  out->data = buf;
  return NULL;
}

int cli_parse_int(const char *s, int lo, int hi, int *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (*s == 0 || *end || v < lo || v > hi) return 0;
  *out = (int)v;
  return 1;
}

int cli_parse_double(const char *s, double lo, double hi, double *out) {
  char *end;
  double v = strtod(s, &end);
  if (*s == 0 || *end || !(v >= lo && v <= hi)) return 0;
  *out = v;
  return 1;
}

uint64_t cli_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void cli_progress(const char *what, int done, int total) {
  static int tty = -1;
  if (tty < 0) tty = isatty(2);
  if (!tty) return;
  if (done >= total) {
    fprintf(stderr, "\r\033[K");
    return;
  }
  int width = 30, fill = total > 0 ? (int)((long long)width * done / total) : 0;
  fprintf(stderr, "\r%s [", what);
  for (int i = 0; i < width; i++) fputc(i < fill ? '#' : '.', stderr);
  fprintf(stderr, "] %d/%d", done, total);
  fflush(stderr);
}

void cli_json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
    else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
    else fputc(*p, f);
  }
  fputc('"', f);
}

er_status cli_check_written(const char *path) {
  er_model *m = NULL;
  er_session *s = NULL;
  er_status st = er_model_load_file(path, &m);
  er_session_options o = {0};
  o.threads = 1;
  if (!st) st = er_session_create(m, &o, &s);
  er_session_destroy(s);
  er_model_destroy(m);
  if (st) {
    unlink(path);
    st = er_status_prefix(st, "internal error: the written model does not load (removed)");
  }
  return st;
}
