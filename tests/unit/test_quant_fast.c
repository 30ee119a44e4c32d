/* Fast paths of the integer ops (packed weights, q8 micro-kernels, threads) vs their
 * reference loops (ot_run: no micro-kernel table, so the reference path runs): bit-exact on
 * many geometries, types and zero points; 1 and 2 threads identical. */
#include <stdlib.h>
#include <string.h>

#include "base/threads.h"
#include "kernels/q8.h"
#include "kernels/qops.h"
#include "optest.h"
#include "test.h"

static uint32_t qf_rng = 99;
static uint32_t qf_next(void) {
  qf_rng = qf_rng * 1664525u + 1013904223u;
  return qf_rng >> 8;
}
static void qf_fill(er_tensor *t, int extremes) {
  unsigned char *b = (unsigned char *)t->data;
  int64_t n = er_tensor_numel(t);
  for (int64_t i = 0; i < n; i++) {
    uint32_t r = qf_next();
    b[i] = (unsigned char)(extremes ? (r & 1 ? (t->dtype == ER_I8 ? 127 : 255) : (t->dtype == ER_I8 ? 128 : 0)) : r);
  }
}
static int32_t qf_ld(const void *p, int t, size_t i) {
  return t == ER_I8 ? ((const int8_t *)p)[i] : ((const uint8_t *)p)[i];
}
static er_tensor *qf_scalar(int dtype, double v) {
  er_tensor *t = ot_tensor(dtype, 0, NULL, NULL);
  if (dtype == ER_F32) *(float *)t->data = (float)v;
  else if (dtype == ER_U8) *(uint8_t *)t->data = (uint8_t)v;
  else *(int8_t *)t->data = (int8_t)v;
  return t;
}
static int32_t qf_zp(int dtype, int kind) {
  int s = dtype == ER_I8;
  switch (kind % 4) {
    case 0: return 0;
    case 1: return s ? -128 : 128;
    case 2: return s ? 13 : 77;
    default: return s ? (int32_t)(qf_next() % 256) - 128 : (int32_t)(qf_next() % 256);
  }
}

typedef struct qconv_case {
  int64_t N, C, M, group, nsp, in[2], k[2], s[2], d[2], pb[2], pe[2];
  int xt, wt, yt, per_ch, bias, act, integer; /* integer: ConvInteger */
  int zk;
} qconv_case;

/* The op as a session runs it (infer, prepare, run) with the best micro-kernel table and 1 or
 * (pool != NULL) 2 threads; y gets a malloc'ed copy of the output. */
static er_status qf_run_mk(const char *domain, const char *op_type, int opset, const er_attr *at, int nat,
                           er_tensor **in, int nin, er_tensor *y, er_threadpool *pool, int *unused) {
  (void)unused;
  er_tensor *out[1];
  ot_set_microkernels(er_microkernels_select());
  ot_set_threads(pool ? 2 : 1);
  er_status s = ot_run_domain(domain, op_type, opset, at, nat, in, nin, out, 1);
  ot_set_microkernels(NULL);
  ot_set_threads(1);
  if (s) return s;
  *y = *out[0];
  y->data = malloc(er_tensor_nbytes(out[0]) + 1);
  memcpy(y->data, out[0]->data, er_tensor_nbytes(out[0]));
  return NULL;
}

/* NCHW <-> NHWC of a u8/i8/i32 tensor with 1 or 2 spatial dims */
static void qf_transpose(const er_tensor *a, er_tensor *b, int to_last) {
  int r = a->rank;
  int64_t N = a->dims[0], C = to_last ? a->dims[1] : a->dims[r - 1];
  int64_t S = er_tensor_numel(a) / (N * C);
  size_t e = er_dtype_size(a->dtype);
  for (int64_t n = 0; n < N; n++)
    for (int64_t c = 0; c < C; c++)
      for (int64_t s = 0; s < S; s++) {
        int64_t ifirst = (n * C + c) * S + s, ilast = (n * S + s) * C + c;
        memcpy((char *)b->data + (to_last ? ilast : ifirst) * e, (const char *)a->data + (to_last ? ifirst : ilast) * e, e);
      }
}

