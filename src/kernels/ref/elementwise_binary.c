/*
 * Broadcasting elementwise ops: binary arithmetic / bitwise / logical / comparison,
 * PRelu, Pow (mixed base and exponent types), variadic Sum/Mean/Max/Min, and Where.
 *
 * Design: a row function computes out[i] = f(a[i*sa], b[i*sb]) over one contiguous
 * output row, with input strides 0 (broadcast) or 1. Each op is one expression per type
 * kind: F = floating, S = signed integer (wrap-around via uint64), U = unsigned, B = bool.
 * Generic rows (one per op and kind) load a chunk of either input into a buffer of the
 * kind's widest type (double, int64, uint64, bool), apply the expression and store the
 * chunk back in the element type: double holds every float32/16/bfloat16 value exactly and
 * rounding its +, -, *, / result to the narrower type gives the same bits as computing in
 * that type (53 >= 2 x 24 + 2 bits), and integer results wrap the same when truncated, so
 * one row serves all types of a kind. float32 has typed rows for the common ops (the
 * vectorizing loops; Add/Sub/Mul/Div/Max/Min mostly take elementwise_fast.c first).
 * bcast_apply() walks the broadcast output, merging dimensions so same-shape and
 * scalar operands become one long row.
 */
#include <math.h>
#include <string.h>

#include "kernels/kernel.h"

/* float32 fast paths (elementwise_fast.c): 1 when they computed out = A op B */
int er_ew_f32_binary_fast(er_kctx *c, const er_tensor *A, const er_tensor *B, er_tensor *out);

typedef struct {
  int ta, tb, to;      /* element types (generic rows: Pow with mixed types) */
} bpar;

/* Row function: `n` outputs at o; in[k] advanced by s[k] (0 or 1) per element. */
typedef void (*row_fn)(void *o, const void *const *in, const int64_t *s, int64_t n, const bpar *p);

/* ---- per-kind expressions: OP_K(x, y, C) ---- */
#define WRAP(C, e) ((C)(uint64_t)(e))
#define ADD_F(x, y, C) ((x) + (y))
#define ADD_S(x, y, C) WRAP(C, (uint64_t)(x) + (uint64_t)(y))
#define ADD_U ADD_S
#define SUB_F(x, y, C) ((x) - (y))
#define SUB_S(x, y, C) WRAP(C, (uint64_t)(x) - (uint64_t)(y))
#define SUB_U SUB_S
#define MUL_F(x, y, C) ((x) * (y))
#define MUL_S(x, y, C) WRAP(C, (uint64_t)(x) * (uint64_t)(y))
#define MUL_U MUL_S
/* Integer division truncates toward zero (C and the ONNX tests); x/0 gives 0. */
#define DIV_F(x, y, C) ((x) / (y))
#define DIV_S(x, y, C) ((y) == 0 ? (C)0 : (y) == -1 ? WRAP(C, 0u - (uint64_t)(x)) : (C)((x) / (y)))
#define DIV_U(x, y, C) ((y) == 0 ? (C)0 : (C)((x) / (y)))
/* Mod with fmod=0: result takes the divisor's sign (Python); fmod=1: the dividend's (C). */
#define MOD_F(x, y, C) ((C)mod_py_f64((x), (y)))
#define MOD_S(x, y, C) ((C)mod_py_i64((x), (y)))
#define MOD_U(x, y, C) ((y) == 0 ? (C)0 : (C)((x) % (y)))
#define FMOD_F(x, y, C) ((C)fmod((x), (y)))
#define FMOD_S(x, y, C) ((y) == 0 || (y) == -1 ? (C)0 : (C)((x) % (y)))
#define FMOD_U MOD_U
#define POW_F(x, y, C) ((C)pow((x), (y)))
#define POW_S(x, y, C) ((C)ipow_i64((x), (y)))
#define POW_U(x, y, C) ((C)ipow_u64((x), (y)))
/* bits: the element type's width (a variable of the generic rows) */
#define SHL_U(x, y, C) ((y) >= (uint64_t)bits ? (C)0 : (C)((uint64_t)(x) << (y)))
#define SHR_U(x, y, C) ((y) >= (uint64_t)bits ? (C)0 : (C)((uint64_t)(x) >> (y)))
#define BAND_S(x, y, C) ((C)((x) & (y)))
#define BAND_U BAND_S
#define BOR_S(x, y, C) ((C)((x) | (y)))
#define BOR_U BOR_S
#define BXOR_S(x, y, C) ((C)((x) ^ (y)))
#define BXOR_U BXOR_S
#define AND_B(x, y, C) ((C)((x) != 0 && (y) != 0))
#define OR_B(x, y, C) ((C)((x) != 0 || (y) != 0))
#define XOR_B(x, y, C) ((C)(((x) != 0) != ((y) != 0)))
#define EQ_F(x, y, C) ((x) == (y))
#define EQ_S EQ_F
#define EQ_U EQ_F
#define EQ_B(x, y, C) (((x) != 0) == ((y) != 0))
#define GT_F(x, y, C) ((x) > (y))
#define GT_S GT_F
#define GT_U GT_F
#define GE_F(x, y, C) ((x) >= (y))
#define GE_S GE_F
#define GE_U GE_F
#define LT_F(x, y, C) ((x) < (y))
#define LT_S LT_F
#define LT_U LT_F
#define LE_F(x, y, C) ((x) <= (y))
#define LE_S LE_F
#define LE_U LE_F
/* Max/Min propagate NaN like numpy.maximum/minimum. */
#define MAX_F(x, y, C) (((x) != (x) || (x) > (y)) ? (x) : (y))
#define MAX_S(x, y, C) ((x) > (y) ? (x) : (y))
#define MAX_U MAX_S
#define MIN_F(x, y, C) (((x) != (x) || (x) < (y)) ? (x) : (y))
#define MIN_S(x, y, C) ((x) < (y) ? (x) : (y))
#define MIN_U MIN_S
#define PRELU_F(x, y, C) ((x) < 0 ? (y) * (x) : (x))
#define PRELU_S(x, y, C) ((x) < 0 ? MUL_S(x, y, C) : (x))
#define PRELU_U(x, y, C) ((void)(y), (x)) /* never negative */

