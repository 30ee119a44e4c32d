/* Signal family table: Resize/Upsample (resize_ops.c), GridSample/AffineGrid
 * (signal_grid.c), DFT/STFT/windows/MelWeightMatrix (signal_dft.c), NonMaxSuppression
 * (signal_nms.c). */
#include "kernels/ref/signal_common.h"

const er_op_def er_ops_signal[] = {
    {"Resize", "", 10, 0, er_resize_infer, er_resize_run, 0},
    {"Upsample", "", 7, 0, er_resize_infer, er_resize_run, 0},
    {"GridSample", "", 16, 0, er_gridsample_infer, er_gridsample_run, 0},
    {"AffineGrid", "", 20, 0, er_affinegrid_infer, er_affinegrid_run, 0},
    {"DFT", "", 17, 0, er_dft_infer, er_dft_run, 0},
    {"STFT", "", 17, 0, er_stft_infer, er_stft_run, 0},
    {"HannWindow", "", 17, 0, er_window_infer, er_window_run, 0},
    {"HammingWindow", "", 17, 0, er_window_infer, er_window_run, 0},
    {"BlackmanWindow", "", 17, 0, er_window_infer, er_window_run, 0},
    {"MelWeightMatrix", "", 17, 0, er_mel_infer, er_mel_run, 0},
    {"NonMaxSuppression", "", 10, 0, er_nms_infer, er_nms_run, 0},
    {0},
};
