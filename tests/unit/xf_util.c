#include "xf_util.h"

#include "base/cpu.h"

const er_microkernels *er_microkernels_avx2(void);
const er_microkernels *er_microkernels_avx512(void);

int xf_tables(const er_microkernels **out) {
  int n = 0;
  out[n++] = er_microkernels_ref();
#if defined(__x86_64__)
  er_cpu_features f = er_cpu_detect();
  if (f.avx2 && f.fma) out[n++] = er_microkernels_avx2();
  if (f.avx2 && f.fma && f.avx512f) out[n++] = er_microkernels_avx512();
#endif
  return n;
}