static double mod_py_f64(double x, double y) {
  double r = fmod(x, y);
  if (r != 0 && ((r < 0) != (y < 0))) r += y;
  return r;
}
static int64_t mod_py_i64(int64_t x, int64_t y) {
  if (y == 0 || y == -1) return 0;
  int64_t r = x % y;
  if (r != 0 && ((r < 0) != (y < 0))) r += y;
  return r;
}
static uint64_t ipow_u64(uint64_t b, uint64_t e) {
  uint64_t r = 1;
  for (; e; e >>= 1, b *= b)
    if (e & 1) r *= b;
  return r;
}
static int64_t ipow_i64(int64_t b, int64_t e) {
  if (e < 0) return b == 1 ? 1 : b == -1 ? ((e & 1) ? -1 : 1) : 0;
  return (int64_t)ipow_u64((uint64_t)b, (uint64_t)e);
}

/* ---- kinds and chunk conversions ---- */
enum { K_NONE, K_F, K_S, K_U, K_B };
static int kind_of(int dt) {
  switch (dt) {
    case ER_F32: case ER_F64: case ER_F16: case ER_BF16: return K_F;
    case ER_I8: case ER_I16: case ER_I32: case ER_I64: return K_S;
    case ER_U8: case ER_U16: case ER_U32: case ER_U64: return K_U;
    case ER_BOOL: return K_B;
    default: return K_NONE;
  }
}
enum { CH = 256 }; /* elements per chunk */
/* n elements of type dt at p + (i0 + i)*s (s 0 or 1) into d, widened to the kind's type */
static void ld_F(const void *p, int dt, int64_t i0, int64_t s, int64_t n, double *d) {
  for (int64_t i = 0; i < n; i++) d[i] = er_ld(p, dt, (i0 + i) * s);
}
#define LD_INT(NAME, W)                                                                                  \
  static void NAME(const void *p, int dt, int64_t i0, int64_t s, int64_t n, W *d) {                      \
    switch (dt) {                                                                                        \
      case ER_I8: for (int64_t i = 0; i < n; i++) d[i] = (W)((const int8_t *)p)[(i0 + i) * s]; break;    \
      case ER_I16: for (int64_t i = 0; i < n; i++) d[i] = (W)((const int16_t *)p)[(i0 + i) * s]; break;  \
      case ER_I32: for (int64_t i = 0; i < n; i++) d[i] = (W)((const int32_t *)p)[(i0 + i) * s]; break;  \
      case ER_I64: for (int64_t i = 0; i < n; i++) d[i] = (W)((const int64_t *)p)[(i0 + i) * s]; break;  \
      case ER_U16: for (int64_t i = 0; i < n; i++) d[i] = (W)((const uint16_t *)p)[(i0 + i) * s]; break; \
      case ER_U32: for (int64_t i = 0; i < n; i++) d[i] = (W)((const uint32_t *)p)[(i0 + i) * s]; break; \
      case ER_U64: for (int64_t i = 0; i < n; i++) d[i] = (W)((const uint64_t *)p)[(i0 + i) * s]; break; \
      default: for (int64_t i = 0; i < n; i++) d[i] = (W)((const uint8_t *)p)[(i0 + i) * s]; break;     \
    }                                                                                                    \
  }
