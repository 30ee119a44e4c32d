/* Loop nests of the float32 GEMM kernels, shared by f32-gemm-6x16-avx2.c and
 * f32-gemm-8x48-avx512.c (private to src/kernels/x86/). The including file defines
 *   MR, NR          register tile: rows, columns (NR a multiple of PW)
 *   PW              panel width of the packed-B format (16, see f32-gemm.h)
 *   KC, MC          K block bound; rows of A per L2 chunk on the pre-packed path
 *   NC_UNPACKED     columns of op(B) packed at once by the on-the-fly path (stack buffer)
 *   INIT_ZERO / INIT_BIAS / INIT_C, and
 *   run_tile(mr, kc, a, lda, b, panel_stride, c, ldc, nr, init, bias, act)
 *                   one tile over panels b, b + panel_stride, ... (NR / PW of them)
 *   pack_panels(transB, B, ldb, k0, kc, j0, nc, alpha, dst, panel_stride)
 *                   op(B)[k0, k0+kc) x [j0, j0+nc) * alpha as ceil(nc/NR) * NR/PW zero-padded
 *                   panels
 *   GEMM_PACKED_COLS, GEMM_PACKED, GEMM   the names of the three table entries
 * then includes this file.
 *
 * Pre-packed B (weights), per K block (equal blocks of <= KC, a function of K only):
 * chunks of MC rows of A (their slice stays in L2) > tile columns (NR columns: read
 * sequentially once per chunk while the ones used next are prefetched a slice per row tile;
 * weights usually come from L3 or memory) > row tiles. On-the-fly B: K blocks > column
 * blocks of NC_UNPACKED packed into a stack buffer > row tiles (the tile's rows of A copied
 * together when several tile columns reuse them, the next tile's prefetched) > tile columns.
 * The first K block starts from zero, the bias or C; later ones continue from C; the last
 * applies the fused activation. Each element of C sees the same operations for any split of
 * M, or of N at multiples of NR, so threads give identical bits. */

/* K blocks: ceil(K / KC) blocks of equal size (the last may be shorter); depends on K only. */
static inline int64_t k_block(int64_t K) {
  if (K <= 0) return 0;
  int64_t nb = (K + KC - 1) / KC;
  return (K + nb - 1) / nb;
}

/* Rows of A far apart (a large lda, worst at multiples of 4 KB) compete for the same L1
 * sets; a contiguous copy of the tile's rows (kc floats each) avoids that. */
static inline void copy_rows(const float *a, int64_t lda, int64_t mr, int64_t kc, float *dst) {
  for (int64_t r = 0; r < mr; r++) memcpy(dst + r * kc, a + r * lda, sizeof(float) * (size_t)kc);
}

/* Prefetch part `part` of `parts` of the cache lines of rows [0, rows) x [0, kc) of a (the
 * next row tile, fetched piecewise while the current one sweeps its tile columns). */
static inline void prefetch_rows(const float *a, int64_t lda, int64_t rows, int64_t kc,
                                 int64_t part, int64_t parts) {
  const int64_t lpr = (kc + 15) / 16, total = rows * lpr;
  for (int64_t l = part * total / parts, e = (part + 1) * total / parts; l < e; l++)
    _mm_prefetch((const char *)(a + (l / lpr) * lda + (l % lpr) * 16), _MM_HINT_T0);
}

