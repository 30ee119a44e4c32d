#include "base/dtype.h"

#include <math.h>
#include <string.h>

size_t er_dtype_size(int t) {
  switch (t) {
    case ER_F32: case ER_I32: case ER_U32: return 4;
    case ER_F64: case ER_I64: case ER_U64: return 8;
    case ER_F16: case ER_BF16: case ER_I16: case ER_U16: return 2;
    case ER_U8: case ER_I8: case ER_BOOL:
    case ER_F8E4M3FN: case ER_F8E4M3FNUZ: case ER_F8E5M2: case ER_F8E5M2FNUZ:
    case ER_U4: case ER_I4: case ER_F4E2M1: return 1;
    case ER_DT_SEQUENCE: case ER_DT_OPTIONAL: return 1;
    default: return 0;
  }
}

int er_dtype_is_float(int t) {
  return t == ER_F32 || t == ER_F64 || t == ER_F16 || t == ER_BF16 || t == ER_F8E4M3FN ||
         t == ER_F8E4M3FNUZ || t == ER_F8E5M2 || t == ER_F8E5M2FNUZ || t == ER_F4E2M1;
}
int er_dtype_is_signed_int(int t) {
  return t == ER_I8 || t == ER_I16 || t == ER_I32 || t == ER_I64 || t == ER_I4;
}
int er_dtype_is_unsigned_int(int t) {
  return t == ER_U8 || t == ER_U16 || t == ER_U32 || t == ER_U64 || t == ER_U4 || t == ER_BOOL;
}
int er_dtype_is_numeric(int t) { return er_dtype_size(t) != 0 && t != ER_DT_SEQUENCE && t != ER_DT_OPTIONAL; }

const char *er_dtype_name(er_dtype t) {
  static const char *names[] = {"undefined", "float32", "uint8", "int8", "uint16", "int16",
                                "int32", "int64", "string", "bool", "float16", "float64",
                                "uint32", "uint64", "complex64", "complex128", "bfloat16",
                                "float8e4m3fn", "float8e4m3fnuz", "float8e5m2",
                                "float8e5m2fnuz", "uint4", "int4", "float4e2m1"};
  if ((int)t == ER_DT_SEQUENCE) return "sequence";
  if ((int)t == ER_DT_OPTIONAL) return "optional";
  if ((int)t < 0 || (size_t)t >= sizeof names / sizeof names[0]) return "unknown";
  return names[t];
}

static uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

float er_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  if (exp == 0) {
    if (man == 0) return u2f(sign);
    float v = ldexpf((float)man, -24); /* subnormal */
    return sign ? -v : v;
  }
  if (exp == 31) return u2f(sign | 0x7f800000u | (man << 13));
  return u2f(sign | ((exp + 112) << 23) | (man << 13));
}

uint16_t er_f32_to_f16(float f) {
  uint32_t u = f2u(f);
  uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
  uint32_t exp = (u >> 23) & 0xff, man = u & 0x7fffff;
  if (exp == 0xff) return (uint16_t)(sign | 0x7c00 | (man ? 0x200 : 0));
  int e = (int)exp - 127 + 15;
  if (e >= 31) return (uint16_t)(sign | 0x7c00);
  if (e <= 0) {
    if (e < -10) return sign;
    man |= 0x800000;
    int shift = 14 - e;
    uint32_t half = man >> shift;
    uint32_t rem = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) half++;
    return (uint16_t)(sign | half);
  }
  uint32_t half = ((uint32_t)e << 10) | (man >> 13);
  uint32_t rem = man & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) half++; /* may carry into exp: fine */
  return (uint16_t)(sign | half);
}

float er_bf16_to_f32(uint16_t h) { return u2f((uint32_t)h << 16); }
uint16_t er_f32_to_bf16(float f) {
  uint32_t u = f2u(f);
  if ((u & 0x7fffffff) > 0x7f800000) return (uint16_t)((u >> 16) | 0x40);
  u += 0x7fff + ((u >> 16) & 1);
  return (uint16_t)(u >> 16);
}

/* ---- float8 / float4: table-free generic decode, nearest-even encode ---- */
typedef struct { int ebits, mbits, bias, fnuz, has_inf; } mini_fmt;

static mini_fmt fmt_of(int dtype) {
  switch (dtype) {
    case ER_F8E4M3FN: return (mini_fmt){4, 3, 7, 0, 0};
    case ER_F8E4M3FNUZ: return (mini_fmt){4, 3, 8, 1, 0};
    case ER_F8E5M2: return (mini_fmt){5, 2, 15, 0, 1};
    case ER_F8E5M2FNUZ: return (mini_fmt){5, 2, 16, 1, 0};
    default: return (mini_fmt){2, 1, 1, 0, 0}; /* float4e2m1 */
  }
}