LD_INT(ld_S, int64_t)
LD_INT(ld_U, uint64_t)
LD_INT(ld_B, uint8_t)
#undef LD_INT
/* n results at element i0 of o (element type dt) */
static void st_F(void *o, int dt, int64_t i0, int64_t n, const double *v) {
  for (int64_t i = 0; i < n; i++) er_st(o, dt, i0 + i, v[i]);
}
static void st_U(void *o, int dt, int64_t i0, int64_t n, const uint64_t *v) { /* truncates: wraps */
  switch (er_dtype_size(dt)) {
    case 1: for (int64_t i = 0; i < n; i++) ((uint8_t *)o)[i0 + i] = (uint8_t)v[i]; break;
    case 2: for (int64_t i = 0; i < n; i++) ((uint16_t *)o)[i0 + i] = (uint16_t)v[i]; break;
    case 4: for (int64_t i = 0; i < n; i++) ((uint32_t *)o)[i0 + i] = (uint32_t)v[i]; break;
    default: for (int64_t i = 0; i < n; i++) ((uint64_t *)o)[i0 + i] = v[i]; break;
  }
}
static void st_S(void *o, int dt, int64_t i0, int64_t n, const int64_t *v) { st_U(o, dt, i0, n, (const uint64_t *)v); }
static void st_B(void *o, int dt, int64_t i0, int64_t n, const uint8_t *v) {
  (void)dt;
  memcpy((uint8_t *)o + i0, v, (size_t)n);
}

/* ---- row generators ---- */
/* Generic row of OP for kind K (compute type C); OUT: SAME (the input type) or BOOL. */
#define OUTT_SAME(C) C
#define OUTT_BOOL(C) uint8_t
#define STORE_SAME(K) st_##K
#define STORE_BOOL(K) st_B
#define GROW(OP, K, C, OUT)                                                                          \
  static void r_##OP##_##K(void *o, const void *const *in, const int64_t *s, int64_t n, const bpar *p) { \
    C x_[CH], y_[CH];                                                                                \
    OUTT_##OUT(C) r_[CH];                                                                            \
    const int bits = 8 * (int)er_dtype_size(p->ta);                                                  \
    (void)bits;                                                                                      \
    for (int64_t i0 = 0; i0 < n; i0 += CH) {                                                         \
      const int64_t m = n - i0 < CH ? n - i0 : CH;                                                   \
      ld_##K(in[0], p->ta, i0, s[0], m, x_);                                                         \
      ld_##K(in[1], p->tb, i0, s[1], m, y_);                                                         \
      for (int64_t i = 0; i < m; i++) {                                                              \
        const C x = x_[i], y = y_[i];                                                                \
        r_[i] = (OUTT_##OUT(C))(OP##_##K(x, y, C));                                                  \
      }                                                                                              \
      STORE_##OUT(K)(o, p->to, i0, m, r_);                                                           \
    }                                                                                                \
  }
#define CTYPE_F double
#define CTYPE_S int64_t
#define CTYPE_U uint64_t
#define CTYPE_B uint8_t

/* float32, typed: three loops (both operands stepping, b broadcast, a broadcast) that
 * vectorize */
