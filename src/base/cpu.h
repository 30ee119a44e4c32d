/* CPU features (cpuid on x86-64; nothing elsewhere yet). */
#ifndef ER_BASE_CPU_H
#define ER_BASE_CPU_H

typedef struct er_cpu_features {
  int sse41, avx, avx2, fma, f16c, avx512f, avx_vnni;
  /* AVX-512 BW + VL + VNNI (the 512-bit int8 kernels need all three, and avx512f); AMX
   * TILE + INT8 with the tile state enabled by the OS (using it also needs er_cpu_amx_enable) */
  int avx512bw, avx512vl, avx512vnni, amx_int8;
} er_cpu_features;

er_cpu_features er_cpu_detect(void);
/* Asks the OS once per process for the AMX tile data state (Linux: arch_prctl
 * ARCH_REQ_XCOMP_PERM; needed before any tile instruction in any thread). 1 if tiles may be
 * used, 0 if the CPU lacks AMX-INT8 or the request was refused. */
int er_cpu_amx_enable(void);
#endif
