/*
 * The depthwise kernels' driver (semantics in kernels/dispatch.h, f32_nhwc_dwconv), written
 * once for f32-nhwc-dwconv-4x16-avx2.c and f32-nhwc-dwconv-4x32-avx512.c, which define
 * before including: pixels(np, run, C, T, in, off, step, w, bias, vact, act, out, ldo) (np
 * output pixels, all channels), rows_pixels(np, L, R, C, in, off, step, w, bias, vact, act,
 * out, ldo) (np pixels of a run whose taps are R kernel rows of L consecutive pixels),
 * DW_ACT_REGS(kind) (1 for the activations they apply in registers) and DW_NAME. Runs of
 * stride-1 3- or 5-wide kernels go 8 then 4 pixels at a time through rows_pixels, the rest 4
 * then 1 at a time through pixels.
 */
static void rows3(int64_t n, int64_t T, int64_t C, const float *const *in, int64_t step, const float *w,
                  const float *bias, int vact, er_act act, float *out, int64_t ldo, int64_t *done) {
  int64_t p = 0;
  for (; p + 8 <= n; p += 8) rows_pixels(8, 3, T / 3, C, in, p * step, step, w, bias, vact, act, out + p * ldo, ldo);
  for (; p + 4 <= n; p += 4) rows_pixels(4, 3, T / 3, C, in, p * step, step, w, bias, vact, act, out + p * ldo, ldo);
  *done = p;
}
static void rows5(int64_t n, int64_t T, int64_t C, const float *const *in, int64_t step, const float *w,
                  const float *bias, int vact, er_act act, float *out, int64_t ldo, int64_t *done) {
  int64_t p = 0;
  for (; p + 8 <= n; p += 8) rows_pixels(8, 5, T / 5, C, in, p * step, step, w, bias, vact, act, out + p * ldo, ldo);
  for (; p + 4 <= n; p += 4) rows_pixels(4, 5, T / 5, C, in, p * step, step, w, bias, vact, act, out + p * ldo, ldo);
  *done = p;
}

void DW_NAME(int64_t n, int64_t C, int64_t T, const float *const *in, int64_t step, const float *w, const float *bias,
             er_act act, float *out, int64_t ldo) {
  const int vact = DW_ACT_REGS(act.kind);
  int64_t p = 0;
  if (step) {
    const int64_t L = n >= 4 ? er_nhwc_tap_rows(T, in, step) : 0;
    if (L == 3) rows3(n, T, C, in, step, w, bias, vact, act, out, ldo, &p);
    if (L == 5) rows5(n, T, C, in, step, w, bias, vact, act, out, ldo, &p);
    for (; p + 4 <= n; p += 4) pixels(4, 1, C, T, in, p * step, step, w, bias, vact, act, out + p * ldo, ldo);
    for (; p < n; p++) pixels(1, 1, C, T, in, p * step, step, w, bias, vact, act, out + p * ldo, ldo);
  } else {
    for (; p + 4 <= n; p += 4) pixels(4, 0, C, T, in + p * T, 0, 0, w, bias, vact, act, out + p * ldo, ldo);
    for (; p < n; p++) pixels(1, 0, C, T, in + p * T, 0, 0, w, bias, vact, act, out + p * ldo, ldo);
  }
}