#define ROW_F32(OP, OUTT)                                                                            \
  static void r_##OP##_F32(void *o_, const void *const *in, const int64_t *s, int64_t n, const bpar *p) { \
    const float *a = (const float *)in[0], *b = (const float *)in[1];                                \
    OUTT *o = (OUTT *)o_;                                                                            \
    (void)p;                                                                                         \
    if (s[0] && s[1])                                                                                \
      for (int64_t i = 0; i < n; i++) o[i] = (OUTT)OP##_F(a[i], b[i], float);                        \
    else if (s[0]) {                                                                                 \
      const float y = b[0];                                                                          \
      for (int64_t i = 0; i < n; i++) o[i] = (OUTT)OP##_F(a[i], y, float);                           \
    } else                                                                                           \
      for (int64_t i = 0; i < n; i++) o[i] = (OUTT)OP##_F(a[0], b[i * s[1]], float);                 \
  }

/* FOR_KINDS(M, OP, OUT, kinds...): M(OP, K, OUT) for each of 1 to 4 kinds */
#define FOR_KINDS(M, OP, OUT, ...) FK_N(__VA_ARGS__, FK4, FK3, FK2, FK1, -)(M, OP, OUT, __VA_ARGS__)
#define FK_N(a, b, c, d, N, ...) N
#define FK1(M, OP, OUT, a) M(OP, OUT, a)
#define FK2(M, OP, OUT, a, b) M(OP, OUT, a) M(OP, OUT, b)
#define FK3(M, OP, OUT, a, b, c) M(OP, OUT, a) M(OP, OUT, b) M(OP, OUT, c)
#define FK4(M, OP, OUT, a, b, c, d) M(OP, OUT, a) M(OP, OUT, b) M(OP, OUT, c) M(OP, OUT, d)
#define KIND_ROW(OP, OUT, K) GROW(OP, K, CTYPE_##K, OUT)
#define KIND_CASE(OP, OUT, K) \
  if (k == K_##K) return r_##OP##_##K;
/* DEF_OP(OP, OUT, kinds...): the generic rows of OP and OP_fn(dtype) returning the row for
 * a type (NULL if OP does not take it); DEF_OP32 also a typed float32 row. */
#define DEF_OP_(OP, OUT, F32CASE, ...)                \
  FOR_KINDS(KIND_ROW, OP, OUT, __VA_ARGS__)           \
  static row_fn OP##_fn(int dt) {                     \
    const int k = kind_of(dt);                        \
    F32CASE                                           \
    FOR_KINDS(KIND_CASE, OP, OUT, __VA_ARGS__)        \
    return 0;                                         \
  }