/* 0 ok, 1 mismatch, 2 error */
static int qf_conv_case(const qconv_case *q, er_threadpool *pool) {
  int nsp = (int)q->nsp;
  int64_t xd[4] = {q->N, q->C}, wd[4] = {q->M, q->C / q->group}, md[1] = {q->M};
  int64_t pads[4];
  for (int i = 0; i < nsp; i++) {
    xd[2 + i] = q->in[i], wd[2 + i] = q->k[i];
    pads[i] = q->pb[i], pads[nsp + i] = q->pe[i];
  }
  er_tensor *X = ot_tensor(q->xt, 2 + nsp, xd, NULL), *W = ot_tensor(q->wt, 2 + nsp, wd, NULL);
  int ext = q->zk == 5;
  qf_fill(X, ext), qf_fill(W, ext);
  er_tensor *ws = q->per_ch ? ot_tensor(ER_F32, 1, md, NULL) : qf_scalar(ER_F32, 0.0021);
  er_tensor *wz = q->per_ch ? ot_tensor(q->wt, 1, md, NULL) : qf_scalar(q->wt, qf_zp(q->wt, q->zk + 1));
  er_tensor *B = ot_tensor(ER_I32, 1, md, NULL);
  for (int64_t m = 0; m < q->M; m++) {
    if (q->per_ch) {
      ((float *)ws->data)[m] = (float)(qf_next() % 1000 + 1) * 7e-6f;
      int32_t z = qf_zp(q->wt, q->zk == 3 ? 3 : q->zk == 0 ? 0 : 2);
      if (q->wt == ER_U8) ((uint8_t *)wz->data)[m] = (uint8_t)z;
      else ((int8_t *)wz->data)[m] = (int8_t)z;
    }
    ((int32_t *)B->data)[m] = (int32_t)(qf_next() % 40001) - 20000;
  }
  er_tensor *xs = qf_scalar(ER_F32, 0.0173), *xz = qf_scalar(q->xt, qf_zp(q->xt, q->zk));
  er_tensor *ys = qf_scalar(ER_F32, ext ? 3.0 : 0.0411), *yz = qf_scalar(q->yt, q->yt == ER_U8 ? 117 : -9);
  er_attr at[8];
  int nat = 0;
  at[nat++] = ot_int("group", q->group);
  at[nat++] = ot_ints("strides", nsp, q->s);
  at[nat++] = ot_ints("dilations", nsp, q->d);
  at[nat++] = ot_ints("pads", 2 * nsp, pads);
  if (q->act == 1) at[nat++] = ot_int("_act", 1);
  if (q->act == 2) {
    at[nat++] = ot_int("_act", 2);
    at[nat++] = ot_float("_act_a", 0.0f);
    at[nat++] = ot_float("_act_b", 2.5f);
  }
  er_tensor *ref[1];
  er_status s;
  er_tensor *in9[] = {X, xs, xz, W, ws, wz, ys, yz, q->bias ? B : NULL};
  er_tensor *in4[] = {X, W, xz, wz};
  if (q->integer)
    s = ot_run("ConvInteger", 10, at, 4, in4, 4, ref, 1);
  else
    s = ot_run("QLinearConv", 10, at, nat, in9, 9, ref, 1);
  if (s) {
    fprintf(stderr, "  reference failed: %s\n", er_status_message(s));
    er_status_free(s);
    return 2;
  }
  int rc = 0;
  for (int t = 0; t < 2 && !rc; t++) {
    er_tensor y = {0};
    s = q->integer ? qf_run_mk("", "ConvInteger", 10, at, 4, in4, 4, &y, t ? pool : NULL, NULL)
                   : qf_run_mk("", "QLinearConv", 10, at, nat, in9, 9, &y, t ? pool : NULL, NULL);
    if (s) {
      fprintf(stderr, "  fast failed: %s\n", er_status_message(s));
      er_status_free(s);
      return 2;
    }
    if (er_tensor_nbytes(&y) != er_tensor_nbytes(ref[0]) || memcmp(y.data, ref[0]->data, er_tensor_nbytes(&y))) rc = 1;
    free(y.data);
  }
  /* channels-last op on transposed data, against the channels-first reference */
  if (!rc && !q->integer) {
    int64_t xl[4] = {q->N};
    for (int i = 0; i < nsp; i++) xl[1 + i] = q->in[i];
    xl[1 + nsp] = q->C;
    er_tensor *XL = ot_tensor(q->xt, 2 + nsp, xl, NULL);
    qf_transpose(X, XL, 1);
    er_tensor *inl[] = {XL, xs, xz, W, ws, wz, ys, yz, q->bias ? B : NULL};
    er_tensor *refl = ot_tensor(ref[0]->dtype, 0, NULL, NULL); /* placeholder, reshaped below */
    int64_t yl[4] = {q->N};
    for (int i = 0; i < nsp; i++) yl[1 + i] = ref[0]->dims[2 + i];
    yl[1 + nsp] = q->M;
    refl = ot_tensor(ref[0]->dtype, 2 + nsp, yl, NULL);
    qf_transpose(ref[0], refl, 1);
    for (int t = 0; t < 2 && !rc; t++) {
      er_tensor y = {0};
      s = qf_run_mk(ER_DOMAIN_EDGERUN, ER_OP_NHWC_QLINEARCONV, 1, at, nat, inl, 9, &y, t ? pool : NULL, NULL);
      if (s) {
        fprintf(stderr, "  NHWC failed: %s\n", er_status_message(s));
        er_status_free(s);
        return 2;
      }
      if (er_tensor_nbytes(&y) != er_tensor_nbytes(refl) || memcmp(y.data, refl->data, er_tensor_nbytes(&y))) rc = 3;
      free(y.data);
    }
    /* and its own reference loops */
    er_tensor *r2[1];
    s = ot_run_domain(ER_DOMAIN_EDGERUN, ER_OP_NHWC_QLINEARCONV, 1, at, nat, inl, 9, r2, 1);
    if (s) {
      er_status_free(s);
      return 2;
    }
    if (memcmp(r2[0]->data, refl->data, er_tensor_nbytes(refl))) rc = 4;
  }
  return rc;
}