/* Decode; returns NaN for NaN codes. `nbits` total bits. */
static float mini_decode(uint32_t v, mini_fmt m, int is_f4) {
  int nbits = 1 + m.ebits + m.mbits;
  uint32_t sign = (v >> (nbits - 1)) & 1;
  uint32_t exp = (v >> m.mbits) & ((1u << m.ebits) - 1);
  uint32_t man = v & ((1u << m.mbits) - 1);
  if (!is_f4) {
    if (m.fnuz && v == 0x80) return NAN;
    if (!m.fnuz && !m.has_inf && exp == (1u << m.ebits) - 1 && man == (1u << m.mbits) - 1)
      return NAN; /* e4m3fn: S.1111.111 */
    if (m.has_inf && exp == (1u << m.ebits) - 1) return man ? NAN : (sign ? -INFINITY : INFINITY);
  }
  float r;
  if (exp == 0) r = ldexpf((float)man, 1 - m.bias - m.mbits);
  else r = ldexpf((float)(man | (1u << m.mbits)), (int)exp - m.bias - m.mbits);
  return sign ? -r : r;
}

static uint8_t mini_encode(float f, mini_fmt m, int is_f4, int saturate) {
  int nbits = 1 + m.ebits + m.mbits;
  uint32_t signbit = 1u << (nbits - 1);
  int neg = signbit && (f2u(f) >> 31);
  if (isnan(f)) {
    if (is_f4) return 0x7;
    if (m.fnuz) return 0x80;
    if (m.has_inf) return 0x7f; /* e5m2 NaN */
    return 0x7f;
  }
  float a = fabsf(f);
  /* find largest finite magnitude code */
  uint32_t best = 0;
  float maxv = 0;
  uint32_t maxcode = 0;
  for (uint32_t c = 0; c < signbit; c++) {
    float d = mini_decode(c, m, is_f4);
    if (isnan(d) || isinf(d)) continue;
    if (d > maxv) { maxv = d; maxcode = c; }
  }
  if (isinf(a) || a > maxv) {
    int overflow = 1;
    if (!isinf(a)) {
      /* values within half an ulp above max round down to max */
      float prev = 0;
      for (uint32_t c = 0; c < signbit; c++) {
        float d = mini_decode(c, m, is_f4);
        if (!isnan(d) && !isinf(d) && d < maxv && d > prev) prev = d;
      }
      float half = maxv + (maxv - prev) / 2;
      if (a < half || (a == half && (maxcode & 1) == 0)) overflow = 0; /* ties to even */
    }
    if (overflow) {
      if (saturate || is_f4) best = maxcode;
      else if (m.has_inf) best = ((1u << m.ebits) - 1) << m.mbits; /* inf */
      else if (m.fnuz) return 0x80;
      else return (uint8_t)(neg ? 0xff : 0x7f);
    } else {
      best = maxcode;
    }
  } else {
    float bd = INFINITY;
    for (uint32_t c = 0; c < signbit; c++) {
      float d = mini_decode(c, m, is_f4);
      if (isnan(d) || isinf(d)) continue;
      float e = fabsf(d - a);
      if (e < bd || (e == bd && (c & 1) == 0)) { bd = e; best = c; }
    }
  }
  if (neg && !(m.fnuz && best == 0)) best |= signbit;
  return (uint8_t)best;
}

float er_f8_to_f32(uint8_t v, int dtype) { return mini_decode(v, fmt_of(dtype), 0); }
uint8_t er_f32_to_f8(float f, int dtype, int saturate) {
  return mini_encode(f, fmt_of(dtype), 0, saturate);
}
float er_f4e2m1_to_f32(uint8_t v) { return mini_decode(v & 0xf, fmt_of(ER_F4E2M1), 1); }
uint8_t er_f32_to_f4e2m1(float f) { return mini_encode(f, fmt_of(ER_F4E2M1), 1, 1); }

