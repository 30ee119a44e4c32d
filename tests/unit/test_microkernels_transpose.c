/* The x32_transpose micro-kernel of the optimized table (AVX2 8x8 blocks, the two-row
 * interleave of channel shuffles) against the reference table on many shapes: rows and
 * columns around the 8-wide blocks, padded leading dimensions, two rows with ldd == 2 and
 * ldd > 2. Bits must match exactly (it only moves data); cells outside the destination
 * rows must stay untouched. */
#include <stdlib.h>
#include <string.h>

#include "base/cpu.h"
#include "kernels/kernel.h"
#include "test.h"

const er_microkernels *er_microkernels_avx2(void);

static uint32_t g_rng = 777;
static uint32_t urand(void) {
  g_rng = g_rng * 1664525u + 1013904223u;
  return g_rng;
}

TEST(mk_x32_transpose_matches_reference) {
  const er_microkernels *ref = er_microkernels_ref(), *opt = NULL;
#if defined(__x86_64__)
  er_cpu_features f = er_cpu_detect();
  if (f.avx2 && f.fma) opt = er_microkernels_avx2();
#endif
  const er_microkernels *tabs[2] = {ref, opt};
  static const int64_t rs[] = {1, 2, 3, 4, 7, 8, 9, 16, 17};
  static const int64_t cs[] = {1, 2, 5, 7, 8, 9, 15, 16, 17, 58, 116};
  int bad = 0;
  for (size_t ri = 0; ri < sizeof rs / sizeof rs[0]; ri++)
    for (size_t ci = 0; ci < sizeof cs / sizeof cs[0]; ci++)
      for (int pad = 0; pad < 2; pad++) {
        int64_t R = rs[ri], C = cs[ci], lds = C + pad * 3, ldd = R + pad * 5;
        uint32_t *src = (uint32_t *)malloc(sizeof(uint32_t) * (size_t)(R * lds));
        for (int64_t i = 0; i < R * lds; i++) src[i] = urand();
        size_t nd = (size_t)(C * ldd);
        uint32_t *want = (uint32_t *)malloc(sizeof(uint32_t) * nd);
        uint32_t *got = (uint32_t *)malloc(sizeof(uint32_t) * nd);
        for (size_t i = 0; i < nd; i++) want[i] = 0xDEADBEEFu;
        for (int64_t r = 0; r < R; r++)
          for (int64_t c = 0; c < C; c++) want[c * ldd + r] = src[r * lds + c];
        for (int t = 0; t < 2; t++) {
          if (!tabs[t]) continue;
          for (size_t i = 0; i < nd; i++) got[i] = 0xDEADBEEFu;
          tabs[t]->x32_transpose(src, lds, got, ldd, R, C);
          if (memcmp(got, want, sizeof(uint32_t) * nd)) {
            fprintf(stderr, "  x32_transpose table %d rows %lld cols %lld lds %lld ldd %lld differs\n", t,
                    (long long)R, (long long)C, (long long)lds, (long long)ldd);
            bad++;
          }
        }
        free(src), free(want), free(got);
      }
  CHECK(bad == 0);
}