#define OUTC_SAME float
#define OUTC_BOOL uint8_t
#define DEF_OP(OP, OUT, ...) DEF_OP_(OP, OUT, , __VA_ARGS__)
#define DEF_OP32(OP, OUT, ...) \
  ROW_F32(OP, OUTC_##OUT) DEF_OP_(OP, OUT, if (dt == ER_F32) return r_##OP##_F32;, __VA_ARGS__)

DEF_OP32(ADD, SAME, F, S, U)
DEF_OP32(SUB, SAME, F, S, U)
DEF_OP32(MUL, SAME, F, S, U)
DEF_OP32(DIV, SAME, F, S, U)
DEF_OP(MOD, SAME, F, S, U)
DEF_OP(FMOD, SAME, F, S, U)
DEF_OP(POW, SAME, F, S, U)
DEF_OP(SHL, SAME, U)
DEF_OP(SHR, SAME, U)
DEF_OP(BAND, SAME, S, U)
DEF_OP(BOR, SAME, S, U)
DEF_OP(BXOR, SAME, S, U)
DEF_OP(AND, SAME, B)
DEF_OP(OR, SAME, B)
DEF_OP(XOR, SAME, B)
DEF_OP32(EQ, BOOL, F, S, U, B)
DEF_OP32(GT, BOOL, F, S, U)
DEF_OP32(GE, BOOL, F, S, U)
DEF_OP32(LT, BOOL, F, S, U)
DEF_OP32(LE, BOOL, F, S, U)
DEF_OP32(MAX, SAME, F, S, U)
DEF_OP32(MIN, SAME, F, S, U)
DEF_OP32(PRELU, SAME, F, S, U)

/* Pow with different base and exponent types: generic loads, output = base type. */
static void pow_mixed(void *o, const void *const *in, const int64_t *s, int64_t n, const bpar *p) {
  int base_float = er_dtype_is_float(p->ta), exp_float = er_dtype_is_float(p->tb);
  for (int64_t i = 0; i < n; i++) {
    size_t ia = (size_t)(i * s[0]), ib = (size_t)(i * s[1]);
    if (base_float || exp_float) {
      double r = pow(er_load_f64(in[0], p->ta, ia), er_load_f64(in[1], p->tb, ib));
      er_store_f64(o, p->to, (size_t)i, r);
    } else {
      int64_t e = er_load_i64(in[1], p->tb, ib);
      if (er_dtype_is_unsigned_int(p->tb) && e < 0) e = INT64_MAX; /* huge uint64 exponent */
      er_store_i64(o, p->to, (size_t)i, ipow_i64(er_load_i64(in[0], p->ta, ia), e));
    }
  }
}

/* ---- broadcast driver ---- */
/* out = f(ins...) over out's shape; every input is broadcastable to it. */
static void bcast_apply(er_tensor *out, const er_tensor *const *ins, int n_in, row_fn fn,
                        const bpar *p) {
  int64_t numel = er_tensor_numel(out);
  if (numel == 0) return;
  int r = out->rank;
  int64_t st[3][ER_MAX_RANK], D[ER_MAX_RANK], S[3][ER_MAX_RANK];
  for (int k = 0; k < n_in; k++) er_broadcast_strides(ins[k], r, out->dims, st[k]);
  /* drop size-1 dims, merge a dim into the previous one when every input's
   * strides are contiguous across the pair (or both broadcast) */
  int m = 0;
  for (int d = 0; d < r; d++) {
    if (out->dims[d] == 1) continue;
    int merge = m > 0;
    for (int k = 0; k < n_in && merge; k++)
      if (S[k][m - 1] != st[k][d] * out->dims[d]) merge = 0;
    if (merge) {
      D[m - 1] *= out->dims[d];
      for (int k = 0; k < n_in; k++) S[k][m - 1] = st[k][d];
    } else {
      D[m] = out->dims[d];
      for (int k = 0; k < n_in; k++) S[k][m] = st[k][d];
      m++;
    }
  }
  if (m == 0) {
    D[0] = 1;
    for (int k = 0; k < n_in; k++) S[k][0] = 0;
    m = 1;
  }
  int64_t inner = D[m - 1], s_in[3], off[3] = {0, 0, 0}, idx[ER_MAX_RANK] = {0};
  size_t esz[3], osz = er_dtype_size(out->dtype);
  for (int k = 0; k < n_in; k++) {
    s_in[k] = S[k][m - 1];
    esz[k] = er_dtype_size(ins[k]->dtype);
  }
  int64_t rows = numel / inner;
  for (int64_t row = 0; row < rows; row++) {
    const void *ptr[3];
    for (int k = 0; k < n_in; k++) ptr[k] = (const char *)ins[k]->data + (size_t)off[k] * esz[k];
    fn((char *)out->data + (size_t)(row * inner) * osz, ptr, s_in, inner, p);
    for (int d = m - 2; d >= 0; d--) { /* odometer over the outer dims */
      for (int k = 0; k < n_in; k++) off[k] += S[k][d];
      if (++idx[d] < D[d]) break;
      for (int k = 0; k < n_in; k++) off[k] -= S[k][d] * D[d];
      idx[d] = 0;
    }
  }
}

/* ---- binary ops ---- */
typedef row_fn (*row_getter)(int dtype);
typedef struct {
  const char *name;
  row_getter get;
  int out_bool;
} binary_op;

/* (ER_OPDEF: a selective-op build keeps the rows of its op types only; the last entry
 * matches no op and keeps the array non-empty) */
static const binary_op binary_ops[] = {
    ER_OPDEF(Add, {"Add", ADD_fn})
    ER_OPDEF(Sub, {"Sub", SUB_fn})
    ER_OPDEF(Mul, {"Mul", MUL_fn})
    ER_OPDEF(Div, {"Div", DIV_fn})
    ER_OPDEF(Mod, {"Mod", MOD_fn})
    ER_OPDEF(Pow, {"Pow", POW_fn})
    ER_OPDEF(BitShift, {"BitShift", SHL_fn})
    ER_OPDEF(BitwiseAnd, {"BitwiseAnd", BAND_fn})
    ER_OPDEF(BitwiseOr, {"BitwiseOr", BOR_fn})
    ER_OPDEF(BitwiseXor, {"BitwiseXor", BXOR_fn})
    ER_OPDEF(And, {"And", AND_fn, 1})
    ER_OPDEF(Or, {"Or", OR_fn, 1})
    ER_OPDEF(Xor, {"Xor", XOR_fn, 1})
    ER_OPDEF(Equal, {"Equal", EQ_fn, 1})
    ER_OPDEF(Greater, {"Greater", GT_fn, 1})
    ER_OPDEF(GreaterOrEqual, {"GreaterOrEqual", GE_fn, 1})
    ER_OPDEF(Less, {"Less", LT_fn, 1})
    ER_OPDEF(LessOrEqual, {"LessOrEqual", LE_fn, 1})
    ER_OPDEF(PRelu, {"PRelu", PRELU_fn})
    {"", 0},
};

static const binary_op *find_binary(const char *name) {
  for (size_t i = 0; i < sizeof binary_ops / sizeof binary_ops[0]; i++)
    if (strcmp(binary_ops[i].name, name) == 0) return &binary_ops[i];
  return 0;
}

/* Pick the row function for the node's op, attributes and input types. */
static er_status select_row(const er_kctx *c, const binary_op *op, row_fn *out_fn) {
  int ta = c->in[0]->dtype, tb = c->in[1]->dtype;
  row_getter get = op->get;
  if (get == MOD_fn) {
    int64_t fm = er_attr_int(c, "fmod", 0);
    if (fm != 0 && fm != 1) return ER_ERR(ER_INVALID_ARGUMENT, "fmod must be 0 or 1, got %lld", (long long)fm);
    if (fm) get = FMOD_fn;
  } else if (get == SHL_fn) {
    const char *dir = er_attr_str(c, "direction", "");
    if (strcmp(dir, "RIGHT") == 0) get = SHR_fn;
    else if (strcmp(dir, "LEFT") != 0)
      return ER_ERR(ER_INVALID_ARGUMENT, "direction must be \"LEFT\" or \"RIGHT\", got \"%s\"", dir);
  }
  if (get == POW_fn && ta != tb) {
    if (!POW_fn(ta) || !POW_fn(tb))
      return ER_ERR(ER_UNSUPPORTED, "Pow of %s by %s is not supported", er_dtype_name((er_dtype)ta),
                    er_dtype_name((er_dtype)tb));
    *out_fn = pow_mixed;
    return 0;
  }
  if (ta != tb)
    return ER_ERR(ER_INVALID_ARGUMENT, "input types differ: %s and %s", er_dtype_name((er_dtype)ta),
                  er_dtype_name((er_dtype)tb));
  *out_fn = get(ta);
  if (!*out_fn)
    return ER_ERR(ER_UNSUPPORTED, "input type %s is not supported", er_dtype_name((er_dtype)ta));
  return 0;
}

/* B viewed for legacy (opset < 7) broadcasting or PRelu's opset < 7 per-channel slope. */
static er_status second_operand(const er_kctx *c, const binary_op *op, er_tensor *view) {
  const er_tensor *a = c->in[0];
  *view = *c->in[1];
  if (c->opset >= 7) return 0;
  int r = view->rank;
  if (op->get == PRELU_fn) {
    /* slope [C] applies along axis 1 of X [N, C, ...] */
    if (r == 1 && a->rank > 2 && view->dims[0] == a->dims[1] && view->dims[0] != 1) {
      view->rank = a->rank - 1;
      for (int i = 1; i < view->rank; i++) view->dims[i] = 1;
    }
    return 0;
  }
  const er_attr *bc = er_attr_get(c, "broadcast");
  if (!bc || bc->i == 0) {
    if (a->rank != r || memcmp(a->dims, view->dims, sizeof(int64_t) * (size_t)r) != 0)
      return ER_ERR(ER_INVALID_ARGUMENT, "input shapes differ and broadcast is not set");
    return 0;
  }
  int64_t axis = er_attr_int(c, "axis", a->rank - r);
  if (axis < 0) axis += a->rank;
  if (axis < 0 || axis + r > a->rank)
    return ER_ERR(ER_INVALID_ARGUMENT, "broadcast axis %lld does not fit input ranks %d and %d",
                  (long long)er_attr_int(c, "axis", 0), a->rank, r);
  view->rank = a->rank;
  for (int i = 0; i < a->rank; i++)
    view->dims[i] = (i >= axis && i < axis + r) ? c->in[1]->dims[i - axis] : 1;
  return 0;
}

er_status er_ew_binary_infer(er_kctx *c) {
  const binary_op *op = find_binary(c->node->op_type);
  if (!op) return ER_ERR(ER_INTERNAL, "no binary kernel for %s", c->node->op_type);
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 2));
  row_fn fn;
  ER_RETURN_IF_ERROR(select_row(c, op, &fn));
  er_tensor b;
  ER_RETURN_IF_ERROR(second_operand(c, op, &b));
  const er_tensor *ts[2] = {c->in[0], &b};
  int rank;
  int64_t dims[ER_MAX_RANK];
  ER_RETURN_IF_ERROR(er_broadcast_shape(ts, 2, &rank, dims));
  if (op->get == PRELU_fn &&
      (rank != ts[0]->rank || memcmp(dims, ts[0]->dims, sizeof(int64_t) * (size_t)rank) != 0))
    return ER_ERR(ER_INVALID_ARGUMENT, "slope must broadcast to the shape of X");
  if (!er_out(c, 0)) return ER_ERR(ER_INVALID_MODEL, "output 0 is missing");
  er_tensor_set_shape(c->out[0], op->out_bool ? ER_BOOL : c->in[0]->dtype, rank, dims);
  return 0;
}

