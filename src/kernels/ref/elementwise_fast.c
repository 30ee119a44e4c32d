/*
 * float32 fast paths for the elementwise family.
 *
 * Plain C loops over contiguous float arrays, one loop per op with no per-element
 * function pointer and (for the simple ops) no double conversion, so gcc -O2
 * auto-vectorizes them. Large tensors are split over the thread pool; every element is
 * computed independently, so results do not depend on the thread count.
 *
 * Unary: er_ew_f32_unary_fast / er_ew_f32_clip_fast. Binary: er_ew_f32_binary_fast
 * handles operands that, after merging dimensions, are same-shape, scalar, a repeated
 * row (bias over the last dims) or a per-row scalar (per-channel [C,1,1] patterns);
 * it returns 0 for anything else and the caller uses the generic broadcast walker.
 * Output 0 may alias input 0 (ER_OP_INPLACE): every loop reads element i before
 * writing element i and nothing else.
 */
/* gcc -O2 uses the "very cheap" vectorizer cost model, which refuses loops that need a
 * runtime aliasing check (output 0 may alias input 0 here); enable the normal model for
 * this file only, and let it if-convert float compares (FP exception flags are not
 * observable to models; values are unchanged). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic", "no-trapping-math")
#endif
#include <math.h>
#include <string.h>

#include "kernels/kernel.h"
#include "kernels/vmath.h"

/* Test hook: non-zero disables every fast path (unit tests compare both paths). */
int er_ew_f32_fast_disabled;

enum {
  U_RELU = 1, U_LEAKY, U_HSIGMOID, U_HSWISH, U_NEG, U_ABS, U_SIGMOID, U_TANH, U_EXP, U_ERF,
  U_GELU, U_GELU_TANH, U_CLIP, U_SQRT, U_RECIP
};
enum { B_ADD = 1, B_SUB, B_MUL, B_DIV, B_MAX, B_MIN,
       B_POW1, B_POW2, B_POW3, B_POW_HALF, B_POW_M1 }; /* Pow by a scalar 1, 2, 3, 0.5, -1 */

/* Elements per thread chunk, and below which an op stays on one thread: waking a second
 * thread costs ~10-50 us, more than a short memory-bound loop. Transcendental unary ops
 * (sigmoid, tanh, exp, erf, gelu) do more work per element and split sooner. */
#define GRAIN 65536
#define GRAIN_HEAVY 16384

/* ---- unary ---- */
typedef struct {
  int kind;
  const float *x;
  float *y;
  float a, b;
  const er_microkernels *mk;
} ujob;

/* Transcendental ops go to the micro-kernel table's vector functions (kernels/vmath.h). */
static int vfunc_of(int kind) {
  switch (kind) {
    case U_SIGMOID: return ER_VF_SIGMOID;
    case U_TANH: return ER_VF_TANH;
    case U_EXP: return ER_VF_EXP;
    case U_ERF: return ER_VF_ERF;
    case U_GELU: return ER_VF_GELU;
    case U_GELU_TANH: return ER_VF_GELU_TANH;
    default: return 0;
  }
}

