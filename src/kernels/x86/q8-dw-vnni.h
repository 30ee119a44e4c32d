/* Helpers shared by the VNNI channels-last depthwise kernels (q8-dwconv-avxvnni.c,
 * q8-dwconv-64-avx512vnni.c; plain C): weight packing and the ring of interleaved rows. */
#ifndef ER_KERNELS_X86_Q8_DW_VNNI_H
#define ER_KERNELS_X86_Q8_DW_VNNI_H
#include <stdint.h>
#include <string.h>

/* weight t * C + c minus its channel's zero point */
static inline int32_t er_q8_dw_wval(const void *w, int is_signed, int64_t t, int64_t C, int64_t c, const int32_t *zp,
                                    int zp_stride) {
  int64_t i = t * C + c;
  return (is_signed ? (int32_t)((const int8_t *)w)[i] : (int32_t)((const uint8_t *)w)[i]) - (zp ? zp[c * zp_stride] : 0);
}

/* 1 if every weight minus its zero point fits in int8 (vpdpbusd's signed operand) */
static inline int er_q8_dw_fits_i8(int64_t taps, int64_t C, const void *w, int is_signed, const int32_t *zp,
                                   int zp_stride) {
  for (int64_t t = 0; t < taps; t++)
    for (int64_t c = 0; c < C; c++) {
      int32_t v = er_q8_dw_wval(w, is_signed, t, C, c, zp, zp_stride);
      if (v < -128 || v > 127) return 0;
    }
  return 1;
}

/* The VNNI weight format: int8 [KH][G = ceil(KW/4)][ceil(C/cb)][cb channels x 4 taps] (the
 * byte of channel c % cb of a block at boff(c % cb), tap kw % 4 after it; taps past KW 0),
 * then int32 wsum[KH][Cp] (Cp = C rounded up to cb; the sum of the kernel row's weights of
 * channel c at wpos(c), 0 elsewhere). */
static inline void er_q8_dw_pack_vnni(int64_t KH, int64_t KW, int64_t C, const void *w, int is_signed,
                                      const int32_t *zp, int zp_stride, int64_t cb, int64_t (*boff)(int64_t),
                                      int64_t (*wpos)(int64_t), unsigned char *d) {
  const int64_t G = (KW + 3) / 4, Cp = (C + cb - 1) / cb * cb, NB = Cp / cb;
  signed char *wq = (signed char *)d;
  int32_t *wsum = (int32_t *)(d + KH * G * Cp * 4);
  memset(wq, 0, (size_t)(KH * G * Cp * 4));
  memset(wsum, 0, (size_t)(KH * Cp) * 4);
  for (int64_t kh = 0; kh < KH; kh++)
    for (int64_t kw = 0; kw < KW; kw++)
      for (int64_t c = 0; c < C; c++) {
        int32_t v = er_q8_dw_wval(w, is_signed, kh * KW + kw, C, c, zp, zp_stride);
        wq[((kh * G + kw / 4) * NB + c / cb) * cb * 4 + boff(c % cb) + kw % 4] = (signed char)v;
        wsum[kh * Cp + wpos(c)] += v;
      }
}

/* The input rows output row oh reads: for i < (returned count), kernel row khs[i] is in ring
 * slot slots[i]; build[i] != 0 when that slot has just been given the row (ih = oh * sh - ph
 * + khs[i] * dh) and must be built now. tags[KH] (-1: empty) say which input row each slot
 * holds; KH <= 32. Slots read by this output row are never reused for another of its rows. */
static inline int64_t er_q8_dw_ring(int64_t oh, int64_t KH, int64_t H, int64_t sh, int64_t ph, int64_t dh,
                                    int64_t *tags, int64_t *khs, int64_t *slots, int *build) {
  int64_t nr = 0, used = 0; /* used: bit mask of slots taken by this row */
  for (int64_t kh = 0; kh < KH; kh++) {
    int64_t ih = oh * sh - ph + kh * dh;
    if (ih < 0 || ih >= H) continue;
    int64_t slot = -1;
    for (int64_t k = 0; k < KH; k++)
      if (tags[k] == ih) slot = k;
    if (slot >= 0) used |= (int64_t)1 << slot;
    khs[nr] = kh;
    slots[nr++] = slot;
  }
  for (int64_t i = 0; i < nr; i++) {
    build[i] = slots[i] < 0;
    if (!build[i]) continue;
    int64_t slot = 0;
    while ((used >> slot) & 1) slot++;
    used |= (int64_t)1 << slot;
    tags[slot] = oh * sh - ph + khs[i] * dh;
    slots[i] = slot;
  }
  return nr;
}
#endif