er_status er_ew_binary_run(er_kctx *c) {
  const binary_op *op = find_binary(c->node->op_type);
  if (!op) return ER_ERR(ER_INTERNAL, "no binary kernel for %s", c->node->op_type);
  row_fn fn;
  ER_RETURN_IF_ERROR(select_row(c, op, &fn));
  er_tensor b;
  ER_RETURN_IF_ERROR(second_operand(c, op, &b));
  const er_tensor *ts[2] = {c->in[0], &b};
  if (er_ew_f32_binary_fast(c, ts[0], ts[1], c->out[0])) return 0;
  bpar p = {c->in[0]->dtype, b.dtype, c->out[0]->dtype};
  bcast_apply(c->out[0], ts, 2, fn, &p);
  return 0;
}

/* ---- variadic: Sum, Mean, Max, Min ---- */
static row_getter variadic_getter(const char *name) {
  if (strcmp(name, "Sum") == 0 || strcmp(name, "Mean") == 0) return ADD_fn;
  if (strcmp(name, "Max") == 0) return MAX_fn;
  if (strcmp(name, "Min") == 0) return MIN_fn;
  return 0;
}

er_status er_ew_variadic_infer(er_kctx *c) {
  row_getter get = variadic_getter(c->node->op_type);
  if (!get) return ER_ERR(ER_INTERNAL, "no variadic kernel for %s", c->node->op_type);
  if (c->n_in < 1) return ER_ERR(ER_INVALID_MODEL, "expects at least one input");
  const er_tensor *ts[64];
  if (c->n_in > 64) return ER_ERR(ER_UNSUPPORTED, "more than 64 inputs");
  int dt = c->in[0] ? c->in[0]->dtype : 0;
  for (int i = 0; i < c->n_in; i++) {
    if (!c->in[i]) return ER_ERR(ER_INVALID_MODEL, "input %d is missing", i);
    if (c->in[i]->dtype != dt)
      return ER_ERR(ER_INVALID_ARGUMENT, "input %d has type %s, expected %s", i,
                    er_dtype_name((er_dtype)c->in[i]->dtype), er_dtype_name((er_dtype)dt));
    ts[i] = c->in[i];
  }
  int is_mean = strcmp(c->node->op_type, "Mean") == 0;
  if (!get(dt) || (is_mean && !er_dtype_is_float(dt)))
    return ER_ERR(ER_UNSUPPORTED, "input type %s is not supported", er_dtype_name((er_dtype)dt));
  int rank;
  int64_t dims[ER_MAX_RANK];
  ER_RETURN_IF_ERROR(er_broadcast_shape(ts, c->n_in, &rank, dims));
  if (!er_out(c, 0)) return ER_ERR(ER_INVALID_MODEL, "output 0 is missing");
  er_tensor_set_shape(c->out[0], dt, rank, dims);
  return 0;
}