TEST(qlinearconv_fast_vs_ref) {
  er_threadpool *pool = NULL;
  CHECK_OK(er_threadpool_create(2, &pool));
  static const int64_t sizes[][2] = {{1, 1}, {1, 7}, {5, 5}, {7, 9}, {14, 14}, {17, 3}, {23, 30}, {70, 40}};
  static const int64_t chans[][3] = {{1, 1, 1}, {3, 8, 1}, {8, 8, 8}, {16, 32, 1}, {6, 9, 3}, {12, 12, 12},
                                      {5, 10, 5}, {19, 33, 1}, {64, 24, 1}, {32, 32, 32}, {24, 48, 24},
                                      {40, 40, 40}, {72, 72, 72}};
  int bad = 0, cases = 0, v = 0;
  for (size_t ci = 0; ci < sizeof chans / sizeof chans[0]; ci++)
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
      for (int kk = 0; kk < 4; kk++, v++) {
        qconv_case q;
        memset(&q, 0, sizeof q);
        q.N = v % 5 == 3 ? 2 : 1;
        q.C = chans[ci][0], q.M = chans[ci][1], q.group = chans[ci][2];
        q.nsp = v % 6 == 5 ? 1 : 2;
        int64_t k = kk == 0 ? 1 : kk == 1 ? 3 : kk == 2 ? 5 : 2;
        for (int i = 0; i < 2; i++) {
          q.in[i] = sizes[si][q.nsp == 1 ? 1 : i];
          q.k[i] = k;
          q.s[i] = v % 3 == 2 ? 2 : v % 7 == 6 ? 3 : 1;
          q.d[i] = v % 11 == 10 ? 2 : 1;
          q.pb[i] = v % 4 ? k / 2 : 0;
          q.pe[i] = q.pb[i] + (v % 5 == 1);
        }
        if (q.nsp == 2 && v % 9 == 4) q.k[1] = 1, q.pb[1] = q.pe[1] = 0; /* non-square */
        int64_t ok = 1;
        for (int i = 0; i < q.nsp; i++) ok &= q.in[i] + q.pb[i] + q.pe[i] >= (q.k[i] - 1) * q.d[i] + 1;
        if (!ok) continue;
        q.xt = v % 2 ? ER_I8 : ER_U8;
        q.wt = (v / 2) % 3 == 2 ? ER_U8 : ER_I8;
        q.yt = (v / 3) % 2 ? ER_I8 : ER_U8;
        q.per_ch = v % 3 != 1;
        q.bias = v % 4 != 2;
        q.act = v % 5 == 0 ? 1 : v % 5 == 3 ? 2 : 0;
        q.integer = v % 8 == 7;
        q.zk = v % 13 == 12 ? 5 : v % 4;
        int rc = qf_conv_case(&q, pool);
        if (rc) {
          if (bad++ < 6)
            fprintf(stderr,
                    "  conv rc=%d N=%lld C=%lld M=%lld g=%lld nsp=%lld in=%lldx%lld k=%lldx%lld s=%lld d=%lld p=%lld,%lld "
                    "xt=%d wt=%d int=%d\n",
                    rc, (long long)q.N, (long long)q.C, (long long)q.M, (long long)q.group, (long long)q.nsp,
                    (long long)q.in[0], (long long)q.in[1], (long long)q.k[0], (long long)q.k[1], (long long)q.s[0],
                    (long long)q.d[0], (long long)q.pb[0], (long long)q.pe[0], q.xt, q.wt, q.integer);
        }
        cases++;
        ot_free_all();
      }
  /* few input channels and wide, non-square kernels (the padded-copy im2col of the
   * channels-last path): the DS-CNN's first conv (1 channel, 10x4 stride 2), dilation,
   * asymmetric pads, tiles that start inside an output row (the 70x40 plane) */
  static const int64_t odd[][12] = {
      /* C, M, inH, inW, kH, kW, sH, sW, dH, dW, pad begin (H, W) */
      {1, 64, 49, 10, 10, 4, 2, 2, 1, 1, 5, 1}, {2, 17, 31, 13, 4, 3, 2, 1, 1, 2, 2, 0},
      {3, 24, 70, 40, 3, 3, 2, 2, 1, 1, 1, 1},  {1, 8, 70, 40, 5, 2, 1, 3, 2, 1, 4, 1},
      {7, 5, 9, 11, 2, 9, 1, 1, 1, 1, 0, 4},    {4, 33, 6, 5, 7, 7, 3, 2, 1, 1, 3, 3}};
  for (size_t oi = 0; oi < sizeof odd / sizeof odd[0]; oi++, v++) {
    qconv_case q;
    memset(&q, 0, sizeof q);
    const int64_t *o = odd[oi];
    q.N = oi % 2 ? 2 : 1, q.C = o[0], q.M = o[1], q.group = 1, q.nsp = 2;
    for (int i = 0; i < 2; i++) {
      q.in[i] = o[2 + i], q.k[i] = o[4 + i], q.s[i] = o[6 + i], q.d[i] = o[8 + i];
      q.pb[i] = o[10 + i], q.pe[i] = o[10 + i] + (int64_t)(oi % 3 == 1);
    }
    q.xt = oi % 2 ? ER_I8 : ER_U8, q.wt = ER_I8, q.yt = ER_U8;
    q.per_ch = 1, q.bias = 1, q.act = oi % 3 == 0, q.zk = (int)(oi % 4);
    int rc = qf_conv_case(&q, pool);
    if (rc && bad++ < 6) fprintf(stderr, "  odd conv %zu rc=%d\n", oi, rc);
    cases++;
    ot_free_all();
  }
  CHECK(bad == 0);
  CHECK(cases > 250);
  er_threadpool_destroy(pool);
}