double er_load_f64(const void *p, int t, size_t i) {
  switch (t) {
    case ER_F32: return ((const float *)p)[i];
    case ER_F64: return ((const double *)p)[i];
    case ER_F16: return er_f16_to_f32(((const uint16_t *)p)[i]);
    case ER_BF16: return er_bf16_to_f32(((const uint16_t *)p)[i]);
    case ER_I8: case ER_I4: return ((const int8_t *)p)[i];
    case ER_I16: return ((const int16_t *)p)[i];
    case ER_I32: return ((const int32_t *)p)[i];
    case ER_I64: return (double)((const int64_t *)p)[i];
    case ER_U8: case ER_U4: case ER_BOOL: return ((const uint8_t *)p)[i];
    case ER_U16: return ((const uint16_t *)p)[i];
    case ER_U32: return ((const uint32_t *)p)[i];
    case ER_U64: return (double)((const uint64_t *)p)[i];
    case ER_F8E4M3FN: case ER_F8E4M3FNUZ: case ER_F8E5M2: case ER_F8E5M2FNUZ:
      return er_f8_to_f32(((const uint8_t *)p)[i], t);
    case ER_F4E2M1: return er_f4e2m1_to_f32(((const uint8_t *)p)[i]);
    default: return 0;
  }
}

static int64_t f64_to_i64(double v) {
  if (isnan(v)) return 0;
  if (v >= 9.2233720368547758e18) return INT64_MAX;
  if (v <= -9.2233720368547758e18) return INT64_MIN;
  return (int64_t)v;
}
static uint64_t f64_to_u64(double v) {
  if (isnan(v)) return 0;
  if (v < 0) return (uint64_t)f64_to_i64(v);
  if (v >= 1.8446744073709552e19) return UINT64_MAX;
  return (uint64_t)v;
}

void er_store_f64(void *p, int t, size_t i, double v) {
  switch (t) {
    case ER_F32: ((float *)p)[i] = (float)v; break;
    case ER_F64: ((double *)p)[i] = v; break;
    case ER_F16: ((uint16_t *)p)[i] = er_f32_to_f16((float)v); break;
    case ER_BF16: ((uint16_t *)p)[i] = er_f32_to_bf16((float)v); break;
    case ER_I8: case ER_I4: ((int8_t *)p)[i] = (int8_t)f64_to_i64(v); break;
    case ER_I16: ((int16_t *)p)[i] = (int16_t)f64_to_i64(v); break;
    case ER_I32: ((int32_t *)p)[i] = (int32_t)f64_to_i64(v); break;
    case ER_I64: ((int64_t *)p)[i] = f64_to_i64(v); break;
    case ER_U8: case ER_U4: ((uint8_t *)p)[i] = (uint8_t)f64_to_u64(v); break;
    case ER_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    case ER_U16: ((uint16_t *)p)[i] = (uint16_t)f64_to_u64(v); break;
    case ER_U32: ((uint32_t *)p)[i] = (uint32_t)f64_to_u64(v); break;
    case ER_U64: ((uint64_t *)p)[i] = f64_to_u64(v); break;
    case ER_F8E4M3FN: case ER_F8E4M3FNUZ: case ER_F8E5M2: case ER_F8E5M2FNUZ:
      ((uint8_t *)p)[i] = er_f32_to_f8((float)v, t, 1); break;
    case ER_F4E2M1: ((uint8_t *)p)[i] = er_f32_to_f4e2m1((float)v); break;
    default: break;
  }
}

int64_t er_load_i64(const void *p, int t, size_t i) {
  switch (t) {
    case ER_I8: case ER_I4: return ((const int8_t *)p)[i];
    case ER_I16: return ((const int16_t *)p)[i];
    case ER_I32: return ((const int32_t *)p)[i];
    case ER_I64: return ((const int64_t *)p)[i];
    case ER_U8: case ER_U4: case ER_BOOL: return ((const uint8_t *)p)[i];
    case ER_U16: return ((const uint16_t *)p)[i];
    case ER_U32: return ((const uint32_t *)p)[i];
    case ER_U64: return (int64_t)((const uint64_t *)p)[i];
    default: return f64_to_i64(er_load_f64(p, t, i));
  }
}

void er_store_i64(void *p, int t, size_t i, int64_t v) {
  switch (t) {
    case ER_I8: case ER_I4: ((int8_t *)p)[i] = (int8_t)v; break;
    case ER_I16: ((int16_t *)p)[i] = (int16_t)v; break;
    case ER_I32: ((int32_t *)p)[i] = (int32_t)v; break;
    case ER_I64: ((int64_t *)p)[i] = v; break;
    case ER_U8: case ER_U4: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case ER_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    case ER_U16: ((uint16_t *)p)[i] = (uint16_t)v; break;
    case ER_U32: ((uint32_t *)p)[i] = (uint32_t)v; break;
    case ER_U64: ((uint64_t *)p)[i] = (uint64_t)v; break;
    default: er_store_f64(p, t, i, (double)v); break;
  }
}
