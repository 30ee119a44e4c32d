/* 8-bit integer micro-kernels (kernels/q8.h) of the best table for this CPU vs the
 * reference table: bit-exact on many shapes, signednesses, zero points (0, 128, odd,
 * per-row / per-column), output types, fused clamps and saturation extremes. The reference
 * itself is checked against a plain int64 sum. */
#include <stdlib.h>
#include <string.h>

#include "base/cpu.h"
#include "kernels/q8.h"
#include "optest.h"
#if defined(__x86_64__)
#include "kernels/x86/q8.h"
#endif
#include "test.h"

static uint32_t q8_rng = 12345;
static uint32_t q8_next(void) {
  q8_rng = q8_rng * 1664525u + 1013904223u;
  return q8_rng >> 8;
}
/* bytes: mode 0 random, 1 all max (255 / 127), 2 all min (0 / -128), 3 extremes mixed */
static void q8_fill(void *p, int64_t n, int is_signed, int mode) {
  unsigned char *b = (unsigned char *)p;
  for (int64_t i = 0; i < n; i++) {
    uint32_t r = q8_next();
    int v;
    if (mode == 0) v = (int)(r & 255);
    else if (mode == 1) v = is_signed ? 127 : 255;
    else if (mode == 2) v = is_signed ? -128 : 0;
    else v = (r & 1) ? (is_signed ? 127 : 255) : (is_signed ? -128 : 0);
    b[i] = (unsigned char)v;
  }
}
static int32_t q8_zp(int is_signed, int kind) { /* 0, 128-ish, odd, random */
  switch (kind) {
    case 0: return 0;
    case 1: return is_signed ? -128 : 128;
    case 2: return is_signed ? 37 : 131;
    default: return is_signed ? (int32_t)(q8_next() % 256) - 128 : (int32_t)(q8_next() % 256);
  }
}

static int64_t ld_any(const void *p, int s, int64_t i) {
  return s ? ((const int8_t *)p)[i] : ((const uint8_t *)p)[i];
}

/* The variants to check: the selected table and, on x86, every 8-bit ISA level this CPU
 * has, forced into a copy of it (plain AVX2, AVX-VNNI, AVX-512 VNNI, AMX), so that each one is
 * tested whichever the selection picks. Returns the count (at most Q8_VARIANTS). */
enum { Q8_VARIANTS = 5 };
static int q8_gemm_variants(er_microkernels *out) {
  int n = 0;
  out[n++] = *er_microkernels_select();
#if defined(__x86_64__)
  er_cpu_features f = er_cpu_detect();
  if (f.avx2 && f.fma) {
    out[n] = out[0];
    out[n].q8_pack_left_size = er_q8_pack_left_size__avx2;
    out[n].q8_pack_left = er_q8_pack_left__avx2;
    out[n].q8_pack_right_size = er_q8_pack_right_size_16__avx2;
    out[n].q8_pack_right = er_q8_pack_right_16__avx2;
    out[n].q8_gemm = er_q8_gemm_6x16__avx2;
    out[n].q8_dw_pack_size = er_q8_dw_pack_size__avx2;
    out[n].q8_dw_pack = er_q8_dw_pack__avx2;
    out[n].q8_dw_work_size = er_q8_dw_work_size__avx2;
    out[n].q8_dwconv_nhwc = er_q8_dwconv_nhwc__avx2;
    n++;
  }
  if (f.avx_vnni) {
    out[n] = out[1];
    er_q8_use_avxvnni(&out[n++]);
  }
  if (f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni) {
    out[n] = out[1];
    er_q8_use_avx512vnni(&out[n++]);
    if (er_cpu_amx_enable()) {
      out[n] = out[1];
      er_q8_use_amx(&out[n++]);
    }
  }
#endif
  return n;
}

