#include "base/cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long xgetbv0(void) {
  unsigned int lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((unsigned long long)hi << 32) | lo;
}

er_cpu_features er_cpu_detect(void) {
  er_cpu_features f = {0};
  unsigned int a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  f.sse41 = (c >> 19) & 1;
  int osxsave = (c >> 27) & 1;
  int avx = (c >> 28) & 1;
  f.fma = (c >> 12) & 1;
  f.f16c = (c >> 29) & 1;
  int ymm_os = osxsave && (xgetbv0() & 6) == 6;
  f.avx = avx && ymm_os;
  if (!f.avx) f.fma = f.f16c = 0;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    f.avx2 = f.avx && ((b >> 5) & 1);
    f.avx512f = f.avx && ((b >> 16) & 1) && osxsave && (xgetbv0() & 0xe6) == 0xe6;
  }
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) f.avx_vnni = f.avx2 && ((a >> 4) & 1);
  return f;
}
#else
er_cpu_features er_cpu_detect(void) {
  er_cpu_features f = {0};
  return f;
}
#endif