void GEMM_PACKED_COLS(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                      const void *packed, const float *bias, er_act act, float *C, int64_t ldc,
                      int64_t n0, int64_t n1) {
  if (n1 > N) n1 = N;
  if (M <= 0 || n0 >= n1) return;
  const float *P = (const float *)packed;
  const int64_t kcb = k_block(K);
  const er_act *ea = act.kind != ER_ACT_NONE ? &act : NULL;
  if (M <= MR) {
    /* one row tile: stream each tile column whole (all K blocks in a row; the same
     * operations in the same order as below, so the same bits) */
    for (int64_t j = n0; j < n1; j += NR) {
      const int64_t nr = n1 - j < NR ? n1 - j : NR;
      const float *bp = P ? P + (j / PW) * K * PW : NULL;
      int64_t k0 = 0;
      do {
        const int64_t kc = K - k0 < kcb ? K - k0 : kcb;
        const int init = k0 > 0 ? INIT_C : bias ? INIT_BIAS : INIT_ZERO;
        run_tile(M, kc, A + k0, lda, bp ? bp + k0 * PW : NULL, K * PW, C + j, ldc, nr, init,
                 bias ? bias + j : NULL, k0 + kc >= K ? ea : NULL);
        k0 += kc;
      } while (k0 < K);
    }
    return;
  }
  int64_t k0 = 0;
  do { /* at least one pass: K == 0 gives act(bias) */
    const int64_t kc = K - k0 < kcb ? K - k0 : kcb;
    const int init = k0 > 0 ? INIT_C : bias ? INIT_BIAS : INIT_ZERO;
    const er_act *a_last = k0 + kc >= K ? ea : NULL;
    for (int64_t ic = 0; ic < M; ic += MC) {
      const int64_t mc = M - ic < MC ? M - ic : MC, tiles = (mc + MR - 1) / MR;
      for (int64_t j = n0; j < n1; j += NR) {
        const int64_t nr = n1 - j < NR ? n1 - j : NR;
        const float *bp = P + (j / PW) * K * PW + k0 * PW;
        /* the tile column used next (here, in the next chunk, or in the next K block) */
        int64_t jn = j + NR, kn = k0, kcn = kc;
        if (jn >= n1) {
          jn = n0;
          if (ic + MC >= M) kn = k0 + kc, kcn = K - kn < kcb ? K - kn : kcb;
        }
        const float *np = kcn > 0 ? P + (jn / PW) * K * PW + kn * PW : NULL;
        const int64_t npanels = (n1 - jn + PW - 1) / PW < NR / PW ? (n1 - jn + PW - 1) / PW : NR / PW;
        for (int64_t i0 = ic, t = 0; i0 < ic + mc; i0 += MR, t++) {
          const int64_t mr = ic + mc - i0 < MR ? ic + mc - i0 : MR;
          if (np) /* its panels' rows [kn, kn + kcn), one line per row and panel */
            for (int64_t l = t * kcn / tiles, le = (t + 1) * kcn / tiles; l < le; l++)
              for (int64_t q = 0; q < npanels; q++)
                _mm_prefetch((const char *)(np + q * K * PW + l * PW), _MM_HINT_T0);
          run_tile(mr, kc, A + i0 * lda + k0, lda, bp, K * PW, C + i0 * ldc + j, ldc, nr, init,
                   bias ? bias + j : NULL, a_last);
        }
      }
    }
    k0 += kc;
  } while (k0 < K);
}

void GEMM_PACKED(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                 const void *packed, const float *bias, er_act act, float *C, int64_t ldc) {
  GEMM_PACKED_COLS(M, N, K, A, lda, packed, bias, act, C, ldc, 0, N);
}

void GEMM(int transA, int transB, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
          int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  const int degenerate = K <= 0 || alpha == 0.0f;
  if (degenerate || (beta != 0.0f && beta != 1.0f)) { /* C = beta * C first */
    for (int64_t i = 0; i < M; i++) {
      float *cr = C + i * ldc;
      if (beta == 0.0f) memset(cr, 0, sizeof(float) * (size_t)N);
      else if (beta != 1.0f) for (int64_t j = 0; j < N; j++) cr[j] *= beta;
    }
    if (degenerate) return;
  }
  /* from here C holds beta * C_in (or zeros when beta == 0): accumulate into it, except
   * that beta == 0 starts the first K block from zero without reading C */
  float bbuf[KC * NC_UNPACKED] __attribute__((aligned(64)));
  float abuf[MR * KC] __attribute__((aligned(64)));
  const int64_t kcb = k_block(K);
  for (int64_t k0 = 0; k0 < K; k0 += kcb) {
    const int64_t kc = K - k0 < kcb ? K - k0 : kcb;
    const int init = k0 > 0 || beta != 0.0f ? INIT_C : INIT_ZERO;
    for (int64_t jc = 0; jc < N; jc += NC_UNPACKED) {
      const int64_t nc = N - jc < NC_UNPACKED ? N - jc : NC_UNPACKED;
      pack_panels(transB, B, ldb, k0, kc, jc, nc, alpha, bbuf, kc * PW);
      for (int64_t i0 = 0; i0 < M; i0 += MR) {
        const int64_t mr = M - i0 < MR ? M - i0 : MR;
        const float *ai;
        int64_t as;
        if (!transA) {
          ai = A + i0 * lda + k0, as = lda;
          if (nc > NR) {
            copy_rows(ai, lda, mr, kc, abuf);
            ai = abuf, as = kc;
          }
        } else {
          for (int64_t k = 0; k < kc; k++) {
            const float *s = A + (k0 + k) * lda + i0;
            for (int64_t r = 0; r < mr; r++) abuf[r * kc + k] = s[r];
          }
          ai = abuf, as = kc;
        }
        float *ci = C + i0 * ldc + jc;
        const int64_t next_rows = M - i0 - MR < MR ? M - i0 - MR : MR;
        const int64_t parts = (nc + NR - 1) / NR;
        for (int64_t j = 0; j < nc; j += NR) {
          const int64_t nr = nc - j < NR ? nc - j : NR;
          if (!transA && next_rows > 0 && parts > 1)
            prefetch_rows(A + (i0 + MR) * lda + k0, lda, next_rows, kc, j / NR, parts);
          run_tile(mr, kc, ai, as, bbuf + (j / PW) * kc * PW, kc * PW, ci + j, ldc, nr, init,
                   NULL, NULL);
        }
      }
    }
  }
}