TEST(q8_gemm_vs_ref) {
  er_microkernels variants[Q8_VARIANTS];
  int nv = q8_gemm_variants(variants);
  for (int vi = 0; vi < nv; vi++) {
  const er_microkernels *ref = er_microkernels_ref(), *mk = &variants[vi];
  static const int64_t Ms[] = {1, 2, 5, 6, 7, 13, 31, 32, 49};
  static const int64_t Ns[] = {1, 3, 15, 16, 17, 40, 64};
  static const int64_t Ks[] = {1, 2, 3, 8, 17, 64, 255, 1031};
  const int64_t maxM = 49, maxN = 64, maxK = 1031;
  unsigned char *L = malloc(maxM * maxK * 2), *R = malloc(maxK * maxN * 2);
  int32_t *zl = malloc(sizeof(int32_t) * maxM), *zr = malloc(sizeof(int32_t) * maxN);
  int32_t *bias = malloc(sizeof(int32_t) * 64);
  float *scale = malloc(sizeof(float) * 64);
  size_t lb = ref->q8_pack_left_size(maxM, maxK), rb = ref->q8_pack_right_size(maxK, maxN);
  size_t lb2 = mk->q8_pack_left_size(maxM, maxK), rb2 = mk->q8_pack_right_size(maxK, maxN);
  void *pl1 = malloc(lb), *pr1 = malloc(rb), *pl2 = malloc(lb2), *pr2 = malloc(rb2);
  int32_t *C1 = malloc(sizeof(int32_t) * maxM * 70), *C2 = malloc(sizeof(int32_t) * maxM * 70);
  int cases = 0, bad = 0, refbad = 0, v = 0;
  for (size_t mi = 0; mi < sizeof Ms / sizeof Ms[0]; mi++)
    for (size_t ni = 0; ni < sizeof Ns / sizeof Ns[0]; ni++)
      for (size_t ki = 0; ki < sizeof Ks / sizeof Ks[0]; ki++, v++) {
        int64_t M = Ms[mi], N = Ns[ni], K = Ks[ki];
        int ls = v % 2, rs = (v / 2) % 2, mode = (v / 4) % 5 == 4 ? 3 : (v / 4) % 5 == 3 ? 1 : 0;
        int trl = (v / 3) % 2, trr = (v / 5) % 2; /* transposed sources (strided reads) */
        q8_fill(L, M * K, ls, mode);
        q8_fill(R, K * N, rs, mode == 1 ? 2 : mode);
        int zk = v % 4, zper = (v / 7) % 2;
        for (int64_t i = 0; i < M; i++) zl[i] = zper ? q8_zp(ls, 3) : q8_zp(ls, zk);
        for (int64_t i = 0; i < N; i++) zr[i] = zper ? q8_zp(rs, 3) : q8_zp(rs, (zk + 1) % 4);
        if (mode == 1) zl[0] = 0, zr[0] = ls ? 0 : 0; /* extremes: |products| maximal */
        int64_t lsm = trl ? 1 : K, lsk = trl ? M : 1, rsk = trr ? 1 : N, rsn = trr ? K : 1;
        ref->q8_pack_left(M, K, L, ls, lsm, lsk, zl, zper, pl1);
        mk->q8_pack_left(M, K, L, ls, lsm, lsk, zl, zper, pl2);
        ref->q8_pack_right(K, N, R, rs, rsk, rsn, zr, zper, pr1);
        mk->q8_pack_right(K, N, R, rs, rsk, rsn, zr, zper, pr2);
        for (int o = 0; o < 6; o++) {
          er_q8_out out = {0};
          out.type = o < 2 ? ER_I32 : (o % 2 ? ER_U8 : ER_I8);
          out.per_row = o % 3 == 1;
          int64_t np = out.per_row ? M : N;
          for (int64_t i = 0; i < np; i++) {
            bias[i] = (int32_t)(q8_next() % 200001) - 100000;
            scale[i] = (float)(q8_next() % 1000 + 1) * 1.7e-6f;
          }
          if (o == 5) bias[0] = 2147483647; /* wrap-around */
          out.bias = o == 2 ? NULL : bias;
          out.scale = scale;
          out.scale_stride = o == 4 ? 0 : 1;
          er_q8_range(out.type, &out.lo, &out.hi);
          out.zp = out.type == ER_U8 ? 120 : out.type == ER_I8 ? -3 : 0;
          if (o == 3) out.lo = out.zp, out.hi = out.zp + 100; /* a fused clip */
          int64_t ldc = N + 3, esz = out.type == ER_I32 ? 4 : 1;
          memset(C1, 0x5a, sizeof(int32_t) * maxM * 70);
          memset(C2, 0x5a, sizeof(int32_t) * maxM * 70);
          ref->q8_gemm(K, pl1, M, pr1, N, 0, M, 0, N, &out, C1, ldc);
          /* the optimized one in pieces: rows split unevenly, columns at a multiple of 16 */
          int64_t ms = M / 3, ns = N > 16 ? 16 : N;
          mk->q8_gemm(K, pl2, M, pr2, N, 0, ms, 0, ns, &out, C2, ldc);
          mk->q8_gemm(K, pl2, M, pr2, N, ms, M, 0, ns, &out, C2, ldc);
          mk->q8_gemm(K, pl2, M, pr2, N, 0, M, ns, N, &out, C2, ldc);
          if (memcmp(C1, C2, (size_t)(M * ldc * esz)) != 0) {
            if (bad++ < 5)
              fprintf(stderr, "  q8_gemm M=%lld N=%lld K=%lld ls=%d rs=%d mode=%d out=%d differs\n", (long long)M,
                      (long long)N, (long long)K, ls, rs, mode, o);
          }
          if (o == 0) { /* reference vs an int64 sum */
            for (int64_t m = 0; m < M; m++)
              for (int64_t n = 0; n < N; n++) {
                int64_t s = 0;
                for (int64_t k = 0; k < K; k++)
                  s += (ld_any(L, ls, m * lsm + k * lsk) - zl[zper ? m : 0]) *
                       (ld_any(R, rs, k * rsk + n * rsn) - zr[zper ? n : 0]);
                s += bias[n];
                if ((int32_t)s != C1[m * ldc + n]) refbad++;
              }
          }
          cases++;
        }
      }
  CHECK(bad == 0);
  CHECK(refbad == 0);
  CHECK(cases > 2000);
  free(L), free(R), free(zl), free(zr), free(bias), free(scale), free(pl1), free(pr1), free(pl2), free(pr2);
  free(C1), free(C2);
  }
}