static void unary_range(void *arg, int64_t begin, int64_t end) {
  const ujob *j = (const ujob *)arg;
  const float *x = j->x + begin;
  float *y = j->y + begin;
  int64_t n = end - begin;
  const float a = j->a, b = j->b;
  int vf = vfunc_of(j->kind);
  if (vf) {
    j->mk->f32_vunary(vf, x, y, n);
    return;
  }
  switch (j->kind) {
    case U_RELU:
      for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        y[i] = v > 0.0f ? v : (v == v ? 0.0f : v);
      }
      break;
    case U_LEAKY:
      for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        y[i] = v * (v < 0.0f ? a : 1.0f); /* v * 1 == v exactly */
      }
      break;
    case U_HSIGMOID:
      for (int64_t i = 0; i < n; i++) {
        float t = a * x[i] + b;
        t = t < 1.0f ? t : 1.0f; /* NaN -> 1 like fmax(0, fmin(1, t)) */
        y[i] = t > 0.0f ? t : 0.0f;
      }
      break;
    case U_HSWISH:
      for (int64_t i = 0; i < n; i++) {
        float v = x[i], t = v * (1.0f / 6.0f) + 0.5f;
        t = t < 1.0f ? t : 1.0f;
        y[i] = v * (t > 0.0f ? t : 0.0f);
      }
      break;
    case U_CLIP: /* a = lower bound, b = upper (+-inf when absent) */
      for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        v = v < a ? a : v;
        y[i] = v > b ? b : v;
      }
      break;
    case U_NEG:
      for (int64_t i = 0; i < n; i++) y[i] = -x[i];
      break;
    case U_ABS:
      for (int64_t i = 0; i < n; i++) y[i] = fabsf(x[i]);
      break;
    /* correctly rounded in float, so equal to the generic (float)sqrt((double)x), 1.0 / x */
    case U_SQRT:
      for (int64_t i = 0; i < n; i++) y[i] = sqrtf(x[i]);
      break;
    case U_RECIP:
      for (int64_t i = 0; i < n; i++) y[i] = 1.0f / x[i];
      break;
    default:
      break;
  }
}

static void run_unary(er_kctx *c, int kind, float a, float b) {
  ujob j = {kind, (const float *)c->in[0]->data, (float *)c->out[0]->data, a, b,
            c->mk ? c->mk : er_microkernels_ref()};
  int64_t n = er_tensor_numel(c->in[0]);
  int64_t grain = vfunc_of(kind) ? GRAIN_HEAVY : GRAIN;
  if (n <= grain) unary_range(&j, 0, n);
  else er_parallel_for(c, n, grain, unary_range, &j);
}

static int unary_kind(const char *op, int gelu_tanh) {
  static const struct { const char *name; int kind; } map[] = {
      {"Relu", U_RELU}, {"LeakyRelu", U_LEAKY}, {"HardSigmoid", U_HSIGMOID},
      {"HardSwish", U_HSWISH}, {"Neg", U_NEG}, {"Abs", U_ABS}, {"Sigmoid", U_SIGMOID}, {"Sqrt", U_SQRT}, {"Reciprocal", U_RECIP},
      {"Tanh", U_TANH}, {"Exp", U_EXP}, {"Erf", U_ERF}, {"Gelu", U_GELU},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(op, map[i].name) == 0) return map[i].kind == U_GELU && gelu_tanh ? U_GELU_TANH : map[i].kind;
  return 0;
}

int er_ew_f32_unary_fast(er_kctx *c, float alpha, float beta, int gelu_tanh) {
  if (er_ew_f32_fast_disabled || c->in[0]->dtype != ER_F32 || c->out[0]->dtype != ER_F32) return 0;
  int kind = unary_kind(c->node->op_type, gelu_tanh);
  if (!kind) return 0;
  run_unary(c, kind, alpha, beta);
  return 1;
}

/* lo/hi: one float each (possibly unaligned), or NULL for no bound */
int er_ew_f32_clip_fast(er_kctx *c, const void *lo, const void *hi) {
  if (er_ew_f32_fast_disabled || c->in[0]->dtype != ER_F32) return 0;
  float l = -INFINITY, h = INFINITY;
  if (lo) memcpy(&l, lo, sizeof l);
  if (hi) memcpy(&h, hi, sizeof h);
  run_unary(c, U_CLIP, l, h);
  return 1;
}

/* ---- binary ---- */
/* Operand access pattern within one output row. */
enum { P_VEC, P_SCALAR };

