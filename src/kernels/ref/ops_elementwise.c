/*
 * Elementwise operator family. Kernels live in elementwise_unary.c (math,
 * activations, Clip), elementwise_binary.c (broadcasting binary ops, PRelu,
 * Sum/Mean/Max/Min, Where) and elementwise_cast.c (Cast, CastLike, Identity, Dropout).
 * Shared infer/run functions find the op's row by ctx->node->op_type.
 */
#include "kernels/kernel.h"

er_status er_ew_unary_infer(er_kctx *c);
er_status er_ew_unary_run(er_kctx *c);
er_status er_ew_clip_infer(er_kctx *c);
er_status er_ew_clip_run(er_kctx *c);
er_status er_ew_binary_infer(er_kctx *c);
er_status er_ew_binary_run(er_kctx *c);
er_status er_ew_variadic_infer(er_kctx *c);
er_status er_ew_variadic_run(er_kctx *c);
er_status er_ew_where_infer(er_kctx *c);
er_status er_ew_where_run(er_kctx *c);
er_status er_ew_cast_infer(er_kctx *c);
er_status er_ew_castlike_infer(er_kctx *c);
er_status er_ew_cast_run(er_kctx *c);
er_status er_ew_identity_infer(er_kctx *c);
er_status er_ew_identity_run(er_kctx *c);
er_status er_ew_dropout_infer(er_kctx *c);
er_status er_ew_dropout_run(er_kctx *c);

#define UNARY(name, lo) ER_OPDEF(name, {#name, "", lo, 0, er_ew_unary_infer, er_ew_unary_run, ER_OP_INPLACE})
#define BINARY(name, lo) ER_OPDEF(name, {#name, "", lo, 0, er_ew_binary_infer, er_ew_binary_run, ER_OP_INPLACE})
#define VARIADIC(name) ER_OPDEF(name, {#name, "", 1, 0, er_ew_variadic_infer, er_ew_variadic_run, 0})

const er_op_def er_ops_elementwise[] = {
    /* unary math */
    UNARY(Abs, 1) UNARY(Acos, 7) UNARY(Acosh, 9) UNARY(Asin, 7) UNARY(Asinh, 9)
    UNARY(Atan, 7) UNARY(Atanh, 9) UNARY(Ceil, 1) UNARY(Cos, 7) UNARY(Cosh, 9)
    UNARY(Erf, 9) UNARY(Exp, 1) UNARY(Floor, 1) UNARY(Log, 1) UNARY(Neg, 1)
    UNARY(Reciprocal, 1) UNARY(Round, 11) UNARY(Sign, 9) UNARY(Sin, 7)
    UNARY(Sinh, 9) UNARY(Sqrt, 1) UNARY(Tan, 7) UNARY(Tanh, 1) UNARY(IsInf, 10)
    UNARY(IsNaN, 9) UNARY(Not, 1) UNARY(BitwiseNot, 18)
    /* activations */
    UNARY(Relu, 1) UNARY(LeakyRelu, 1) UNARY(Elu, 1) UNARY(Selu, 1) UNARY(Celu, 12)
    UNARY(Sigmoid, 1) UNARY(HardSigmoid, 1) UNARY(HardSwish, 14) UNARY(Softplus, 1)
    UNARY(Softsign, 1) UNARY(ThresholdedRelu, 10) UNARY(Shrink, 9) UNARY(Mish, 18)
    UNARY(Gelu, 20)
    ER_OPDEF(Clip, {"Clip", "", 1, 0, er_ew_clip_infer, er_ew_clip_run, ER_OP_INPLACE})
    /* binary, numpy broadcasting (legacy broadcast/axis attributes before opset 7) */
    BINARY(Add, 1) BINARY(Sub, 1) BINARY(Mul, 1) BINARY(Div, 1) BINARY(Pow, 1)
    BINARY(Mod, 10) BINARY(BitShift, 11) BINARY(BitwiseAnd, 18) BINARY(BitwiseOr, 18)
    BINARY(BitwiseXor, 18) BINARY(And, 1) BINARY(Or, 1) BINARY(Xor, 1)
    BINARY(Equal, 1) BINARY(Greater, 1) BINARY(GreaterOrEqual, 12) BINARY(Less, 1)
    BINARY(LessOrEqual, 12) BINARY(PRelu, 1)
    /* variadic */
    VARIADIC(Sum) VARIADIC(Mean) VARIADIC(Max) VARIADIC(Min)
    ER_OPDEF(Where, {"Where", "", 9, 0, er_ew_where_infer, er_ew_where_run, 0})
    /* conversion and pass-through */
    ER_OPDEF(Cast, {"Cast", "", 1, 0, er_ew_cast_infer, er_ew_cast_run, ER_OP_VIEW})
    ER_OPDEF(CastLike, {"CastLike", "", 15, 0, er_ew_castlike_infer, er_ew_cast_run, 0})
    ER_OPDEF(Identity, {"Identity", "", 1, 0, er_ew_identity_infer, er_ew_identity_run, ER_OP_VIEW})
    ER_OPDEF(Dropout, {"Dropout", "", 1, 0, er_ew_dropout_infer, er_ew_dropout_run, 0})
    {0},
};