TEST(q8_requant_rounding_and_clamp) {
  /* half-way cases round to even; clamps to the range and the fused bounds */
  CHECK(er_q8_requant(5, 0.5f, 0, 0, 255) == 2);
  CHECK(er_q8_requant(7, 0.5f, 0, 0, 255) == 4);
  CHECK(er_q8_requant(-5, 0.5f, 10, 0, 255) == 8);
  CHECK(er_q8_requant(1000000, 1.0f, 3, 0, 255) == 255);
  CHECK(er_q8_requant(-1000000, 1.0f, 3, -128, 127) == -128);
  CHECK(er_q8_requant(-10, 1.0f, 3, 3, 255) == 3); /* Relu: lo = zp */
  CHECK(er_q8_requant(2147483647, 1e30f, 0, -128, 127) == 127);
}

TEST(q8_dwconv2d_vs_ref) {
  const er_microkernels *ref = er_microkernels_ref(), *mk = er_microkernels_select();
  static const int64_t Hs[] = {1, 2, 5, 7, 14, 23};
  static const int64_t Ws[] = {1, 3, 7, 14, 16, 17, 33, 56};
  unsigned char *in = malloc(23 * 56);
  int32_t *o1 = malloc(sizeof(int32_t) * 60 * 60), *o2 = malloc(sizeof(int32_t) * 60 * 60);
  int16_t w[49];
  int32_t bias[3] = {1234, -77, 5};
  float scale[3] = {0.0123f, 0.5f, 0.0007f};
  int bad = 0, cases = 0, v = 0;
  for (size_t hi = 0; hi < sizeof Hs / sizeof Hs[0]; hi++)
    for (size_t wi = 0; wi < sizeof Ws / sizeof Ws[0]; wi++)
      for (int64_t k = 1; k <= 7; k += 2)
        for (int64_t s = 1; s <= 3; s++)
          for (int64_t d = 1; d <= 2; d++, v++) {
            int64_t H = Hs[hi], W = Ws[wi], KH = k, KW = v % 5 == 0 && k > 1 ? k - 1 : k;
            int64_t ph = v % 3 ? (KH / 2) * d : 0, pw = v % 3 ? (KW / 2) * d : 0, pe = v % 4 == 1;
            int64_t OH = H + 2 * ph + pe - ((KH - 1) * d + 1), OW = W + 2 * pw + pe - ((KW - 1) * d + 1);
            if (OH < 0 || OW < 0) continue;
            OH = OH / s + 1, OW = OW / s + 1;
            int sg = v % 2, mode = v % 7 == 6 ? 3 : 0;
            q8_fill(in, H * W, sg, mode);
            for (int i = 0; i < KH * KW; i++) w[i] = (int16_t)((int32_t)(q8_next() % 511) - 255);
            if (mode) for (int i = 0; i < KH * KW; i++) w[i] = i % 2 ? 255 : -255;
            int32_t xzp = q8_zp(sg, v % 4);
            er_q8_out out = {v % 3 == 0 ? ER_I32 : v % 3 == 1 ? ER_U8 : ER_I8, 1, v % 5 == 2 ? NULL : bias, scale,
                             v % 2, 0, 0, 0};
            er_q8_range(out.type, &out.lo, &out.hi);
            out.zp = out.type == ER_U8 ? 128 : 0;
            int64_t ch = v % 3;
            size_t esz = out.type == ER_I32 ? 4 : 1;
            memset(o1, 0, sizeof(int32_t) * 60 * 60), memset(o2, 0, sizeof(int32_t) * 60 * 60);
            ref->q8_dwconv2d(in, sg, xzp, H, W, w, KH, KW, s, s, ph, pw, d, d, &out, ch, o1, OH, OW);
            mk->q8_dwconv2d(in, sg, xzp, H, W, w, KH, KW, s, s, ph, pw, d, d, &out, ch, o2, OH, OW);
            if (memcmp(o1, o2, (size_t)(OH * OW) * esz) != 0 && bad++ < 5)
              fprintf(stderr, "  q8_dwconv2d H=%lld W=%lld K=%lldx%lld s=%lld d=%lld differs\n", (long long)H,
                      (long long)W, (long long)KH, (long long)KW, (long long)s, (long long)d);
            cases++;
          }
  CHECK(bad == 0);
  CHECK(cases > 700);
  free(in), free(o1), free(o2);
}

