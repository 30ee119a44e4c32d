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
  if (f.avx512f && __get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    f.avx512bw = (b >> 30) & 1;
    f.avx512vl = (b >> 31) & 1;
    f.avx512vnni = (c >> 11) & 1;
    /* AMX-TILE and AMX-INT8, with XTILECFG and XTILEDATA (XCR0 bits 17, 18) enabled */
    f.amx_int8 = ((d >> 24) & 1) && ((d >> 25) & 1) && (xgetbv0() & 0x60000) == 0x60000;
  }
  return f;
}

/* 1 once the tile data state is permitted for this process (cached: the first caller asks) */
int er_cpu_amx_enable(void) {
  static volatile int state; /* 0 unknown, 1 usable, 2 not */
  if (state) return state == 1;
  int ok = er_cpu_detect().amx_int8;
#if defined(__linux__) && defined(__x86_64__)
  if (ok) { /* arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) without libc headers */
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "0"(158L), "D"(0x1023L), "S"(18L) : "rcx", "r11", "memory");
    ok = ret == 0;
  }
#else
  ok = 0; /* other systems: not known to enable the tile state on request */
#endif
  state = ok ? 1 : 2;
  return ok;
}
#else
er_cpu_features er_cpu_detect(void) {
  er_cpu_features f = {0};
  return f;
}
int er_cpu_amx_enable(void) { return 0; }
#endif
