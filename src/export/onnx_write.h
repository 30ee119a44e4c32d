/*
 * ONNX writer (host code): serializes an imported model's IR (possibly rewritten by passes
 * or tools such as quantize/prune/factorize) back to a standard ONNX ModelProto.
 *
 * Written: ir_version (the model's, raised to what its opsets and tensor types need), opset
 * imports (the model's, plus any domain only some node uses, at that node's opset; a node
 * at another opset than the model imports for its domain is an error), producer "edgerun",
 * the graph (nodes with every attribute kind the IR keeps, subgraphs of If/Loop/Scan,
 * initializers as raw_data — 4-bit types packed two per byte, low nibble first — and
 * inputs/outputs/value_info with dtype and static or symbolic dims). Initializers that
 * nothing uses are dropped. Model-local functions were inlined by the importer and are
 * written inlined.
 *
 * Refused with a clear error, before anything is written: edgerun-internal ops (domain
 * "edgerun") and attributes whose name starts with '_' (fused activations: write models
 * loaded with er_onnx_import_file, before er_optimize), attribute kinds the importer does
 * not keep (TENSORS, TYPE_PROTO), main-graph inputs/outputs that are not tensors, string
 * tensors, and models above protobuf's 2 GiB limit (no external data).
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