/* Copy with broadcasting: row of one input. */
static void copy_row(void *o, const void *const *in, const int64_t *s, int64_t n, const bpar *p) {
  size_t sz = er_dtype_size(p->to);
  if (s[0]) {
    memcpy(o, in[0], (size_t)n * sz);
    return;
  }
  for (int64_t i = 0; i < n; i++) memcpy((char *)o + (size_t)i * sz, in[0], sz);
}

er_status er_ew_variadic_run(er_kctx *c) {
  row_fn fn = variadic_getter(c->node->op_type)(c->in[0]->dtype);
  er_tensor *out = c->out[0];
  bpar p = {out->dtype, out->dtype, out->dtype};
  if (c->n_in == 1) {
    const er_tensor *ts[1] = {c->in[0]};
    bcast_apply(out, ts, 1, copy_row, &p);
  } else {
    const er_tensor *ts[2] = {c->in[0], c->in[1]};
    if (!er_ew_f32_binary_fast(c, ts[0], ts[1], out)) bcast_apply(out, ts, 2, fn, &p);
    for (int i = 2; i < c->n_in; i++) { /* accumulate in place: out = f(out, in[i]) */
      ts[0] = out;
      ts[1] = c->in[i];
      if (!er_ew_f32_binary_fast(c, ts[0], ts[1], out)) bcast_apply(out, ts, 2, fn, &p);
    }
  }
  if (strcmp(c->node->op_type, "Mean") == 0 && c->n_in > 1) {
    int64_t n = er_tensor_numel(out);
    if (out->dtype == ER_F32) {
      float *o = (float *)out->data, k = (float)c->n_in;
      for (int64_t i = 0; i < n; i++) o[i] /= k;
    } else {
      for (int64_t i = 0; i < n; i++)
        er_store_f64(out->data, out->dtype, (size_t)i,
                     er_load_f64(out->data, out->dtype, (size_t)i) / c->n_in);
    }
  }
  return 0;
}

