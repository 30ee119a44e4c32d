/* Helper for the transformer-kernel tests: the micro-kernel tables this CPU can run. */
#ifndef ER_TEST_XF_UTIL_H
#define ER_TEST_XF_UTIL_H
#include "kernels/kernel.h"

/* ref, then the optimized tables this CPU supports; returns the count (<= 4). */
int xf_tables(const er_microkernels **out);
#endif