TEST(q8_dwconv_nhwc_vs_ref) {
  er_microkernels variants[Q8_VARIANTS];
  int nv = q8_gemm_variants(variants);
  for (int vi = 0; vi < nv; vi++) {
  const er_microkernels *ref = er_microkernels_ref(), *mk = &variants[vi];
  static const int64_t Cs[] = {1, 3, 8, 16, 17, 32, 40, 64, 71, 130};
  static const int64_t Ss[] = {1, 2, 5, 9};
  int64_t maxC = 130, maxS = 9;
  unsigned char *in = malloc(maxS * maxS * maxC), *wr = malloc(49 * maxC);
  int32_t *zp = malloc(sizeof(int32_t) * maxC), *bias = malloc(sizeof(int32_t) * maxC);
  float *scale = malloc(sizeof(float) * maxC);
  void *p1 = malloc(ref->q8_dw_pack_size(7, 7, maxC)), *p2 = malloc(mk->q8_dw_pack_size(7, 7, maxC));
  void *wk = malloc(mk->q8_dw_work_size(7, 7, 20, maxC) + 1);
  int32_t *o1 = malloc(sizeof(int32_t) * 20 * 20 * maxC), *o2 = malloc(sizeof(int32_t) * 20 * 20 * maxC);
  int bad = 0, cases = 0, v = 0;
  for (size_t ci = 0; ci < sizeof Cs / sizeof Cs[0]; ci++)
    for (size_t hi = 0; hi < sizeof Ss / sizeof Ss[0]; hi++)
      for (size_t wi = 0; wi < sizeof Ss / sizeof Ss[0]; wi++)
        for (int64_t k = 1; k <= 5; k += 2)
          for (int64_t s = 1; s <= 2; s++, v++) {
            int64_t C = Cs[ci], H = Ss[hi], W = Ss[wi], KH = k, KW = v % 4 == 3 && k > 1 ? k - 1 : k;
            int64_t d = v % 5 == 4 ? 2 : 1, ph = v % 3 ? (KH / 2) * d : 0, pw = v % 3 ? (KW / 2) * d : 0;
            int64_t OH = H + 2 * ph - ((KH - 1) * d + 1), OW = W + 2 * pw - ((KW - 1) * d + 1);
            if (OH < 0 || OW < 0) continue;
            OH = OH / s + 1, OW = OW / s + 1;
            int sg = v % 2, wsg = (v / 2) % 2, mode = v % 6 == 5 ? 3 : 0;
            q8_fill(in, H * W * C, sg, mode);
            q8_fill(wr, KH * KW * C, wsg, mode);
            for (int64_t c = 0; c < C; c++) {
              zp[c] = q8_zp(wsg, v % 7 == 1 ? 3 : v % 4);
              bias[c] = (int32_t)(q8_next() % 20001) - 10000;
              scale[c] = (float)(q8_next() % 1000 + 1) * 3.1e-5f;
            }
            int zps = v % 7 == 1;
            ref->q8_dw_pack(KH, KW, C, wr, wsg, zp, zps, p1);
            mk->q8_dw_pack(KH, KW, C, wr, wsg, zp, zps, p2);
            er_q8_out out = {v % 3 == 0 ? ER_I32 : v % 3 == 1 ? ER_U8 : ER_I8, 0, v % 5 == 2 ? NULL : bias, scale,
                             (v / 3) % 2, 0, 0, 0};
            er_q8_range(out.type, &out.lo, &out.hi);
            out.zp = out.type == ER_U8 ? 100 : -7;
            if (out.type == ER_I32) out.zp = 0;
            int32_t xzp = q8_zp(sg, (v / 3) % 4);
            size_t esz = out.type == ER_I32 ? 4 : 1;
            memset(o1, 0, sizeof(int32_t) * 20 * 20 * maxC), memset(o2, 0, sizeof(int32_t) * 20 * 20 * maxC);
            ref->q8_dwconv_nhwc(in, sg, xzp, H, W, C, p1, KH, KW, s, s, ph, pw, d, d, &out, o1, OW, 0, OH, NULL);
            int64_t split = OH / 2; /* two calls: same bits */
            mk->q8_dwconv_nhwc(in, sg, xzp, H, W, C, p2, KH, KW, s, s, ph, pw, d, d, &out, o2, OW, 0, split, wk);
            mk->q8_dwconv_nhwc(in, sg, xzp, H, W, C, p2, KH, KW, s, s, ph, pw, d, d, &out, o2, OW, split, OH, wk);
            if (memcmp(o1, o2, (size_t)(OH * OW * C) * esz) != 0 && bad++ < 5)
              fprintf(stderr, "  q8_dwconv_nhwc C=%lld H=%lld W=%lld K=%lldx%lld s=%lld differs\n", (long long)C,
                      (long long)H, (long long)W, (long long)KH, (long long)KW, (long long)s);
            cases++;
          }
  CHECK(bad == 0);
  CHECK(cases > 500);
  free(in), free(wr), free(zp), free(bias), free(scale), free(p1), free(p2), free(o1), free(o2), free(wk);
  }
}

