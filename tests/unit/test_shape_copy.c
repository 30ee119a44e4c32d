/* Pad, Slice and Transpose (their strided-copy and separable-border paths) against direct
 * per-element references on random shapes: every pad mode with pads >= 0, negative (cropping)
 * pads, slices with negative steps and clamped bounds, random permutations; float32 and
 * 1- and 2-byte elements. */
#include <stdlib.h>
#include <string.h>

#include "optest.h"
#include "test.h"

static uint32_t rs = 4242;
static int rnd(int n) {
  rs = rs * 1664525u + 1013904223u;
  return (int)((rs >> 8) % (uint32_t)n);
}

static void unravel(int64_t i, int rank, const int64_t *dims, int64_t *idx) {
  for (int d = rank - 1; d >= 0; d--) {
    idx[d] = i % dims[d];
    i /= dims[d];
  }
}
static int64_t ravel(int rank, const int64_t *dims, const int64_t *idx) {
  int64_t o = 0;
  for (int d = 0; d < rank; d++) o = o * dims[d] + idx[d];
  return o;
}

static er_tensor *rand_x(int dtype, int rank, const int64_t *dims) {
  er_tensor *x = ot_tensor(dtype, rank, dims, NULL);
  size_t nb = er_tensor_nbytes(x);
  for (size_t i = 0; i < nb; i++) ((unsigned char *)x->data)[i] = (unsigned char)rnd(256);
  return x;
}

/* source index along one axis for a pad mode (numpy semantics), -1 for the constant */
static int64_t src_of(int64_t i, int64_t dim, const char *mode) {
  if (i >= 0 && i < dim) return i;
  if (!strcmp(mode, "constant")) return -1;
  if (!strcmp(mode, "edge")) return i < 0 ? 0 : dim - 1;
  if (!strcmp(mode, "wrap")) return ((i % dim) + dim) % dim;
  if (dim == 1) return 0;
  int64_t p = 2 * (dim - 1), m = ((i % p) + p) % p; /* reflect */
  return m < dim ? m : p - m;
}

TEST(pad_modes_match_reference) {
  static const char *const modes[] = {"constant", "reflect", "edge", "wrap"};
  static const int dts[] = {ER_F32, ER_U8, ER_I16};
  int bad = 0;
  for (int it = 0; it < 400; it++) {
    int rank = 1 + rnd(4), dt = dts[rnd(3)];
    const char *mode = modes[rnd(4)];
    int64_t xd[4], pads[8], yd[4];
    for (int d = 0; d < rank; d++) {
      xd[d] = 1 + rnd(5);
      int maxp = strcmp(mode, "reflect") ? 4 : (int)xd[d]; /* reflect: pad < dim */
      pads[d] = rnd(maxp);
      pads[rank + d] = rnd(maxp);
      if (it % 5 == 4 && !strcmp(mode, "constant")) pads[d] = -rnd((int)xd[d]); /* crop */
      yd[d] = xd[d] + pads[d] + pads[rank + d];
    }
    er_tensor *x = rand_x(dt, rank, xd);
    int64_t pd[1] = {2 * rank};
    er_tensor *p = ot_tensor(ER_I64, 1, pd, pads);
    unsigned char cv[8] = {7, 9, 11, 13};
    er_tensor *v = ot_tensor(dt, 0, NULL, cv);
    er_attr at[] = {ot_str("mode", mode)};
    er_tensor *y[1];
    er_status s = ot_run("Pad", 19, at, 1, (er_tensor *[]){x, p, v}, 3, y, 1);
    if (s) {
      fprintf(stderr, "  Pad %s: %s\n", mode, er_status_message(s));
      er_status_free(s);
      bad++;
      ot_free_all();
      continue;
    }
    size_t es = er_dtype_size((er_dtype)dt);
    int64_t n = er_tensor_numel(y[0]), idx[4], sidx[4];
    for (int64_t i = 0; i < n && !bad; i++) {
      unravel(i, rank, yd, idx);
      int fill = 0;
      for (int d = 0; d < rank; d++) {
        sidx[d] = src_of(idx[d] - pads[d], xd[d], mode);
        fill |= sidx[d] < 0;
      }
      const void *want = fill ? (const void *)cv : (const char *)x->data + ravel(rank, xd, sidx) * es;
      if (memcmp((const char *)y[0]->data + i * (int64_t)es, want, es)) {
        fprintf(stderr, "  Pad %s rank %d: element %lld differs\n", mode, rank, (long long)i);
        bad++;
      }
    }
    ot_free_all();
  }
  CHECK(bad == 0);
}

