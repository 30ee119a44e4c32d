/* Public API over shared models: packed constants' pages dropped after planning and
 * restored before anything reads them again (src/api/api.c, er_exec_set_release).
 * Model: tests/data/exec/packed_weights.onnx (tests/data/exec/make.py), loaded from a buffer
 * offset by one byte so that every tensor is unaligned and copied at import. */
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "edgerun.h"
#include "test.h"

static void *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = (char *)malloc((size_t)n + 1);
  if (buf && fread(buf + 1, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *size = (size_t)n;
  return buf;
}

static int count_copies(const er_model *m, int *dropped) {
  int n = 0;
  *dropped = 0;
  for (const er_copied *c = er_model_ir(m)->copies; c; c = c->next) {
    n++;
    *dropped += c->dropped;
  }
  return n;
}

/* Run with batch n (sample b filled with a pattern depending on b only); copy the output. */
static er_status run_batch(er_session *s, int n, float *out, size_t cap) {
  float *x = (float *)malloc(sizeof(float) * 64 * 36 * (size_t)n);
  if (!x) return ER_ERR(ER_OUT_OF_MEMORY, "test");
  for (int b = 0; b < n; b++)
    for (int k = 0; k < 64 * 36; k++) x[b * 64 * 36 + k] = 0.5f * sinf(0.01f * (float)k * (float)(b + 1));
  int64_t dims[4] = {n, 64, 6, 6};
  er_status st = er_session_set_input(s, 0, ER_F32, dims, 4, x, sizeof(float) * 64 * 36 * (size_t)n);
  free(x);
  if (!st) st = er_session_run(s);
  er_tensor_view v;
  if (!st) st = er_session_get_output(s, 0, &v);
  if (!st && v.nbytes <= cap * sizeof(float)) memcpy(out, v.data, v.nbytes);
  return st;
}

TEST(api_packed_constants_dropped_and_restored) {
  size_t size = 0;
  char *buf = (char *)read_file("tests/data/exec/packed_weights.onnx", &size);
  CHECK(buf != NULL);
  if (!buf) return;
  er_model *m = NULL;
  CHECK_OK(er_model_load_buffer(buf + 1, size, NULL, &m));
  if (!m) {
    free(buf);
    return;
  }
  int dropped;
  CHECK(count_copies(m, &dropped) >= 3 && dropped == 0); /* W1, W2, W3 are >= 64 KiB */
  er_session_options o = {0};
  o.threads = 1;
  er_session *s1 = NULL, *s2 = NULL;
  CHECK_OK(er_session_create(m, &o, &s1));
  float o1[3 * 256], o1b[3 * 256], o2[3 * 256], o3[3 * 256];
  CHECK_OK(run_batch(s1, 2, o1, 3 * 256));
  count_copies(m, &dropped);
  CHECK(dropped >= 2); /* both convs pack their weights on any table */
  CHECK_OK(run_batch(s1, 2, o1b, 3 * 256)); /* same plan: nothing read again */
  CHECK(!memcmp(o1, o1b, sizeof(float) * 2 * 256));
  /* a second session restores the copies first and computes the same */
  CHECK_OK(er_session_create(m, &o, &s2));
  count_copies(m, &dropped);
  CHECK(dropped == 0);
  CHECK_OK(run_batch(s2, 2, o2, 3 * 256));
  CHECK(!memcmp(o1, o2, sizeof(float) * 2 * 256));
  count_copies(m, &dropped);
  CHECK(dropped == 0); /* two sessions: copies stay */
  er_session_destroy(s2);
  /* a new shape plans again: restored before the kernels read the weights */
  CHECK_OK(run_batch(s1, 3, o3, 3 * 256));
  CHECK(!memcmp(o1, o3, sizeof(float) * 2 * 256));
  count_copies(m, &dropped);
  CHECK(dropped >= 2);
  double sum = 0;
  for (int k = 0; k < 256; k++) sum += fabs(o3[2 * 256 + k]);
  CHECK(sum > 0); /* the third sample's output is real, not zeros */
  er_session_destroy(s1);
  er_model_destroy(m);
  free(buf);
}
