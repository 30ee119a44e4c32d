/* Tensor files: NumPy .npy (v1-v3, little-endian, C order) and ONNX TensorProto (.pb). */
#ifndef ER_IO_TENSOR_IO_H
#define ER_IO_TENSOR_IO_H
#include "base/pool.h"
#include "base/tensor.h"

/* Parse an .npy image in memory. Data is copied into pool memory. */
er_status er_npy_parse(const void *data, size_t size, er_pool *pool, er_tensor *out);
/* Write t as .npy. bfloat16 is written as uint16 bit patterns, float8 as uint8 bit
 * patterns, 4-bit types as one int8/uint8 per element (numpy has no such types). */
er_status er_npy_write(const char *path, const er_tensor *t);
/* Read a tensor file: .npy by magic, otherwise an ONNX TensorProto. Errors name the path. */
er_status er_tensor_file_read(const char *path, er_pool *pool, er_tensor *out);
#endif
