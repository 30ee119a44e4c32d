#include "kernels/kernel.h"

const er_op_def er_ops_control[] = {
    {0},
};
