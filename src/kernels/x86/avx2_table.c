/* The AVX2/FMA micro-kernel table. Entries not yet optimized fall back to the reference. */
#include "kernels/dispatch.h"

const er_microkernels *er_microkernels_avx2(void) { return 0; /* not yet: use the reference */ }
