#include "kernels/kernel.h"

const er_op_def er_ops_rnn[] = {
    {0},
};