TEST(q8_elementwise_vs_ref) {
  const er_microkernels *ref = er_microkernels_ref(), *mk = er_microkernels_select();
  enum { NMAX = 301 };
  float x[NMAX], y1[NMAX], y2[NMAX];
  unsigned char a[NMAX], b[NMAX], c1[NMAX], c2[NMAX];
  int bad = 0;
  for (int64_t n = 0; n < NMAX; n += (n < 40 ? 1 : 37)) {
    for (int v = 0; v < 6; v++) {
      int sg = v % 2;
      for (int64_t i = 0; i < n; i++) x[i] = (float)((int32_t)(q8_next() % 20001) - 10000) * (v < 4 ? 0.01f : 1.37f);
      if (n > 5) x[1] = NAN, x[2] = INFINITY, x[3] = -INFINITY, x[4] = 0.5f, x[5] = -2.5f; /* ties round to even */
      int32_t zp = q8_zp(sg, v), lo, hi;
      er_q8_range(sg ? ER_I8 : ER_U8, &lo, &hi);
      if (v == 3) lo = zp, hi = hi - 3 > lo ? hi - 3 : hi; /* narrowed */
      float sc = v == 2 ? 1.0f : 0.0371f;
      memset(c1, 1, sizeof c1), memset(c2, 2, sizeof c2);
      ref->q8_quantize(n, x, sc, zp, lo, hi, sg ? ER_I8 : ER_U8, c1);
      mk->q8_quantize(n, x, sc, zp, lo, hi, sg ? ER_I8 : ER_U8, c2);
      if (memcmp(c1, c2, (size_t)n)) bad++;
      q8_fill(a, n, sg, v == 5 ? 3 : 0), q8_fill(b, n, sg, 0);
      ref->q8_dequantize(n, a, sg, zp, sc, y1);
      mk->q8_dequantize(n, a, sg, zp, sc, y2);
      if (memcmp(y1, y2, sizeof(float) * (size_t)n)) bad++;
      for (int bs = 0; bs < 2; bs++) {
        float ra = v == 4 ? 1.0f : 0.6173f, rb = v == 4 ? 1.0f : 1.3091f;
        int32_t zb = q8_zp(sg, v + 1), zc = q8_zp(sg, v + 2);
        ref->q8_add(n, a, b, bs, sg, zp, zb, ra, rb, zc, lo, hi, c1);
        mk->q8_add(n, a, b, bs, sg, zp, zb, ra, rb, zc, lo, hi, c2);
        if (memcmp(c1, c2, (size_t)n)) bad++;
      }
      float mn1 = 0, mx1 = 0, mn2 = 0, mx2 = 0;
      ref->f32_minmax(n, x, &mn1, &mx1);
      mk->f32_minmax(n, x, &mn2, &mx2);
      if (mn1 != mn2 || mx1 != mx2) bad++;
    }
  }
  CHECK(bad == 0);
  /* the reference itself: half-way cases round to even, NaN to lo, infinities clamp */
  float xs[] = {0.5f, 1.5f, 2.5f, -0.5f, NAN, INFINITY, -INFINITY, 300};
  unsigned char q[8];
  ref->q8_quantize(8, xs, 1.0f, 10, 0, 255, ER_U8, q);
  CHECK(q[0] == 10 && q[1] == 12 && q[2] == 12 && q[3] == 10 && q[4] == 0 && q[5] == 255 && q[6] == 0 && q[7] == 255);
}

