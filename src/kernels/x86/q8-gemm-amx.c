/* AMX 8-bit integer GEMM (kernels/q8.h): tdpbusd on 16 x 64-byte tiles, blocks of 32 rows x
 * 32 columns (4 accumulator tiles, 2 left and 2 right tiles). Compiled with -mamx-tile
 * -mamx-int8 and AVX-512; used only when cpuid reports AMX-INT8 and the OS grants the tile
 * state to the process (er_cpu_amx_enable).
 *
 * Operands are the AVX-512 VNNI packed formats (q8-gemm-avx512vnni.c) padded for tiles by
 * the *_16x64 packers: depth a multiple of 64 (one tile row: 64 bytes of a left row, or 16
 * columns x 4 depths of a right panel) and left rows a multiple of 16. tdpbusd sums exact
 * u8 x s8 products in int32 like vpdpbusd, so the same zero-point corrections and output
 * stage (er_q8_gemm_finish__avx512vnni) give the reference's bits. Rows or shapes a tile
 * block does not fit go through the VNNI register kernel on the same packed data. */
#include <immintrin.h>
#include <string.h>

#include "kernels/q8.h"
#include "kernels/x86/q8-common-avx512.h"
#include "kernels/x86/q8.h"

enum { HDR = 64 };

typedef struct q8z_hdr { /* q8-gemm-avx512vnni.c's header */
  int64_t K;
  int32_t Kp, rows;
  int32_t uniform, zp;
} q8z_hdr;

typedef struct tilecfg {
  uint8_t palette, start_row, reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
} tilecfg;

static inline size_t al64(size_t n) { return (n + 63) & ~(size_t)63; }

/* rows x 64-byte tiles 0-7: 0-3 accumulators (row tile i, panel j at 2i + j), 4-5 left, 6-7 right */
static void amx_config(void) {
  tilecfg cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.palette = 1;
  for (int t = 0; t < 8; t++) cfg.colsb[t] = 64, cfg.rows[t] = 16;
  _tile_loadconfig(&cfg);
}

/* One 32 x 32 block (two row tiles x two panels; TM / TN say whether the second exists) over
 * Kp depths, stored as int32 [32][32] (row r, panel p at acc[r * 2 + p]). */
#define AMX_BLOCK(TM, TN)                                                                                  \
  static void block_##TM##TN(int64_t Kp, const unsigned char *L, const signed char *R, int64_t rs,        \
                             __m512i *acc) {                                                              \
    _tile_zero(0);                                                                                        \
    if (TN) _tile_zero(1);                                                                                \
    if (TM) _tile_zero(2);                                                                                \
    if (TM && TN) _tile_zero(3);                                                                          \
    for (int64_t k = 0; k < Kp; k += 64) {                                                                \
      _tile_loadd(4, L + k, Kp);                                                                          \
      _tile_loadd(6, R + k * 16, 64);                                                                     \
      if (TN) _tile_loadd(7, R + rs + k * 16, 64);                                                        \
      if (TM) _tile_loadd(5, L + 16 * Kp + k, Kp);                                                        \
      _tile_dpbusd(0, 4, 6);                                                                              \
      if (TN) _tile_dpbusd(1, 4, 7);                                                                      \
      if (TM) _tile_dpbusd(2, 5, 6);                                                                      \
      if (TM && TN) _tile_dpbusd(3, 5, 7);                                                                \
    }                                                                                                     \
    char *b = (char *)acc;                                                                                \
    _tile_stored(0, b, 128);                                                                              \
    if (TN) _tile_stored(1, b + 64, 128);                                                                 \
    if (TM) _tile_stored(2, b + 16 * 128, 128);                                                           \
    if (TM && TN) _tile_stored(3, b + 16 * 128 + 64, 128);                                                \
  }
AMX_BLOCK(0, 0)
AMX_BLOCK(0, 1)
AMX_BLOCK(1, 0)
AMX_BLOCK(1, 1)

void er_q8_gemm_32x32__amx(int64_t K, const void *left, int64_t M, const void *right, int64_t N, int64_t m0,
                           int64_t m1, int64_t n0, int64_t n1, const er_q8_out *o, void *C, int64_t ldc) {
  q8z_hdr hl, hr;
  memcpy(&hl, left, sizeof hl);
  memcpy(&hr, right, sizeof hr);
  if (m1 > M) m1 = M;
  if (n1 > N) n1 = N;
  const int64_t Kp = hl.Kp, Mp = hl.rows, Np = hr.rows;
  /* tiles need the padded formats, and cover rows [m0, mt): whole tiles stay inside the
   * padded rows; few rows are faster in registers */
  int64_t mt = m0;
  if (hl.Kp == hr.Kp && Kp % 64 == 0 && Mp % 16 == 0 && m1 - m0 >= 8) {
    mt = m0 + (Mp - m0) / 16 * 16;
    if (mt > m1) mt = m1;
  }
  if (mt <= m0) {
    er_q8_gemm_8x32__avx512vnni(K, left, M, right, N, m0, m1, n0, n1, o, C, ldc);
    return;
  }
  const unsigned char *L = (const unsigned char *)left + HDR;
  const signed char *R = (const signed char *)right + HDR;
  const int32_t *rr = (const int32_t *)(L + al64((size_t)(Mp * Kp))), *za = rr + Mp;
  const int32_t *cs = (const int32_t *)(R + al64((size_t)(Np * Kp))), *zb = cs + Np;
  const er_q8z_out z = er_q8z_out_init(o);
  const int64_t rs = Kp / 4 * 64; /* bytes per panel */
  __m512i acc[64];
  amx_config();
  for (int64_t n = n0; n < n1; n += 32) {
    const int64_t nn = n1 - n < 32 ? n1 - n : 32;
    const int tn = nn > 16;
    const signed char *Rp = R + (n / 16) * rs;
    for (int64_t m = m0; m < mt; m += 32) {
      const int tm = mt - m > 16;
      const unsigned char *Lm = L + m * Kp;
      if (tm && tn) block_11(Kp, Lm, Rp, rs, acc);
      else if (tm) block_10(Kp, Lm, Rp, rs, acc);
      else if (tn) block_01(Kp, Lm, Rp, rs, acc);
      else block_00(Kp, Lm, Rp, rs, acc);
      int mr = mt - m < (tm ? 32 : 16) ? (int)(mt - m) : (tm ? 32 : 16);
      er_q8_gemm_finish__avx512vnni(o, &z, rr, za, hl.uniform, hl.zp, cs, zb, hr.uniform, hr.zp, m, mr, n, 1 + tn,
                                    nn, acc, C, ldc);
    }
  }
  _tile_release();
  if (mt < m1) er_q8_gemm_8x32__avx512vnni(K, left, M, right, N, mt, m1, n0, n1, o, C, ldc);
}

void er_q8_use_amx(er_microkernels *t) {
  er_q8_use_avx512vnni(t);
  t->q8_pack_left_size = er_q8_pack_left_size_16x64__avx512vnni;
  t->q8_pack_left = er_q8_pack_left_16x64__avx512vnni;
  t->q8_pack_right_size = er_q8_pack_right_size_16x64__avx512vnni;
  t->q8_pack_right = er_q8_pack_right_16x64__avx512vnni;
  t->q8_gemm = er_q8_gemm_32x32__amx;
}