/* QLinearMatMul, MatMulInteger and QGemm: fast (packed B, threads) vs reference loops */
TEST(qmatmul_fast_vs_ref) {
  er_threadpool *pool = NULL;
  CHECK_OK(er_threadpool_create(2, &pool));
  static const int64_t shapes[][4] = {/* batch, M, K, N */
                                      {1, 1, 1, 1},   {1, 1, 7, 3},     {1, 5, 16, 16},  {2, 3, 17, 33},
                                      {1, 97, 64, 24}, {3, 40, 255, 17}, {1, 1, 1280, 100}, {1, 200, 96, 160},
                                      {1, 6, 3, 300}};
  int bad = 0, cases = 0, v = 0;
  for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
    for (int var = 0; var < 8; var++, v++) {
      int64_t Bt = shapes[si][0], M = shapes[si][1], K = shapes[si][2], N = shapes[si][3];
      int at = var % 2 ? ER_I8 : ER_U8, bt = (var / 2) % 2 ? ER_U8 : ER_I8, yt = var % 3 ? ER_U8 : ER_I8;
      int per = var % 4 >= 2, ext = var == 7;
      int64_t ad[3] = {Bt, M, K}, bd[2] = {K, N}, nd[1] = {N};
      er_tensor *A = ot_tensor(at, 3, ad, NULL), *B = ot_tensor(bt, 2, bd, NULL);
      qf_fill(A, ext), qf_fill(B, ext);
      er_tensor *as = qf_scalar(ER_F32, 0.0123), *az = qf_scalar(at, qf_zp(at, var));
      er_tensor *bs = per ? ot_tensor(ER_F32, 1, nd, NULL) : qf_scalar(ER_F32, 0.0031);
      er_tensor *bz = per ? ot_tensor(bt, 1, nd, NULL) : qf_scalar(bt, qf_zp(bt, var + 1));
      er_tensor *bias = ot_tensor(ER_I32, 1, nd, NULL);
      for (int64_t n = 0; n < N; n++) {
        if (per) {
          ((float *)bs->data)[n] = (float)(qf_next() % 999 + 1) * 1e-5f;
          int32_t z = qf_zp(bt, 3);
          if (bt == ER_U8) ((uint8_t *)bz->data)[n] = (uint8_t)z;
          else ((int8_t *)bz->data)[n] = (int8_t)z;
        }
        ((int32_t *)bias->data)[n] = (int32_t)(qf_next() % 100001) - 50000;
      }
      er_tensor *ys = qf_scalar(ER_F32, ext ? 2.0 : 0.05), *yz = qf_scalar(yt, yt == ER_U8 ? 128 : 3);
      for (int op = 0; op < 3; op++) {
        er_tensor *ref[1], y = {0};
        er_status s;
        er_attr at_relu[] = {ot_int("_act", var % 3 == 1 ? 1 : 0)};
        if (op == 0) {
          er_tensor *in[] = {A, as, az, B, bs, bz, ys, yz};
          s = ot_run("QLinearMatMul", 10, NULL, 0, in, 8, ref, 1);
          for (int t = 0; t < 2 && !s; t++) {
            s = qf_run_mk("", "QLinearMatMul", 10, NULL, 0, in, 8, &y, t ? pool : NULL, NULL);
            if (!s && memcmp(y.data, ref[0]->data, er_tensor_nbytes(ref[0]))) bad++;
            free(y.data);
          }
        } else if (op == 1) {
          er_tensor *in[] = {A, B, az, bz};
          s = ot_run("MatMulInteger", 10, NULL, 0, in, 4, ref, 1);
          for (int t = 0; t < 2 && !s; t++) {
            s = qf_run_mk("", "MatMulInteger", 10, NULL, 0, in, 4, &y, t ? pool : NULL, NULL);
            if (!s && memcmp(y.data, ref[0]->data, er_tensor_nbytes(ref[0]))) bad++;
            free(y.data);
          }
        } else {
          er_tensor *in[] = {A, as, az, B, bs, bz, var % 2 ? bias : NULL, ys, yz};
          s = ot_run_domain(ER_DOMAIN_EDGERUN, ER_OP_QGEMM, 1, at_relu, 1, in, 9, ref, 1);
          for (int t = 0; t < 2 && !s; t++) {
            s = qf_run_mk(ER_DOMAIN_EDGERUN, ER_OP_QGEMM, 1, at_relu, 1, in, 9, &y, t ? pool : NULL, NULL);
            if (!s && memcmp(y.data, ref[0]->data, er_tensor_nbytes(ref[0]))) bad++;
            free(y.data);
          }
          /* QGemm without bias and act equals QLinearMatMul */
          if (!s && var % 2 == 0 && var % 3 != 1) {
            er_tensor *r2[1];
            er_tensor *in2[] = {A, as, az, B, bs, bz, ys, yz};
            s = ot_run("QLinearMatMul", 10, NULL, 0, in2, 8, r2, 1);
            if (!s && memcmp(r2[0]->data, ref[0]->data, er_tensor_nbytes(ref[0]))) bad++;
          }
        }
        if (s) {
          fprintf(stderr, "  op %d failed: %s\n", op, er_status_message(s));
          er_status_free(s);
          bad++;
        }
        cases++;
      }
      ot_free_all();
    }
  CHECK(bad == 0);
  CHECK(cases >= 200);
  er_threadpool_destroy(pool);
}

