/*
 * ONNX writer (host code): serializes an imported model's IR (possibly rewritten by passes
 * or tools such as quantize/prune/factorize) back to a standard ONNX ModelProto.
 *
 * Written: ir_version, opset imports, producer, the graph (nodes with all attribute kinds the
 * IR keeps, subgraphs of If/Loop/Scan, initializers with raw data, inputs/outputs with
 * dtype and static or symbolic dims). Node attributes whose name starts with '_' are
 * edgerun-internal (fused activations) and make the write fail with a clear error: write
 * models that only use standard ops and attributes.
 */
#ifndef ER_EXPORT_ONNX_WRITE_H
#define ER_EXPORT_ONNX_WRITE_H
#include <stddef.h>
#include "base/status.h"
#include "import/model.h"

/* Serialize m to a heap buffer (*out_buf to free() by the caller). */
er_status er_onnx_write_buffer(const er_imported *m, void **out_buf, size_t *out_size);
/* Serialize m to `path` (written to a temporary file next to it, then renamed, so a failed
 * write never leaves a truncated model behind). */
er_status er_onnx_write_file(const er_imported *m, const char *path);
#endif