/* ---- Where ---- */
#define WHERE_ROW(T)                                                                       \
  static void where_##T(void *o_, const void *const *in, const int64_t *s, int64_t n,     \
                        const bpar *p) {                                                   \
    const uint8_t *cond = (const uint8_t *)in[0];                                          \
    const T *x = (const T *)in[1], *y = (const T *)in[2];                                  \
    T *o = (T *)o_;                                                                        \
    (void)p;                                                                               \
    for (int64_t i = 0; i < n; i++) o[i] = cond[i * s[0]] ? x[i * s[1]] : y[i * s[2]];     \
  }
WHERE_ROW(uint8_t)
WHERE_ROW(uint16_t)
WHERE_ROW(uint32_t)
WHERE_ROW(uint64_t)

static row_fn where_fn(int dtype) {
  switch (er_dtype_size(dtype)) {
    case 1: return where_uint8_t;
    case 2: return where_uint16_t;
    case 4: return where_uint32_t;
    case 8: return where_uint64_t;
    default: return 0;
  }
}

er_status er_ew_where_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 3, 3));
  const er_tensor *cond = c->in[0], *x = c->in[1], *y = c->in[2];
  if (cond->dtype != ER_BOOL)
    return ER_ERR(ER_INVALID_ARGUMENT, "condition must be bool, got %s", er_dtype_name((er_dtype)cond->dtype));
  if (x->dtype != y->dtype)
    return ER_ERR(ER_INVALID_ARGUMENT, "X and Y types differ: %s and %s", er_dtype_name((er_dtype)x->dtype),
                  er_dtype_name((er_dtype)y->dtype));
  if (!where_fn(x->dtype))
    return ER_ERR(ER_UNSUPPORTED, "type %s is not supported", er_dtype_name((er_dtype)x->dtype));
  const er_tensor *ts[3] = {cond, x, y};
  int rank;
  int64_t dims[ER_MAX_RANK];
  ER_RETURN_IF_ERROR(er_broadcast_shape(ts, 3, &rank, dims));
  if (!er_out(c, 0)) return ER_ERR(ER_INVALID_MODEL, "output 0 is missing");
  er_tensor_set_shape(c->out[0], x->dtype, rank, dims);
  return 0;
}

er_status er_ew_where_run(er_kctx *c) {
  const er_tensor *ts[3] = {c->in[0], c->in[1], c->in[2]};
  bpar p = {0, 0, c->out[0]->dtype};
  bcast_apply(c->out[0], ts, 3, where_fn(c->in[1]->dtype), &p);
  return 0;
}
