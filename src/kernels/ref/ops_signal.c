/* Signal family table: Resize/Upsample (resize_ops.c), GridSample/AffineGrid
 * (signal_grid.c), DFT/STFT/windows/MelWeightMatrix (signal_dft.c), NonMaxSuppression
 * (signal_nms.c). */
#include "kernels/ref/signal_common.h"

const er_op_def er_ops_signal[] = {
    {"Resize", "", 10, 0, er_resize_infer, er_resize_run, 0},
    {"Upsample", "", 7, 0, er_resize_infer, er_resize_run, 0},
    {0},
};
