/*
 * Fused scaled-dot-product attention, internal op "Attention" of domain "edgerun"
 * (ER_DOMAIN_EDGERUN, opset 1). Created only by the attention pass (src/opt/attention.c)
 * from MatMul(Q, K^T) -> [Mul|Div by a constant] -> [Add mask] -> Softmax(last axis) ->
 * MatMul(., V), with the head split / merge Transposes around it absorbed into layouts.
 * Never written to files. Kernel: src/kernels/ref/linalg_attention.c.
 *
 *   inputs  Q, K, V (float32, all rank 4, or all rank 3: the 4-D view with B = 1 left
 *           out), mask (optional, float32, broadcastable to [B, H, Sq, Sk] by numpy rules;
 *           an absent mask is "")
 *   attrs   layouts (INTS, 4 values: the layouts of Q, K, V and the output, codes below)
 *           scale (FLOAT, default 1)
 *   output  float32, [B, H, Sq, Dv] (ER_ATT_BHSD) or [B, Sq, H, Dv] (ER_ATT_BSHD), without B
 *           for rank 3
 *
 *   out[b,h,i,:] = sum_j p[j] V[b,h,j,:],  p = softmax_j(scale * <Q[b,h,i,:], K[b,h,j,:]>
 *                                                       + mask[b,h,i,j])
 *
 * Layouts: ER_ATT_BHSD  the tensor is [B, H, S, D] (Q: S = Sq, D = Dk; V: Sk, Dv)
 *          ER_ATT_BSHD  [B, S, H, D]: the heads are not split off yet (a Reshape of
 *                       [B, S, H*D]); the op reads each head through strides
 *          ER_ATT_BHDS  K only: K already transposed, [B, H, Dk, Sk]
 * The kernel computes one head at a time on blocks of query rows (scores of one block
 * only, in scratch), so nothing of size Sq x Sk per head is ever materialized in full.
 */
#ifndef ER_KERNELS_ATTENTION_H
#define ER_KERNELS_ATTENTION_H
#include "kernels/qops.h"
#define ER_OP_ATTENTION "Attention"
enum { ER_ATT_BHSD = 0, ER_ATT_BSHD = 1, ER_ATT_BHDS = 2 };
#endif
