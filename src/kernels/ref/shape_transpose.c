/*
 * Transpose fast paths (called by transpose_run in ops_shape.c before its generic
 * strided copy).
 *
 * The permutation is first reduced: size-1 dims are dropped and input dims that stay
 * neighbours in the output are merged (NCHW -> NHWC becomes [N, C, HW] -> [N, HW, C]; the
 * attention head split [B, S, H, D] -> [B, H, S, D] becomes [S, H, D] -> [H, S, D]). Then:
 *   - nothing left to permute: one memcpy;
 *   - the innermost input dim stays innermost: copies of contiguous rows (head split /
 *     merge), each output row read from its input offset;
 *   - otherwise the innermost dims of input and output differ: the op is a set of 2-D
 *     transposes (dst[c][r] = src[r][c]) over the plane of those two dims, done in cache
 *     blocks; 32-bit elements go through the micro-kernel table (x32_transpose: AVX2 8x8
 *     register transposes), 1-, 2- and 8-byte elements through blocked portable loops.
 * Work is split over threads by output rows or by strips of 2-D planes; every element is
 * a plain copy, so the result does not depend on the split.
 */
#include <string.h>

#include "kernels/kernel.h"

#define TR_MAXR ER_MAX_RANK
#define TR_BLOCK 16 /* portable 2-D tile */
#define TR_STRIP 64 /* source rows per parallel unit of a 2-D transpose */
#define TR_GRAIN_BYTES 65536

/* Portable 2-D transpose of 32-bit elements (the reference table's x32_transpose). */
void er_x32_transpose_ref(const void *src, int64_t lds, void *dst, int64_t ldd, int64_t rows,
                          int64_t cols) {
  const uint32_t *s = (const uint32_t *)src;
  uint32_t *d = (uint32_t *)dst;
  for (int64_t r0 = 0; r0 < rows; r0 += TR_BLOCK)
    for (int64_t c0 = 0; c0 < cols; c0 += TR_BLOCK) {
      const int64_t r1 = r0 + TR_BLOCK < rows ? r0 + TR_BLOCK : rows;
      const int64_t c1 = c0 + TR_BLOCK < cols ? c0 + TR_BLOCK : cols;
      for (int64_t c = c0; c < c1; c++)
        for (int64_t r = r0; r < r1; r++) d[c * ldd + r] = s[r * lds + c];
    }
}

/* Portable blocked 2-D transposes for the other element sizes. */
#define TR_GENERIC(NAME, T)                                                                 \
  static void NAME(const void *src, int64_t lds, void *dst, int64_t ldd, int64_t rows,      \
                   int64_t cols) {                                                          \
    const T *s = (const T *)src;                                                            \
    T *d = (T *)dst;                                                                        \
    for (int64_t r0 = 0; r0 < rows; r0 += TR_BLOCK)                                         \
      for (int64_t c0 = 0; c0 < cols; c0 += TR_BLOCK) {                                     \
        const int64_t r1 = r0 + TR_BLOCK < rows ? r0 + TR_BLOCK : rows;                     \
        const int64_t c1 = c0 + TR_BLOCK < cols ? c0 + TR_BLOCK : cols;                     \
        for (int64_t c = c0; c < c1; c++)                                                   \
          for (int64_t r = r0; r < r1; r++) d[c * ldd + r] = s[r * lds + c];                \
      }                                                                                     \
  }
TR_GENERIC(tr2d_8_scalar, uint8_t)
TR_GENERIC(tr2d_16_scalar, uint16_t)
TR_GENERIC(tr2d_64, uint64_t)

/* 1- and 2-byte elements: square blocks held in 64-bit words (8 rows of 8 bytes, or 4 rows
 * of 4 halves) transposed by swapping sub-blocks with shifts and masks (3 or 2 rounds);
 * needs little-endian words, else the scalar loops. Edges go element by element. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* swap the high sub-blocks of a with the low ones of b (sh bits, mask m) */
#define SWAP_ROUND(a, b, sh, m)                    \
  do {                                             \
    const uint64_t t_ = (((a) >> (sh)) ^ (b)) & (m); \
    (b) ^= t_;                                     \
    (a) ^= t_ << (sh);                             \
  } while (0)
#define M8 0x00FF00FF00FF00FFull
#define M16 0x0000FFFF0000FFFFull
#define M32 0x00000000FFFFFFFFull

static inline uint64_t ld64(const void *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}
static inline void st64(void *p, uint64_t v) { memcpy(p, &v, 8); }