TEST(u8_transpose_vs_ref) {
  const er_microkernels *ref = er_microkernels_ref(), *mk = er_microkernels_select();
  unsigned char *src = malloc(70 * 90), *d1 = malloc(100 * 80), *d2 = malloc(100 * 80);
  q8_fill(src, 70 * 90, 0, 0);
  int bad = 0;
  for (int64_t r = 1; r <= 70; r += 3)
    for (int64_t c = 1; c <= 80; c += 5) {
      memset(d1, 7, 100 * 80), memset(d2, 7, 100 * 80);
      ref->u8_transpose(r, c, src, 90, d1, 75);
      mk->u8_transpose(r, c, src, 90, d2, 75);
      bad += memcmp(d1, d2, 100 * 80) != 0;
      bad += d1[(c - 1) * 75 + (r - 1)] != src[(r - 1) * 90 + (c - 1)];
    }
  for (int64_t c = 1; c <= 80; c += 7) { /* 3 planes -> interleaved triples */
    memset(d1, 7, 100 * 80), memset(d2, 7, 100 * 80);
    ref->u8_transpose(3, c, src, 90, d1, 3);
    mk->u8_transpose(3, c, src, 90, d2, 3);
    bad += memcmp(d1, d2, 100 * 80) != 0;
  }
  CHECK(bad == 0);
  free(src), free(d1), free(d2);
}

