/* Shared by the signal family (ops_signal.c, signal_*.c, resize_*.c): element access in
 * double precision and the kernel entry points the er_ops_signal table refers to. */
#ifndef ER_KERNELS_REF_SIGNAL_COMMON_H
#define ER_KERNELS_REF_SIGNAL_COMMON_H
#include <math.h>
#include <string.h>

#include "kernels/kernel.h"

/* Element i of p (type dt) as double. */
#define sig_ld er_ld

/* Store v into element i of p (type dt). Float types round to nearest; integer types
 * round half away from zero when `round_ints` (else truncate toward zero) and saturate
 * to the type's range; NaN becomes 0; bool stores v != 0. */
static inline void sig_st(void *p, int dt, int64_t i, double v, int round_ints) {
  double lo, hi;
  switch (dt) {
    case ER_F32: ((float *)p)[i] = (float)v; return;
    case ER_F64: ((double *)p)[i] = v; return;
    case ER_F16: ((uint16_t *)p)[i] = er_f32_to_f16((float)v); return;
    case ER_BF16: ((uint16_t *)p)[i] = er_f32_to_bf16((float)v); return;
    case ER_BOOL: ((uint8_t *)p)[i] = v != 0; return;
    case ER_I8: lo = -128.0, hi = 127.0; break;
    case ER_U8: lo = 0.0, hi = 255.0; break;
    case ER_I16: lo = -32768.0, hi = 32767.0; break;
    case ER_U16: lo = 0.0, hi = 65535.0; break;
    case ER_I32: lo = -2147483648.0, hi = 2147483647.0; break;
    case ER_U32: lo = 0.0, hi = 4294967295.0; break;
    case ER_I64: lo = -9223372036854775808.0, hi = 9223372036854774784.0; break;
    case ER_U64: lo = 0.0, hi = 18446744073709549568.0; break;
    default: er_store_f64(p, dt, (size_t)i, v); return;
  }
  if (v != v) v = 0;
  v = round_ints ? round(v) : trunc(v);
  if (v < lo) v = lo;
  if (v > hi) v = hi;
  if (dt == ER_U64) {
    ((uint64_t *)p)[i] = (uint64_t)v;
    return;
  }
  er_store_i64(p, dt, (size_t)i, (int64_t)v);
}

static inline int sig_streq(const char *a, const char *b) { return a && strcmp(a, b) == 0; }

/* Kernel entry points (defined in resize_ops.c, signal_grid.c, signal_dft.c, signal_nms.c). */
er_status er_resize_infer(er_kctx *c);
er_status er_resize_run(er_kctx *c);
er_status er_gridsample_infer(er_kctx *c);
er_status er_gridsample_run(er_kctx *c);
er_status er_affinegrid_infer(er_kctx *c);
er_status er_affinegrid_run(er_kctx *c);
er_status er_dft_infer(er_kctx *c);
er_status er_dft_run(er_kctx *c);
er_status er_stft_infer(er_kctx *c);
er_status er_stft_run(er_kctx *c);
er_status er_window_infer(er_kctx *c);
er_status er_window_run(er_kctx *c);
er_status er_mel_infer(er_kctx *c);
er_status er_mel_run(er_kctx *c);
er_status er_nms_infer(er_kctx *c);
er_status er_nms_run(er_kctx *c);
#endif