/* out[0..n) = a op b, with a/b either vectors or single values (at index 0). */
#define BIN_LOOPS(EXPR)                                                      \
  if (pa == P_VEC && pb == P_VEC)                                            \
    for (int64_t i = 0; i < n; i++) {                                        \
      float x = a[i], y = b[i];                                              \
      o[i] = (EXPR);                                                         \
    }                                                                        \
  else if (pa == P_VEC) {                                                    \
    const float y = b[0];                                                    \
    for (int64_t i = 0; i < n; i++) {                                        \
      float x = a[i];                                                        \
      o[i] = (EXPR);                                                         \
    }                                                                        \
  } else {                                                                   \
    const float x = a[0];                                                    \
    for (int64_t i = 0; i < n; i++) {                                        \
      float y = b[i];                                                        \
      o[i] = (EXPR);                                                         \
    }                                                                        \
  }

static void bin_row(int op, float *o, const float *a, int pa, const float *b, int pb, int64_t n) {
  switch (op) {
    case B_ADD: BIN_LOOPS(x + y) break;
    case B_SUB: BIN_LOOPS(x - y) break;
    case B_MUL: BIN_LOOPS(x * y) break;
    case B_DIV: BIN_LOOPS(x / y) break;
    /* NaN propagates like numpy.maximum/minimum (same expression as the generic path) */
    case B_MAX: BIN_LOOPS((x != x || x > y) ? x : y) break;
    case B_MIN: BIN_LOOPS((x != x || x < y) ? x : y) break;
    /* Pow by these exponents, bit for bit as the generic path's (float)pow((double)x, y):
     * x*x and 1/x are exact or correctly rounded either way, x*x*x in double has one
     * rounding like pow, and float sqrt is the rounded double sqrt (pow(-0, 0.5) = +0 and
     * pow(-inf, 0.5) = +inf, where sqrt differs). */
    case B_POW1: BIN_LOOPS(((void)y, x)) break;
    case B_POW2: BIN_LOOPS(((void)y, x * x)) break;
    case B_POW3: BIN_LOOPS(((void)y, (float)((double)x * x * x))) break;
    case B_POW_HALF: BIN_LOOPS(((void)y, x == -INFINITY ? INFINITY : sqrtf(x) + 0.0f)) break;
    case B_POW_M1: BIN_LOOPS(((void)y, 1.0f / x)) break;
    default: break;
  }
}

/* The output viewed as rows of `inner` elements over up to 2 outer dims (D0 x D1); each
 * operand has element strides s[0], s[1] for the outer dims and pattern p within a row. */
typedef struct {
  int op;
  float *o;
  const float *x[2];
  int64_t inner, D1;
  int64_t s[2][2];
  int p[2];
} bjob;

static void binary_range(void *arg, int64_t begin, int64_t end) {
  const bjob *j = (const bjob *)arg;
  for (int64_t r = begin; r < end; r++) {
    int64_t r0 = r / j->D1, r1 = r % j->D1;
    const float *a = j->x[0] + r0 * j->s[0][0] + r1 * j->s[0][1];
    const float *b = j->x[1] + r0 * j->s[1][0] + r1 * j->s[1][1];
    bin_row(j->op, j->o + r * j->inner, a, j->p[0], b, j->p[1], j->inner);
  }
}

/* m == 1 (same shape / scalar): elements [begin, end) of the single row. */
static void flat_range(void *arg, int64_t begin, int64_t end) {
  const bjob *j = (const bjob *)arg;
  const float *a = j->x[0] + (j->p[0] == P_VEC ? begin : 0);
  const float *b = j->x[1] + (j->p[1] == P_VEC ? begin : 0);
  bin_row(j->op, j->o + begin, a, j->p[0], b, j->p[1], end - begin);
}

static int binary_kind(const char *op) {
  static const struct { const char *name; int kind; } map[] = {
      {"Add", B_ADD}, {"Sub", B_SUB}, {"Mul", B_MUL}, {"Div", B_DIV},
      {"Sum", B_ADD}, {"Mean", B_ADD}, {"Max", B_MAX}, {"Min", B_MIN},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(op, map[i].name) == 0) return map[i].kind;
  return 0;
}

