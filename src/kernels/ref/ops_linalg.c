/* Linear algebra family: Gemm, MatMul, Einsum, Det, reductions, ArgMax/ArgMin, Softmax,
 * LogSoftmax, Hardmax, CumSum, TopK, NLL / softmax cross-entropy losses, and the training
 * optimizers of ai.onnx.preview.training. Kernels live in linalg_*.c. */
#include "kernels/attention.h"
#include "kernels/kernel.h"

#define DECLARE(name)                        \
  er_status er_linalg_##name##_infer(er_kctx *ctx); \
  er_status er_linalg_##name##_run(er_kctx *ctx);
DECLARE(gemm)
DECLARE(matmul)
DECLARE(einsum)
DECLARE(det)
DECLARE(reduce_sum)
DECLARE(reduce_mean)
DECLARE(reduce_max)
DECLARE(reduce_min)
DECLARE(reduce_prod)
DECLARE(reduce_l1)
DECLARE(reduce_l2)
DECLARE(reduce_log_sum)
DECLARE(reduce_log_sum_exp)
DECLARE(reduce_sum_square)
DECLARE(argmax)
DECLARE(argmin)
DECLARE(cumsum)
DECLARE(topk)
DECLARE(nllloss)
DECLARE(sce)
DECLARE(adagrad)
DECLARE(adam)
DECLARE(momentum)
DECLARE(attention)
#undef DECLARE
er_status er_linalg_gemm_prepare(er_kctx *ctx);
er_status er_linalg_matmul_prepare(er_kctx *ctx);
er_status er_linalg_softmax_infer(er_kctx *ctx);
er_status er_linalg_softmax_run(er_kctx *ctx);
er_status er_linalg_logsoftmax_run(er_kctx *ctx);
er_status er_linalg_hardmax_run(er_kctx *ctx);

#define K(name) er_linalg_##name##_infer, er_linalg_##name##_run
#define TRAINING "ai.onnx.preview.training"

const er_op_def er_ops_linalg[] = {
    ER_OPDEF(Gemm, {"Gemm", "", 1, 0, K(gemm), ER_OP_PREPARE_ANY_THREAD, er_linalg_gemm_prepare})
    ER_OPDEF(MatMul, {"MatMul", "", 1, 0, K(matmul), ER_OP_PREPARE_ANY_THREAD, er_linalg_matmul_prepare})
    ER_OPDEF(Einsum, {"Einsum", "", 12, 0, K(einsum), 0})
    ER_OPDEF(Det, {"Det", "", 11, 0, K(det), 0})
    ER_OPDEF(ReduceSum, {"ReduceSum", "", 1, 0, K(reduce_sum), 0})
    ER_OPDEF(ReduceMean, {"ReduceMean", "", 1, 0, K(reduce_mean), 0})
    ER_OPDEF(ReduceMax, {"ReduceMax", "", 1, 0, K(reduce_max), 0})
    ER_OPDEF(ReduceMin, {"ReduceMin", "", 1, 0, K(reduce_min), 0})
    ER_OPDEF(ReduceProd, {"ReduceProd", "", 1, 0, K(reduce_prod), 0})
    ER_OPDEF(ReduceL1, {"ReduceL1", "", 1, 0, K(reduce_l1), 0})
    ER_OPDEF(ReduceL2, {"ReduceL2", "", 1, 0, K(reduce_l2), 0})
    ER_OPDEF(ReduceLogSum, {"ReduceLogSum", "", 1, 0, K(reduce_log_sum), 0})
    ER_OPDEF(ReduceLogSumExp, {"ReduceLogSumExp", "", 1, 0, K(reduce_log_sum_exp), 0})
    ER_OPDEF(ReduceSumSquare, {"ReduceSumSquare", "", 1, 0, K(reduce_sum_square), 0})
    ER_OPDEF(ArgMax, {"ArgMax", "", 1, 0, K(argmax), 0})
    ER_OPDEF(ArgMin, {"ArgMin", "", 1, 0, K(argmin), 0})
    ER_OPDEF(Softmax, {"Softmax", "", 1, 0, er_linalg_softmax_infer, er_linalg_softmax_run, 0})
    ER_OPDEF(LogSoftmax, {"LogSoftmax", "", 1, 0, er_linalg_softmax_infer, er_linalg_logsoftmax_run, 0})
    ER_OPDEF(Hardmax, {"Hardmax", "", 1, 0, er_linalg_softmax_infer, er_linalg_hardmax_run, 0})
    ER_OPDEF(CumSum, {"CumSum", "", 11, 0, K(cumsum), 0})
    ER_OPDEF(TopK, {"TopK", "", 1, 0, K(topk), 0})
    ER_OPDEF(NegativeLogLikelihoodLoss, {"NegativeLogLikelihoodLoss", "", 12, 0, K(nllloss), 0})
    ER_OPDEF(SoftmaxCrossEntropyLoss, {"SoftmaxCrossEntropyLoss", "", 12, 0, K(sce), 0})
    ER_OPDEF(Adagrad, {"Adagrad", TRAINING, 1, 0, K(adagrad), 0})
    ER_OPDEF(Adam, {"Adam", TRAINING, 1, 0, K(adam), 0})
    ER_OPDEF(Momentum, {"Momentum", TRAINING, 1, 0, K(momentum), 0})
    ER_OPDEF(Attention, {ER_OP_ATTENTION, ER_DOMAIN_EDGERUN, 1, 0, K(attention), 0}) /* kernels/attention.h */
    {0},
};
