/* CPU features (cpuid on x86-64; nothing elsewhere yet). */
#ifndef ER_BASE_CPU_H
#define ER_BASE_CPU_H

typedef struct er_cpu_features {
  int sse41, avx, avx2, fma, f16c, avx512f, avx_vnni;
} er_cpu_features;

er_cpu_features er_cpu_detect(void);
#endif