/* QLinearAdd / QLinearGlobalAveragePool: fast vs reference, broadcasting, channels_last,
 * and values from the formulas */
TEST(qlinear_add_gap) {
  int64_t d[4] = {2, 3, 5, 7}, d1[4] = {1, 3, 1, 1};
  int bad = 0;
  for (int v = 0; v < 6; v++) {
    int t = v % 2 ? ER_I8 : ER_U8;
    er_tensor *A = ot_tensor(t, 4, d, NULL), *B = ot_tensor(t, 4, v >= 4 ? d1 : d, NULL);
    qf_fill(A, 0), qf_fill(B, v == 2);
    er_tensor *as = qf_scalar(ER_F32, 0.02), *az = qf_scalar(t, qf_zp(t, v)), *bs = qf_scalar(ER_F32, 0.031);
    er_tensor *bz = qf_scalar(t, qf_zp(t, v + 1)), *cs = qf_scalar(ER_F32, 0.045), *cz = qf_scalar(t, qf_zp(t, v + 2));
    er_tensor *in[] = {A, as, az, B, bs, bz, cs, cz}, *r[1], y = {0};
    er_attr relu[] = {ot_int("_act", 1)};
    CHECK_OK(ot_run_domain(ER_DOMAIN_EDGERUN, "QLinearAdd", 1, relu, v == 3, in, 8, r, 1));
    CHECK_OK(qf_run_mk("com.microsoft", "QLinearAdd", 1, relu, v == 3, in, 8, &y, NULL, NULL));
    if (memcmp(y.data, r[0]->data, er_tensor_nbytes(r[0]))) bad++;
    /* element values from the formula */
    int64_t n = er_tensor_numel(r[0]);
    float ra = 0.02f / 0.045f, rb = 0.031f / 0.045f;
    int32_t za = qf_ld(az->data, t, 0), zb = qf_ld(bz->data, t, 0), zc = qf_ld(cz->data, t, 0);
    for (int64_t i = 0; i < n; i++) {
      int64_t bi = v >= 4 ? (i / 35) % 3 : i;
      float s = ra * (float)(qf_ld(A->data, t, (size_t)i) - za) + rb * (float)(qf_ld(B->data, t, (size_t)bi) - zb);
      int32_t q = (int32_t)rintf(s) + zc, lo = t == ER_I8 ? -128 : 0, hi = t == ER_I8 ? 127 : 255;
      if (v == 3 && q < zc) q = zc;
      q = q < lo ? lo : q > hi ? hi : q;
      if (qf_ld(r[0]->data, t, (size_t)i) != q) bad++;
    }
    free(y.data);
    /* GlobalAveragePool: NCHW and NHWC give the same values; value from the formula */
    er_tensor *gi[] = {A, as, az, cs, cz}, *g1[1], *g2[1];
    CHECK_OK(ot_run_domain(ER_DOMAIN_EDGERUN, "QLinearGlobalAveragePool", 1, NULL, 0, gi, 5, g1, 1));
    int64_t dl[4] = {2, 5, 7, 3};
    er_tensor *AL = ot_tensor(t, 4, dl, NULL);
    qf_transpose(A, AL, 1);
    er_attr cla[] = {ot_int("channels_last", 1)};
    er_tensor *gl[] = {AL, as, az, cs, cz};
    CHECK_OK(ot_run_domain("com.microsoft", "QLinearGlobalAveragePool", 1, cla, 1, gl, 5, g2, 1));
    CHECK(g2[0]->dims[3] == 3 && g1[0]->dims[1] == 3 && memcmp(g1[0]->data, g2[0]->data, 6) == 0);
    for (int64_t nc = 0; nc < 6; nc++) {
      int32_t acc = 0;
      for (int64_t s = 0; s < 35; s++) acc += qf_ld(A->data, t, (size_t)(nc * 35 + s)) - za;
      int32_t q = er_q8_requant(acc, 0.02f / (0.045f * 35.0f), zc, t == ER_I8 ? -128 : 0, t == ER_I8 ? 127 : 255);
      if (qf_ld(g1[0]->data, t, (size_t)nc) != q) bad++;
    }
    ot_free_all();
  }
  CHECK(bad == 0);
}

/* QLinearGlobalAveragePool channels_last (sums of 8 channels at a time in 16-bit lanes,
 * emptied every 256 pixels) vs channels-first (one channel at a time) on the same data:
 * channel counts around 8, more than 256 pixels, both types, all-extreme bytes */
