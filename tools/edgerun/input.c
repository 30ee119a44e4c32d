/* Binding -i tensor files to a session's inputs (shared by run and bench). */
#include "base/dtype.h"
#include "base/status.h"
#include "cli.h"
#include "io/tensor_io.h"

er_status cli_bind_input_file(er_model *m, er_session *s, size_t k, const char *path, er_pool *pool) {
  er_tensor t;
  er_tensor_info info;
  ER_RETURN_IF_ERROR(er_tensor_file_read(path, pool, &t));
  ER_RETURN_IF_ERROR(er_model_input_info(m, k, &info));
  /* numpy has no bfloat16/float8/int4: accept their bit patterns from .npy files */
  int same_size = er_dtype_size(t.dtype) == er_dtype_size(info.dtype);
  if (same_size && ((info.dtype == ER_BF16 && t.dtype == ER_U16) ||
                    (info.dtype >= ER_F8E4M3FN && info.dtype <= ER_F8E5M2FNUZ && t.dtype == ER_U8) ||
                    (info.dtype == ER_F4E2M1 && t.dtype == ER_U8) ||
                    (info.dtype == ER_I4 && t.dtype == ER_I8) || (info.dtype == ER_U4 && t.dtype == ER_U8)))
    t.dtype = info.dtype;
  return er_session_set_input(s, k, (er_dtype)t.dtype, t.dims, t.rank, t.data, er_tensor_nbytes(&t));
}