TEST(slice_and_transpose_match_reference) {
  int bad = 0;
  for (int it = 0; it < 400 && !bad; it++) {
    int rank = 1 + rnd(4), dt = it % 3 ? ER_F32 : ER_U8;
    int64_t xd[4], st[4], en[4], ax[4], sp[4], yd[4], start[4], step[4];
    for (int d = 0; d < rank; d++) {
      xd[d] = 1 + rnd(6);
      ax[d] = d;
      sp[d] = rnd(3) ? 1 + rnd(2) : -1 - rnd(2);
      st[d] = rnd(9) - 4, en[d] = rnd(13) - 6;
      /* expected: clamp like ONNX */
      int64_t dim = xd[d], s = st[d] < 0 ? st[d] + dim : st[d], e = en[d] < 0 ? en[d] + dim : en[d];
      if (sp[d] > 0) {
        s = s < 0 ? 0 : s > dim ? dim : s;
        e = e < 0 ? 0 : e > dim ? dim : e;
        yd[d] = e > s ? (e - s + sp[d] - 1) / sp[d] : 0;
      } else {
        s = s < 0 ? 0 : s > dim - 1 ? dim - 1 : s;
        e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
        yd[d] = s > e ? (s - e - sp[d] - 1) / -sp[d] : 0;
      }
      start[d] = s, step[d] = sp[d];
    }
    er_tensor *x = rand_x(dt, rank, xd);
    int64_t rd[1] = {rank};
    er_tensor *in[5] = {x, ot_tensor(ER_I64, 1, rd, st), ot_tensor(ER_I64, 1, rd, en),
                        ot_tensor(ER_I64, 1, rd, ax), ot_tensor(ER_I64, 1, rd, sp)};
    er_tensor *y[1];
    er_status s = ot_run("Slice", 13, NULL, 0, in, 5, y, 1);
    size_t es = er_dtype_size((er_dtype)dt);
    int64_t idx[4], sidx[4];
    if (s) {
      fprintf(stderr, "  Slice: %s\n", er_status_message(s));
      er_status_free(s);
      bad++;
    } else {
      for (int d = 0; d < rank; d++) bad += y[0]->dims[d] != yd[d];
      for (int64_t i = 0; i < er_tensor_numel(y[0]) && !bad; i++) {
        unravel(i, rank, yd, idx);
        for (int d = 0; d < rank; d++) sidx[d] = start[d] + idx[d] * step[d];
        bad += memcmp((const char *)y[0]->data + i * (int64_t)es,
                      (const char *)x->data + ravel(rank, xd, sidx) * es, es) != 0;
      }
      if (bad) {
        fprintf(stderr, "  Slice rank %d differs:", rank);
        for (int d = 0; d < rank; d++)
          fprintf(stderr, " [dim %lld st %lld en %lld sp %lld -> %lld got %lld]", (long long)xd[d], (long long)st[d],
                  (long long)en[d], (long long)sp[d], (long long)yd[d], (long long)y[0]->dims[d]);
        fprintf(stderr, "\n");
      }
    }
    /* Transpose by a random permutation */
    int64_t perm[4];
    for (int d = 0; d < rank; d++) perm[d] = d;
    for (int d = rank - 1; d > 0; d--) {
      int k = rnd(d + 1);
      int64_t t = perm[d];
      perm[d] = perm[k], perm[k] = t;
    }
    er_attr at[] = {ot_ints("perm", rank, perm)};
    s = ot_run("Transpose", 13, at, 1, &x, 1, y, 1);
    if (s) {
      er_status_free(s);
      bad++;
    } else {
      int64_t td[4];
      for (int d = 0; d < rank; d++) td[d] = xd[perm[d]];
      for (int64_t i = 0; i < er_tensor_numel(y[0]) && !bad; i++) {
        unravel(i, rank, td, idx);
        for (int d = 0; d < rank; d++) sidx[perm[d]] = idx[d];
        bad += memcmp((const char *)y[0]->data + i * (int64_t)es,
                      (const char *)x->data + ravel(rank, xd, sidx) * es, es) != 0;
      }
      if (bad) fprintf(stderr, "  Transpose rank %d differs\n", rank);
    }
    ot_free_all();
  }
  CHECK(bad == 0);
}