static inline void block_8x8_bytes(const uint8_t *s, int64_t lds, uint8_t *d, int64_t ldd) {
  uint64_t a0 = ld64(s), a1 = ld64(s + lds), a2 = ld64(s + 2 * lds), a3 = ld64(s + 3 * lds);
  uint64_t a4 = ld64(s + 4 * lds), a5 = ld64(s + 5 * lds), a6 = ld64(s + 6 * lds), a7 = ld64(s + 7 * lds);
  SWAP_ROUND(a0, a1, 8, M8); SWAP_ROUND(a2, a3, 8, M8); SWAP_ROUND(a4, a5, 8, M8); SWAP_ROUND(a6, a7, 8, M8);
  SWAP_ROUND(a0, a2, 16, M16); SWAP_ROUND(a1, a3, 16, M16); SWAP_ROUND(a4, a6, 16, M16); SWAP_ROUND(a5, a7, 16, M16);
  SWAP_ROUND(a0, a4, 32, M32); SWAP_ROUND(a1, a5, 32, M32); SWAP_ROUND(a2, a6, 32, M32); SWAP_ROUND(a3, a7, 32, M32);
  st64(d, a0), st64(d + ldd, a1), st64(d + 2 * ldd, a2), st64(d + 3 * ldd, a3);
  st64(d + 4 * ldd, a4), st64(d + 5 * ldd, a5), st64(d + 6 * ldd, a6), st64(d + 7 * ldd, a7);
}

static inline void block_4x4_halves(const uint16_t *s, int64_t lds, uint16_t *d, int64_t ldd) {
  uint64_t a0 = ld64(s), a1 = ld64(s + lds), a2 = ld64(s + 2 * lds), a3 = ld64(s + 3 * lds);
  SWAP_ROUND(a0, a1, 16, M16); SWAP_ROUND(a2, a3, 16, M16);
  SWAP_ROUND(a0, a2, 32, M32); SWAP_ROUND(a1, a3, 32, M32);
  st64(d, a0), st64(d + ldd, a1), st64(d + 2 * ldd, a2), st64(d + 3 * ldd, a3);
}

#define TR_WORDS(NAME, T, B, BLOCK, SCALAR)                                               \
  static void NAME(const void *src, int64_t lds, void *dst, int64_t ldd, int64_t rows,    \
                   int64_t cols) {                                                        \
    const T *s = (const T *)src;                                                          \
    T *d = (T *)dst;                                                                      \
    const int64_t RB = rows / B * B, CB = cols / B * B;                                   \
    for (int64_t c = 0; c < CB; c += B) {                                                 \
      for (int64_t r = 0; r < RB; r += B) BLOCK(s + r * lds + c, lds, d + c * ldd + r, ldd); \
      if (RB < rows) SCALAR(s + RB * lds + c, lds, d + c * ldd + RB, ldd, rows - RB, B); \
    }                                                                                     \
    if (CB < cols) SCALAR(s + CB, lds, d + CB * ldd, ldd, rows, cols - CB);               \
  }
TR_WORDS(tr2d_8, uint8_t, 8, block_8x8_bytes, tr2d_8_scalar)
TR_WORDS(tr2d_16, uint16_t, 4, block_4x4_halves, tr2d_16_scalar)
#else
#define tr2d_8 tr2d_8_scalar
#define tr2d_16 tr2d_16_scalar
#endif

typedef void (*tr2d_fn)(const void *, int64_t, void *, int64_t, int64_t, int64_t);

/* Reduced problem: input dims rd[0..m) (row-major), output axis i is input axis rp[i]. */
typedef struct {
  int m;
  int64_t rd[TR_MAXR];
  int rp[TR_MAXR];
} tr_reduced;

static void tr_reduce(int rank, const int64_t *dims, const int *perm, tr_reduced *r) {
  int idx[TR_MAXR], k = 0;
  int64_t kd[TR_MAXR];
  for (int a = 0; a < rank; a++) {
    idx[a] = dims[a] == 1 ? -1 : k;
    if (dims[a] != 1) kd[k++] = dims[a];
  }
  int q[TR_MAXR], nq = 0; /* output order over kept axes */
  for (int i = 0; i < rank; i++)
    if (idx[perm[i]] >= 0) q[nq++] = idx[perm[i]];
  /* groups of consecutive input axes in output order */
  int gstart[TR_MAXR], gend[TR_MAXR], ng = 0;
  for (int i = 0; i < nq; i++) {
    if (ng > 0 && q[i] == gend[ng - 1] + 1) gend[ng - 1] = q[i];
    else gstart[ng] = gend[ng] = q[i], ng++;
  }
  /* number the groups in input order */
  int order[TR_MAXR];
  for (int g = 0; g < ng; g++) {
    int pos = 0;
    for (int h = 0; h < ng; h++) pos += gstart[h] < gstart[g];
    order[g] = pos;
  }
  r->m = ng;
  for (int g = 0; g < ng; g++) {
    int64_t p = 1;
    for (int a = gstart[g]; a <= gend[g]; a++) p *= kd[a];
    r->rd[order[g]] = p;
    r->rp[g] = order[g];
  }
}

typedef struct {
  const char *src;
  char *dst;
  size_t es;
  tr_reduced r;
  int64_t ist[TR_MAXR]; /* input element strides of the reduced dims */
  int64_t od[TR_MAXR];  /* output dims */
  int64_t ost[TR_MAXR]; /* output element strides */
  /* 2-D case: plane over input axis `ra` (rows, stride ist[ra]) x innermost input axis
   * (cols, stride 1); in the output the cols run along output axis `pc` */
  int ra, pc;
  int64_t strips;       /* row strips per plane */
  tr2d_fn fn;
} tr_job;