TEST(qlinear_gap_channels_last_lanes) {
  static const int64_t shapes[][4] = {{1, 5, 5, 64}, {2, 17, 19, 13}, {1, 1, 1, 8}, {1, 30, 30, 24},
                                      {1, 3, 1, 17}, {2, 16, 16, 7},  {1, 23, 24, 9}};
  int bad = 0;
  for (int v = 0; v < 28; v++) {
    const int64_t *sh = shapes[v % 7];
    int t = v % 2 ? ER_I8 : ER_U8;
    int64_t dl[4] = {sh[0], sh[1], sh[2], sh[3]}, df[4] = {sh[0], sh[3], sh[1], sh[2]};
    er_tensor *AF = ot_tensor(t, 4, df, NULL), *AL = ot_tensor(t, 4, dl, NULL);
    qf_fill(AF, v % 4 >= 2);
    qf_transpose(AF, AL, 1);
    er_tensor *as = qf_scalar(ER_F32, 0.02), *az = qf_scalar(t, qf_zp(t, v / 2)), *cs = qf_scalar(ER_F32, 0.013);
    er_tensor *cz = qf_scalar(t, qf_zp(t, v / 2 + 1));
    er_tensor *gf[] = {AF, as, az, cs, cz}, *gl[] = {AL, as, az, cs, cz}, *g1[1], *g2[1];
    er_attr cla[] = {ot_int("channels_last", 1)};
    CHECK_OK(ot_run_domain(ER_DOMAIN_EDGERUN, "QLinearGlobalAveragePool", 1, NULL, 0, gf, 5, g1, 1));
    CHECK_OK(ot_run_domain(ER_DOMAIN_EDGERUN, "QLinearGlobalAveragePool", 1, cla, 1, gl, 5, g2, 1));
    if (memcmp(g1[0]->data, g2[0]->data, (size_t)(sh[0] * sh[3]))) bad++;
    ot_free_all();
  }
  CHECK(bad == 0);
}

/* QuantizeLinear / DequantizeLinear / DynamicQuantizeLinear through the micro-kernels vs the
 * reference loops: per tensor and per axis */
TEST(quantize_dequantize_fast_vs_ref) {
  int64_t d[3] = {3, 17, 11}, ds[1] = {17};
  int bad = 0;
  for (int v = 0; v < 4; v++) {
    int t = v % 2 ? ER_I8 : ER_U8, axis = v >= 2;
    er_tensor *X = ot_tensor(ER_F32, 3, d, NULL);
    for (int64_t i = 0; i < er_tensor_numel(X); i++) ((float *)X->data)[i] = (float)((int)(qf_next() % 2001) - 1000) * 0.013f;
    ((float *)X->data)[5] = NAN;
    er_tensor *s = axis ? ot_tensor(ER_F32, 1, ds, NULL) : qf_scalar(ER_F32, 0.07);
    er_tensor *z = axis ? ot_tensor(t, 1, ds, NULL) : qf_scalar(t, qf_zp(t, 2));
    if (axis)
      for (int i = 0; i < 17; i++) {
        ((float *)s->data)[i] = 0.01f * (float)(i + 1);
        int32_t zz = qf_zp(t, 3);
        if (t == ER_U8) ((uint8_t *)z->data)[i] = (uint8_t)zz;
        else ((int8_t *)z->data)[i] = (int8_t)zz;
      }
    er_tensor *in[] = {X, s, z}, *r[1], y = {0};
    CHECK_OK(ot_run("QuantizeLinear", 13, NULL, 0, in, 3, r, 1));
    CHECK_OK(qf_run_mk("", "QuantizeLinear", 13, NULL, 0, in, 3, &y, NULL, NULL));
    if (memcmp(y.data, r[0]->data, er_tensor_nbytes(r[0]))) bad++;
    free(y.data);
    er_tensor *din[] = {r[0], s, z}, *r2[1];
    CHECK_OK(ot_run("DequantizeLinear", 13, NULL, 0, din, 3, r2, 1));
    CHECK_OK(qf_run_mk("", "DequantizeLinear", 13, NULL, 0, din, 3, &y, NULL, NULL));
    if (memcmp(y.data, r2[0]->data, er_tensor_nbytes(r2[0]))) bad++;
    free(y.data);
    er_tensor *dq[1], *dqs[3] = {0};
    CHECK_OK(ot_run("DynamicQuantizeLinear", 11, NULL, 0, (er_tensor *[]){X}, 1, dq, 1));
    CHECK_OK(qf_run_mk("", "DynamicQuantizeLinear", 11, NULL, 0, (er_tensor *[]){X}, 1, &y, NULL, NULL));
    (void)dqs;
    if (memcmp(y.data, dq[0]->data, er_tensor_nbytes(dq[0]))) bad++;
    free(y.data);
    ot_free_all();
  }
  CHECK(bad == 0);
}

/* com.microsoft NhwcMaxPool (8-bit) vs the standard MaxPool on the transposed tensor */
TEST(nhwc_maxpool_8bit_vs_maxpool) {
  int bad = 0, cases = 0;
  for (int v = 0; v < 24; v++) {
    int t = v % 2 ? ER_I8 : ER_U8;
    int64_t H = 5 + v % 7, W = 4 + v % 5, C = v % 3 == 0 ? 1 : v % 3 == 1 ? 17 : 64;
    int64_t xd[4] = {2, C, H, W}, xl[4] = {2, H, W, C};
    er_tensor *X = ot_tensor(t, 4, xd, NULL), *XL = ot_tensor(t, 4, xl, NULL);
    qf_fill(X, v % 5 == 4);
    qf_transpose(X, XL, 1);
    int64_t k[2] = {2 + v % 2, 3 - v % 2}, s[2] = {1 + v % 2, 2}, d[2] = {1, 1 + (v % 4 == 3)};
    int64_t p[4] = {v % 3 ? 1 : 0, 0, v % 3 ? 1 : 0, v % 4 == 1};
    er_attr at[] = {ot_ints("kernel_shape", 2, k), ot_ints("strides", 2, s), ot_ints("dilations", 2, d),
                    ot_ints("pads", 4, p), ot_int("ceil_mode", v % 5 == 2)};
    er_tensor *r[1], y = {0};
    er_status st = ot_run("MaxPool", 12, at, 5, (er_tensor *[]){X}, 1, r, 1);
    if (st) {
      er_status_free(st); /* geometry the standard op rejects: skip */
      ot_free_all();
      continue;
    }
    CHECK_OK(qf_run_mk("com.microsoft", "NhwcMaxPool", 1, at, 5, (er_tensor *[]){XL}, 1, &y, NULL, NULL));
    int64_t yd[4] = {2, r[0]->dims[2], r[0]->dims[3], C};
    er_tensor *RL = ot_tensor(t, 4, yd, NULL);
    qf_transpose(r[0], RL, 1);
    if (!y.data || er_tensor_nbytes(&y) != er_tensor_nbytes(RL) || memcmp(y.data, RL->data, er_tensor_nbytes(RL))) bad++;
    free(y.data);
    cases++;
    ot_free_all();
  }
  CHECK(bad == 0);
  CHECK(cases >= 16);
}

