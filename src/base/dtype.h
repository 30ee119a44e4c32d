/* Element types: sizes, names, and scalar conversions (float16, bfloat16, float8). */
#ifndef ER_BASE_DTYPE_H
#define ER_BASE_DTYPE_H
#include <stddef.h>
#include <stdint.h>
#include "edgerun.h"

/* Bytes per element as stored in a runtime tensor. 4-bit types are stored
 * unpacked, one element per byte (see docs/design.md). 0 for unsupported types
 * (string, complex). */
size_t er_dtype_size(int dtype);

/* Internal value kinds carried as byte blobs (see kernels/ref/ops_sequence.c): a sequence or
 * an optional is a tensor of this dtype, rank 1, whose bytes hold a header, item
 * descriptors and the items' data. Element size 1. Never seen in files. */
#define ER_DT_SEQUENCE 200
#define ER_DT_OPTIONAL 201
int er_dtype_is_float(int dtype);   /* f16 f32 f64 bf16 f8* */
int er_dtype_is_signed_int(int dtype);
int er_dtype_is_unsigned_int(int dtype); /* includes bool */
int er_dtype_is_numeric(int dtype); /* everything with a size (bool included) */

float er_f16_to_f32(uint16_t h);
uint16_t er_f32_to_f16(float f);          /* round to nearest even */
float er_bf16_to_f32(uint16_t h);
uint16_t er_f32_to_bf16(float f);         /* round to nearest even */
float er_f8_to_f32(uint8_t v, int dtype); /* dtype one of ER_F8* */
uint8_t er_f32_to_f8(float f, int dtype, int saturate);
float er_f4e2m1_to_f32(uint8_t v);
uint8_t er_f32_to_f4e2m1(float f);

/* Element i of buffer p (of type dtype) read as double / written from double.
 * Slow but generic; fine for small or rarely used paths. Integer stores
 * truncate toward zero and wrap like a C cast via int64/uint64. */
double er_load_f64(const void *p, int dtype, size_t i);
void er_store_f64(void *p, int dtype, size_t i, double v);
/* Inline fast paths of the two above for the common types (generic otherwise). */
static inline double er_ld(const void *p, int dtype, int64_t i) {
  switch (dtype) {
    case ER_F32: return ((const float *)p)[i];
    case ER_F64: return ((const double *)p)[i];
    case ER_I32: return ((const int32_t *)p)[i];
    case ER_I64: return (double)((const int64_t *)p)[i];
    default: return er_load_f64(p, dtype, (size_t)i);
  }
}
static inline void er_st(void *p, int dtype, int64_t i, double v) {
  if (dtype == ER_F32) ((float *)p)[i] = (float)v;
  else if (dtype == ER_F64) ((double *)p)[i] = v;
  else er_store_f64(p, dtype, (size_t)i, v);
}
/* Integer exact variants for int64/uint64 paths. */
int64_t er_load_i64(const void *p, int dtype, size_t i);
void er_store_i64(void *p, int dtype, size_t i, int64_t v);

/* X-macro over the plain C numeric types: X(ER_ENUM, ctype, suffix).
 * f16/bf16/f8 are not listed: convert through float. */
#define ER_FOR_EACH_PLAIN_TYPE(X) \
  X(ER_F32, float, f32)           \
  X(ER_F64, double, f64)          \
  X(ER_I8, int8_t, i8)            \
  X(ER_I16, int16_t, i16)         \
  X(ER_I32, int32_t, i32)         \
  X(ER_I64, int64_t, i64)         \
  X(ER_U8, uint8_t, u8)           \
  X(ER_U16, uint16_t, u16)        \
  X(ER_U32, uint32_t, u32)        \
  X(ER_U64, uint64_t, u64)        \
  X(ER_BOOL, uint8_t, bool)
#endif