TEST(f32_q4_gemm_vs_ref) {
  const er_microkernels *ref = er_microkernels_ref(), *mk = er_microkernels_select();
  static const int64_t Ms[] = {1, 3, 4, 5, 9};
  static const int64_t Ns[] = {1, 2, 15, 16, 17, 33, 64};
  static const int64_t Ks[] = {1, 7, 32, 33, 100};
  static const int64_t Bs[] = {1, 16, 32, 1000};
  float *A = malloc(sizeof(float) * 9 * 100), *s = malloc(sizeof(float) * 100 * 64), *bias = malloc(sizeof(float) * 64);
  unsigned char *B = malloc(100 * 32), *z = malloc(100 * 64);
  float *C1 = malloc(sizeof(float) * 9 * 70), *C2 = malloc(sizeof(float) * 9 * 70);
  int bad = 0, cases = 0, v = 0;
  for (size_t mi = 0; mi < 5; mi++)
    for (size_t ni = 0; ni < 7; ni++)
      for (size_t ki = 0; ki < 5; ki++)
        for (size_t bi = 0; bi < 4; bi++, v++) {
          int64_t M = Ms[mi], N = Ns[ni], K = Ks[ki], bl = Bs[bi], nb = (K + bl - 1) / bl;
          int sg = v % 2, withz = v % 3 != 0;
          for (int64_t i = 0; i < M * K; i++) A[i] = (float)((int)(q8_next() % 2001) - 1000) * 0.001f;
          q8_fill(B, K * ((N + 1) / 2), 0, v % 7 == 6 ? 3 : 0);
          for (int64_t i = 0; i < nb * N; i++) {
            s[i] = (float)(q8_next() % 1000 + 1) * 1e-3f;
            z[i] = (unsigned char)(sg ? (int)(q8_next() % 16) - 8 : (int)(q8_next() % 16));
          }
          for (int64_t i = 0; i < N; i++) bias[i] = (float)i * 0.25f - 3;
          const float *bs = v % 4 == 1 ? NULL : bias;
          int64_t ldc = N + 2, n0 = N > 16 ? 16 : 0;
          memset(C1, 0, sizeof(float) * 9 * 70), memset(C2, 0, sizeof(float) * 9 * 70);
          ref->f32_q4_gemm(M, N, K, A, K, B, sg, s, withz ? z : NULL, bl, bs, C1, ldc, 0, N);
          if (n0) mk->f32_q4_gemm(M, N, K, A, K, B, sg, s, withz ? z : NULL, bl, bs, C2, ldc, 0, n0);
          mk->f32_q4_gemm(M, N, K, A, K, B, sg, s, withz ? z : NULL, bl, bs, C2, ldc, n0, N);
          for (int64_t m = 0; m < M; m++) /* float sums, fused or not: within rounding */
            for (int64_t n = 0; n < N; n++)
              if (fabs(C1[m * ldc + n] - C2[m * ldc + n]) > 2e-6 * (1 + fabs(C1[m * ldc + n])) * sqrt((double)K)) bad++;
          /* the reference against the definition in double (same weights) */
          for (int64_t m = 0; m < M; m++)
            for (int64_t n = 0; n < N; n++) {
              double e = bs ? bs[n] : 0;
              for (int64_t k = 0; k < K; k++) {
                int q = (B[k * ((N + 1) / 2) + n / 2] >> (4 * (n & 1))) & 15;
                if (sg) q = (q ^ 8) - 8;
                int zz = withz ? (sg ? (int)(signed char)z[(k / bl) * N + n] : z[(k / bl) * N + n]) : 0;
                e += (double)A[m * K + k] * (double)(q - zz) * (double)s[(k / bl) * N + n];
              }
              if (fabs(e - C1[m * ldc + n]) > 1e-4 * (1 + fabs(e))) bad++;
            }
          cases++;
        }
  CHECK(bad == 0);
  CHECK(cases == 700);
  free(A), free(s), free(bias), free(B), free(z), free(C1), free(C2);
}