/* edgerun QuantizeLinear channels_last = 1 vs the standard QuantizeLinear then a transpose to
 * channels-last: bit-exact, with and without the micro-kernels (3 channels take the
 * interleave path), 1 and 2 threads; bad attributes and ranks are errors. */
TEST(quantize_to_channels_last) {
  const int64_t shapes[][4] = {{1, 3, 17, 23}, {2, 3, 80, 90}, {2, 5, 9, 7}, {1, 1, 3, 300}, {1, 3, 1, 1}};
  er_threadpool *pool = NULL;
  CHECK_OK(er_threadpool_create(2, &pool));
  int bad = 0;
  er_attr cl = ot_int("channels_last", 1);
  for (int v = 0; v < 10; v++) {
    const int64_t *d = shapes[v % 5];
    int t = v % 2 ? ER_I8 : ER_U8;
    er_tensor *X = ot_tensor(ER_F32, 4, d, NULL);
    int64_t n = er_tensor_numel(X), S = d[2] * d[3];
    for (int64_t i = 0; i < n; i++) ((float *)X->data)[i] = (float)((int)(qf_next() % 4001) - 2000) * 0.011f;
    if (n > 9) ((float *)X->data)[9] = NAN, ((float *)X->data)[2] = 0.5f * 0.07f;
    er_tensor *s = qf_scalar(ER_F32, 0.07), *z = qf_scalar(t, qf_zp(t, v));
    er_tensor *in[] = {X, s, z}, *r[1], *y[1];
    CHECK_OK(ot_run("QuantizeLinear", 13, NULL, 0, in, 3, r, 1));
    for (int mk = 0; mk < 3; mk++) {
      er_tensor yy = {0}, *yp = &yy;
      if (mk == 0) {
        CHECK_OK(ot_run_domain(ER_DOMAIN_EDGERUN, "QuantizeLinear", 1, &cl, 1, in, 3, y, 1));
        yp = y[0];
      } else {
        CHECK_OK(qf_run_mk(ER_DOMAIN_EDGERUN, "QuantizeLinear", 1, &cl, 1, in, 3, &yy, mk == 2 ? pool : NULL, NULL));
      }
      CHECK(yp->rank == 4 && yp->dims[1] == d[2] && yp->dims[2] == d[3] && yp->dims[3] == d[1] && yp->dtype == t);
      for (int64_t b = 0; b < d[0]; b++)
        for (int64_t c = 0; c < d[1]; c++)
          for (int64_t p = 0; p < S; p++)
            bad += ((unsigned char *)yp->data)[(b * S + p) * d[1] + c] != ((unsigned char *)r[0]->data)[(b * d[1] + c) * S + p];
      if (mk) free(yy.data);
    }
    ot_free_all();
  }
  CHECK(bad == 0);
  /* errors: channels_last missing, rank 2 */
  int64_t d2[2] = {3, 4};
  er_tensor *X2 = ot_tensor(ER_F32, 2, d2, NULL), *s2 = qf_scalar(ER_F32, 0.5), *out[1];
  er_tensor *in2[] = {X2, s2};
  CHECK_ERR(ot_run_domain(ER_DOMAIN_EDGERUN, "QuantizeLinear", 1, &cl, 1, in2, 2, out, 1), ER_INVALID_ARGUMENT);
  int64_t d4[4] = {1, 3, 2, 2};
  er_tensor *X4 = ot_tensor(ER_F32, 4, d4, NULL), *in4[] = {X4, s2};
  CHECK_ERR(ot_run_domain(ER_DOMAIN_EDGERUN, "QuantizeLinear", 1, NULL, 0, in4, 2, out, 1), ER_INVALID_ARGUMENT);
  ot_free_all();
  er_threadpool_destroy(pool);
}

/* QLinearAdd over ranges on 2 threads (large tensors; B full or a scalar, either side) equals
 * the reference loops */