int er_ew_f32_binary_fast(er_kctx *c, const er_tensor *A, const er_tensor *B, er_tensor *out) {
  if (er_ew_f32_fast_disabled || A->dtype != ER_F32 || B->dtype != ER_F32 || out->dtype != ER_F32)
    return 0;
  int op = binary_kind(c->node->op_type);
  if (!op && strcmp(c->node->op_type, "Pow") == 0 && er_tensor_numel(B) == 1) {
    float e = *(const float *)B->data;
    op = e == 1.0f ? B_POW1 : e == 2.0f ? B_POW2 : e == 3.0f ? B_POW3 : e == 0.5f ? B_POW_HALF : e == -1.0f ? B_POW_M1 : 0;
  }
  if (!op) return 0;
  int64_t numel = er_tensor_numel(out);
  if (numel == 0) return 1;
  /* merged dims: drop size-1 dims, merge neighbours that are contiguous for both */
  const er_tensor *ts[2] = {A, B};
  int r = out->rank, m = 0;
  int64_t st[2][ER_MAX_RANK], D[ER_MAX_RANK], S[2][ER_MAX_RANK];
  for (int k = 0; k < 2; k++) er_broadcast_strides(ts[k], r, out->dims, st[k]);
  for (int d = 0; d < r; d++) {
    if (out->dims[d] == 1) continue;
    int merge = m > 0;
    for (int k = 0; k < 2 && merge; k++)
      if (S[k][m - 1] != st[k][d] * out->dims[d]) merge = 0;
    if (merge) {
      D[m - 1] *= out->dims[d];
      for (int k = 0; k < 2; k++) S[k][m - 1] = st[k][d];
    } else {
      D[m] = out->dims[d];
      for (int k = 0; k < 2; k++) S[k][m] = st[k][d];
      m++;
    }
  }
  if (m == 0) {
    D[0] = 1;
    S[0][0] = S[1][0] = 0;
    m = 1;
  }
  bjob j;
  memset(&j, 0, sizeof j);
  j.op = op;
  j.o = (float *)out->data;
  j.x[0] = (const float *)A->data;
  j.x[1] = (const float *)B->data;
  int64_t rows;
  if (m == 1) {
    /* same shape and/or scalar: split one long row into chunks of GRAIN */
    for (int k = 0; k < 2; k++) {
      if (S[k][0] > 1) return 0;
      j.p[k] = S[k][0] ? P_VEC : P_SCALAR;
    }
    if (j.p[0] == P_SCALAR && j.p[1] == P_SCALAR) return 0;
    if (numel <= GRAIN) {
      bin_row(op, j.o, j.x[0], j.p[0], j.x[1], j.p[1], numel);
      return 1;
    }
    j.inner = numel; /* the whole tensor is one row; flat_range splits it */
    er_parallel_for(c, numel, GRAIN, flat_range, &j);
    return 1;
  } else if (m <= 3) {
    /* rows over the (up to 2) outer merged dims; the innermost dim is the row */
    j.inner = D[m - 1];
    for (int k = 0; k < 2; k++) {
      if (S[k][m - 1] > 1) return 0;
      j.p[k] = S[k][m - 1] ? P_VEC : P_SCALAR;
      j.s[k][0] = m == 3 ? S[k][0] : 0;
      j.s[k][1] = S[k][m - 2];
    }
    if (j.p[0] == P_SCALAR && j.p[1] == P_SCALAR) return 0;
    j.D1 = D[m - 2];
    rows = numel / j.inner;
  } else {
    return 0;
  }
  int64_t grain = j.inner >= GRAIN ? 1 : GRAIN / j.inner;
  if (rows <= grain) binary_range(&j, 0, rows);
  else er_parallel_for(c, rows, grain, binary_range, &j);
  return 1;
}
