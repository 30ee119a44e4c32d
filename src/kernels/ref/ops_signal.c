/* Signal family table: Resize/Upsample (resize_ops.c), GridSample/AffineGrid
 * (signal_grid.c), DFT/STFT/windows/MelWeightMatrix (signal_dft.c), NonMaxSuppression
 * (signal_nms.c). */
#include "kernels/ref/signal_common.h"

const er_op_def er_ops_signal[] = {
    ER_OPDEF(Resize, {"Resize", "", 10, 0, er_resize_infer, er_resize_run, 0})
    ER_OPDEF(Upsample, {"Upsample", "", 7, 0, er_resize_infer, er_resize_run, 0})
    ER_OPDEF(GridSample, {"GridSample", "", 16, 0, er_gridsample_infer, er_gridsample_run, 0})
    ER_OPDEF(AffineGrid, {"AffineGrid", "", 20, 0, er_affinegrid_infer, er_affinegrid_run, 0})
    ER_OPDEF(DFT, {"DFT", "", 17, 0, er_dft_infer, er_dft_run, 0})
    ER_OPDEF(STFT, {"STFT", "", 17, 0, er_stft_infer, er_stft_run, 0})
    ER_OPDEF(HannWindow, {"HannWindow", "", 17, 0, er_window_infer, er_window_run, 0})
    ER_OPDEF(HammingWindow, {"HammingWindow", "", 17, 0, er_window_infer, er_window_run, 0})
    ER_OPDEF(BlackmanWindow, {"BlackmanWindow", "", 17, 0, er_window_infer, er_window_run, 0})
    ER_OPDEF(MelWeightMatrix, {"MelWeightMatrix", "", 17, 0, er_mel_infer, er_mel_run, 0})
    ER_OPDEF(NonMaxSuppression, {"NonMaxSuppression", "", 10, 0, er_nms_infer, er_nms_run, 0})
    {0},
};