/* Rows case: output rows [b, e) (all output axes but the last), each copied from its input
 * offset; the offset follows an odometer over the output axes. */
static void tr_rows_range(void *arg, int64_t b, int64_t e) {
  const tr_job *j = (const tr_job *)arg;
  const int m = j->r.m;
  const size_t len = (size_t)j->od[m - 1] * j->es;
  int64_t idx[TR_MAXR], st[TR_MAXR], t = b, off = 0;
  for (int i = m - 2; i >= 0; i--) {
    idx[i] = t % j->od[i];
    t /= j->od[i];
    st[i] = j->ist[j->r.rp[i]] * (int64_t)j->es;
    off += idx[i] * st[i];
  }
  char *o = j->dst + (size_t)b * len;
  for (int64_t row = b; row < e; row++, o += len) {
    memcpy(o, j->src + off, len);
    for (int i = m - 2; i >= 0; i--) { /* next row */
      off += st[i];
      if (++idx[i] < j->od[i]) break;
      off -= st[i] * j->od[i];
      idx[i] = 0;
    }
  }
}

/* 2-D case: unit u = (plane, strip of TR_STRIP source rows). */
static void tr_planes_range(void *arg, int64_t b, int64_t e) {
  const tr_job *j = (const tr_job *)arg;
  const int m = j->r.m, ra = j->ra, pc = j->pc;
  const int64_t R = j->r.rd[ra], C = j->r.rd[m - 1];
  for (int64_t u = b; u < e; u++) {
    int64_t plane = u / j->strips, r0 = (u % j->strips) * TR_STRIP;
    int64_t rows = R - r0 < TR_STRIP ? R - r0 : TR_STRIP;
    /* odometer over the output axes other than pc (cols) and m-1 (rows of the plane) */
    int64_t t = plane, ioff = 0, ooff = 0;
    for (int i = m - 2; i >= 0; i--) {
      if (i == pc) continue;
      int64_t x = t % j->od[i];
      t /= j->od[i];
      ioff += x * j->ist[j->r.rp[i]];
      ooff += x * j->ost[i];
    }
    /* src[r][c] at ioff + r * ist[ra] + c; dst at ooff + c * ost[pc] + r */
    j->fn(j->src + (size_t)(ioff + r0 * j->ist[ra]) * j->es, j->ist[ra],
          j->dst + (size_t)(ooff + r0) * j->es, j->ost[pc], rows, C);
  }
}

/* Returns 1 when the fast paths computed y = transpose(x, perm). */
int er_transpose_fast(er_kctx *c, const er_tensor *x, er_tensor *y, const int *perm) {
  size_t es = er_dtype_size(x->dtype);
  int64_t numel = er_tensor_numel(x);
  if (numel == 0) return 1;
  if (es != 1 && es != 2 && es != 4 && es != 8) return 0;
  tr_job j;
  memset(&j, 0, sizeof j);
  j.src = (const char *)x->data;
  j.dst = (char *)y->data;
  j.es = es;
  tr_reduce(x->rank, x->dims, perm, &j.r);
  const int m = j.r.m;
  if (m <= 1) {
    memcpy(j.dst, j.src, (size_t)numel * es);
    return 1;
  }
  int64_t s = 1;
  for (int a = m - 1; a >= 0; a--) j.ist[a] = s, s *= j.r.rd[a];
  for (int i = 0; i < m; i++) j.od[i] = j.r.rd[j.r.rp[i]];
  s = 1;
  for (int i = m - 1; i >= 0; i--) j.ost[i] = s, s *= j.od[i];
  if (j.r.rp[m - 1] == m - 1) { /* innermost dim stays: row copies */
    int64_t rows = numel / j.od[m - 1], row_bytes = j.od[m - 1] * (int64_t)es;
    int64_t grain = row_bytes >= TR_GRAIN_BYTES ? 1 : TR_GRAIN_BYTES / row_bytes;
    er_parallel_for(c, rows, grain, tr_rows_range, &j);
    return 1;
  }
  /* 2-D planes: rows along the input axis that becomes innermost in the output */
  j.ra = j.r.rp[m - 1];
  for (int i = 0; i < m; i++)
    if (j.r.rp[i] == m - 1) j.pc = i;
  const er_microkernels *mk = c->mk ? c->mk : er_microkernels_ref();
  j.fn = es == 4 ? mk->x32_transpose : es == 2 ? tr2d_16 : es == 1 ? tr2d_8 : tr2d_64;
  const int64_t R = j.r.rd[j.ra];
  j.strips = (R + TR_STRIP - 1) / TR_STRIP;
  int64_t planes = numel / (R * j.r.rd[m - 1]);
  int64_t unit_bytes = (R < TR_STRIP ? R : TR_STRIP) * j.r.rd[m - 1] * (int64_t)es;
  int64_t grain = unit_bytes >= TR_GRAIN_BYTES ? 1 : TR_GRAIN_BYTES / unit_bytes;
  er_parallel_for(c, planes * j.strips, grain, tr_planes_range, &j);
  return 1;
}