TEST(qlinear_add_threads) {
  er_threadpool *pool = NULL;
  CHECK_OK(er_threadpool_create(2, &pool));
  int bad = 0;
  for (int v = 0; v < 4; v++) {
    int t = v % 2 ? ER_I8 : ER_U8;
    int64_t d[2] = {300, 401}, one = 1;
    er_tensor *A = ot_tensor(t, 2, d, NULL), *B = v >= 2 ? ot_tensor(t, 1, &one, NULL) : ot_tensor(t, 2, d, NULL);
    qf_fill(A, 0), qf_fill(B, 0);
    er_tensor *as = qf_scalar(ER_F32, 0.02), *az = qf_scalar(t, qf_zp(t, v)), *bs = qf_scalar(ER_F32, 0.031);
    er_tensor *bz = qf_scalar(t, qf_zp(t, v + 1)), *cs = qf_scalar(ER_F32, 0.045), *cz = qf_scalar(t, qf_zp(t, v + 2));
    er_tensor *in[] = {v == 3 ? B : A, as, az, v == 3 ? A : B, bs, bz, cs, cz}, *r[1], y = {0};
    CHECK_OK(ot_run_domain(ER_DOMAIN_EDGERUN, "QLinearAdd", 1, NULL, 0, in, 8, r, 1));
    CHECK_OK(qf_run_mk(ER_DOMAIN_EDGERUN, "QLinearAdd", 1, NULL, 0, in, 8, &y, pool, NULL));
    if (memcmp(y.data, r[0]->data, er_tensor_nbytes(r[0]))) bad++;
    free(y.data);
    ot_free_all();
  }
  CHECK(bad == 0);
  er_threadpool_destroy(pool);
}

/* com.microsoft MatMulIntegerToFloat: packed fast path (1 and 2 threads) vs the reference
 * loops, bit for bit; the value against its formula; bad scales are errors */
TEST(matmul_integer_to_float) {
  er_threadpool *pool = NULL;
  CHECK_OK(er_threadpool_create(2, &pool));
  int bad = 0;
  for (int v = 0; v < 6; v++) {
    const int64_t K = v < 3 ? 37 : 300, N = v % 3 == 0 ? 5 : 70, da[3] = {2, 33, K}, db[2] = {K, N}, dn = N;
    int at = v % 2 ? ER_I8 : ER_U8, bt = ER_I8, per = v % 3 != 1;
    er_tensor *A = ot_tensor(at, 3, da, NULL), *B = ot_tensor(bt, 2, db, NULL);
    qf_fill(A, v == 5), qf_fill(B, v == 5);
    er_tensor *as = qf_scalar(ER_F32, 0.013), *bs = per ? ot_tensor(ER_F32, 1, &dn, NULL) : qf_scalar(ER_F32, 0.021);
    er_tensor *az = qf_scalar(at, qf_zp(at, v)), *bz = per ? ot_tensor(bt, 1, &dn, NULL) : qf_scalar(bt, qf_zp(bt, v + 1));
    er_tensor *bias = ot_tensor(ER_F32, 1, &dn, NULL);
    for (int64_t n = 0; n < N; n++) {
      if (per) ((float *)bs->data)[n] = 0.001f * (float)(n + 3), ((int8_t *)bz->data)[n] = (int8_t)(qf_zp(bt, 3));
      ((float *)bias->data)[n] = (float)n * 0.37f - 3;
    }
    int nin = v == 2 ? 6 : 7;
    er_tensor *in[] = {A, B, as, bs, az, bz, bias}, *r[1], y1 = {0}, y2 = {0};
    CHECK_OK(ot_run_domain("com.microsoft", "MatMulIntegerToFloat", 1, NULL, 0, in, nin, r, 1));
    CHECK_OK(qf_run_mk("com.microsoft", "MatMulIntegerToFloat", 1, NULL, 0, in, nin, &y1, NULL, NULL));
    CHECK_OK(qf_run_mk("com.microsoft", "MatMulIntegerToFloat", 1, NULL, 0, in, nin, &y2, pool, NULL));
    CHECK(r[0]->dtype == ER_F32 && r[0]->rank == 3 && r[0]->dims[2] == N);
    if (memcmp(y1.data, r[0]->data, er_tensor_nbytes(r[0])) || memcmp(y2.data, r[0]->data, er_tensor_nbytes(r[0])))
      bad++;
    for (int64_t m = 0; m < 2 * 33; m += 13) /* the formula */
      for (int64_t n = 0; n < N; n++) {
        int32_t acc = 0;
        for (int64_t k = 0; k < K; k++)
          acc += (qf_ld(A->data, at, (size_t)(m * K + k)) - qf_ld(az->data, at, 0)) *
                 (qf_ld(B->data, bt, (size_t)(k * N + n)) - qf_ld(bz->data, bt, per ? (size_t)n : 0));
        float e = (float)acc * (0.013f * ((const float *)bs->data)[per ? n : 0]);
        if (nin == 7) e = e + ((const float *)bias->data)[n];
        if (((const float *)r[0]->data)[m * N + n] != e) bad++;
      }
    free(y1.data), free(y2.data);
    /* a per-row a_scale is not supported: a clear error */
    int64_t d2 = 2;
    er_tensor *as2 = ot_tensor(ER_F32, 1, &d2, NULL), *in2[] = {A, B, as2, bs};
    CHECK_ERR(ot_run_domain("com.microsoft", "MatMulIntegerToFloat", 1, NULL, 0, in2, 4, r, 1), ER_UNSUPPORTED);
    ot_free_all();
  }
  CHECK(bad == 0);
  er_threadpool_destroy(pool);
}
