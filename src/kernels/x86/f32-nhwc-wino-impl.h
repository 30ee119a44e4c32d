/*
 * Winograd F(4x4, 3x3) transforms across channels (semantics in kernels/dispatch.h:
 * f32_nhwc_wino_in, f32_nhwc_wino_out), written once for the vector widths of
 * f32-nhwc-winograd-avx2.c and f32-nhwc-winograd-avx512.c, which define before including:
 *   WV, WT          vector and tail-mask types; WN lanes per vector
 *   WSET1 WADD WSUB WFMA WFNMA   the arithmetic; WZERO() a zero vector
 *   WLOAD(p, t) / WSTORE(p, t, v)  masked load / store (t: WFULL or WTAIL(n), n < WN lanes)
 *   WACT_REGS(kind) 1 for the activations applied in registers (RELU, CLIP), by WACT(v, act);
 *                   WACT_ROW(row, n, act) applies the others over a stored row
 *   WIN, WOUT       the entry points' names
 * Per block of WN channels (the last one masked): the 6 columns of the 6x6 patch go through
 * B^T (or A^T) into a stack buffer, then its rows. The output adds the bias and applies the
 * activation per vector (RELU, CLIP; the others over the stored pixel afterwards).
 */

/* B^T: 6 vectors -> 6 */
static inline __attribute__((always_inline)) void bt(const WV d[6], WV o[6]) {
  const WV c2 = WSET1(2.0f), c4 = WSET1(4.0f), c5 = WSET1(5.0f);
  o[0] = WFMA(c4, d[0], WFNMA(c5, d[2], d[4]));
  o[1] = WFNMA(c4, WADD(d[1], d[2]), WADD(d[3], d[4]));
  o[2] = WFMA(c4, WSUB(d[1], d[2]), WSUB(d[4], d[3]));
  const WV a = WSUB(d[4], d[2]), b = WSUB(d[3], d[1]);
  o[3] = WFMA(c2, b, a);
  o[4] = WFNMA(c2, b, a);
  o[5] = WFMA(c4, d[1], WFNMA(c5, d[3], d[5]));
}

/* A^T: 6 vectors -> 4 */
static inline __attribute__((always_inline)) void at(const WV m[6], WV o[4]) {
  const WV p12 = WADD(m[1], m[2]), n12 = WSUB(m[1], m[2]);
  const WV p34 = WADD(m[3], m[4]), n34 = WSUB(m[3], m[4]);
  o[0] = WADD(WADD(m[0], p12), p34);
  o[1] = WFMA(WSET1(2.0f), n34, n12);
  o[2] = WFMA(WSET1(4.0f), p34, p12);
  o[3] = WADD(WFMA(WSET1(8.0f), n34, n12), m[5]);
}

static inline __attribute__((always_inline)) void wino_in_block(const float *const *in, int64_t c0, WT tail, float *V,
                                                                int64_t xs) {
  WV u[36];
  for (int j = 0; j < 6; j++) { /* columns: u[6i + j] = (B^T d)[i][j] */
    WV d[6], o[6];
#pragma GCC unroll 6
    for (int i = 0; i < 6; i++) d[i] = WLOAD(in[6 * i + j] + c0, tail);
    bt(d, o);
#pragma GCC unroll 6
    for (int i = 0; i < 6; i++) u[6 * i + j] = o[i];
  }
  for (int i = 0; i < 6; i++) { /* rows */
    WV o[6];
    bt(u + 6 * i, o);
#pragma GCC unroll 6
    for (int j = 0; j < 6; j++) WSTORE(V + (6 * i + j) * xs + c0, tail, o[j]);
  }
}

void WIN(int64_t C, const float *const *in, float *V, int64_t xs) {
  int64_t c0 = 0;
  for (; c0 + WN <= C; c0 += WN) wino_in_block(in, c0, WFULL, V, xs);
  if (c0 < C) wino_in_block(in, c0, WTAIL(C - c0), V, xs);
}

static inline __attribute__((always_inline)) void wino_out_block(const float *O, int64_t xs, int64_t m0, WT tail,
                                                                 const float *bias, int vact, er_act act,
                                                                 float *const *out) {
  WV r[24];
  for (int j = 0; j < 6; j++) { /* columns: r[6i + j] = (A^T O)[i][j], i < 4 */
    WV m[6], o[4];
#pragma GCC unroll 6
    for (int i = 0; i < 6; i++) m[i] = WLOAD(O + (6 * i + j) * xs + m0, tail);
    at(m, o);
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) r[6 * i + j] = o[i];
  }
  const WV b = bias ? WLOAD(bias + m0, tail) : WZERO();
  for (int i = 0; i < 4; i++) { /* rows */
    WV o[4];
    at(r + 6 * i, o);
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
      float *y = out[4 * i + j];
      if (!y) continue;
      WV v = WADD(o[j], b);
      if (vact) v = WACT(v, act);
      WSTORE(y + m0, tail, v);
    }
  }
}

void WOUT(int64_t M, const float *O, int64_t xs, const float *bias, er_act act, float *const *out) {
  const int vact = WACT_REGS(act.kind);
  int64_t m0 = 0;
  for (; m0 + WN <= M; m0 += WN) wino_out_block(O, xs, m0, WFULL, bias, vact, act, out);
  if (m0 < M) wino_out_block(O, xs, m0, WTAIL(M - m0), bias, vact, act, out);
  if (act.kind != ER_ACT_NONE && !vact)
    for (int e = 0; e < 16; e++)
      if (out[e]) WACT_ROW(out[e], M, act);
}
