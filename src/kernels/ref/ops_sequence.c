/*
 * Sequences and optionals.
 *
 * A sequence (or optional) value is a tensor of dtype ER_DT_SEQUENCE (ER_DT_OPTIONAL), rank 1,
 * whose bytes are self-contained, so the planner and executor treat it like any tensor:
 *
 *   seq_hdr                      n items, element dtype (0 if unknown)
 *   seq_item[n]                  dtype, rank, dims, byte offset of the data from the blob start
 *   item data                    each 16-byte aligned
 *
 * An optional is the same blob with 0 (empty) or 1 item. Blob sizes depend on item shapes
 * only, so construction ops infer statically; ops that pick items by index need the values.
 */
#include <string.h>

#include "kernels/kernel.h"

typedef struct seq_hdr {
  int64_t n;
  int64_t elem_dtype;
} seq_hdr;

typedef struct seq_item {
  int64_t dtype, rank;
  int64_t dims[ER_MAX_RANK];
  int64_t offset;
} seq_item;

#define SEQ_MAX 4096

static size_t align16(size_t n) { return (n + 15) & ~(size_t)15; }

static size_t blob_size(int n, const er_tensor *const *items) {
  size_t s = align16(sizeof(seq_hdr) + sizeof(seq_item) * (size_t)n);
  for (int i = 0; i < n; i++) s += align16(er_tensor_nbytes(items[i]));
  return s;
}

/* Validate a blob (it may come from anywhere in the graph) and return its header. */
static er_status seq_open(const er_tensor *t, const seq_hdr **out_h, const seq_item **out_items) {
  if (!t || (t->dtype != ER_DT_SEQUENCE && t->dtype != ER_DT_OPTIONAL))
    return ER_ERR(ER_INVALID_ARGUMENT, "expected a sequence or optional input");
  if (!t->data) return ER_ERR(ER_NEEDS_DATA, "sequence contents not known");
  size_t size = (size_t)er_tensor_numel(t);
  const seq_hdr *h = (const seq_hdr *)t->data;
  if (size < sizeof *h || h->n < 0 || h->n > SEQ_MAX ||
      size < sizeof *h + sizeof(seq_item) * (size_t)h->n)
    return ER_ERR(ER_INTERNAL, "corrupt sequence value");
  *out_h = h;
  *out_items = (const seq_item *)(h + 1);
  return NULL;
}

static er_tensor item_tensor(const er_tensor *blob, const seq_item *it) {
  er_tensor t = {0};
  t.dtype = (int)it->dtype;
  t.rank = (int)it->rank;
  for (int d = 0; d < t.rank; d++) t.dims[d] = it->dims[d];
  t.data = (char *)blob->data + it->offset;
  return t;
}

/* Write n items into out's blob (out already sized by blob_size). */
static void blob_write(er_tensor *out, int64_t elem_dtype, int n, const er_tensor *const *items) {
  seq_hdr *h = (seq_hdr *)out->data;
  seq_item *its = (seq_item *)(h + 1);
  h->n = n;
  h->elem_dtype = elem_dtype;
  size_t off = align16(sizeof(seq_hdr) + sizeof(seq_item) * (size_t)n);
  for (int i = 0; i < n; i++) {
    const er_tensor *t = items[i];
    seq_item *it = &its[i];
    memset(it, 0, sizeof *it);
    it->dtype = t->dtype;
    it->rank = t->rank;
    for (int d = 0; d < t->rank; d++) it->dims[d] = t->dims[d];
    it->offset = (int64_t)off;
    size_t nb = er_tensor_nbytes(t);
    if (nb) memmove((char *)out->data + off, t->data, nb);
    off += align16(nb);
  }
}

static void set_blob_shape(er_tensor *out, int dtype, size_t bytes) {
  int64_t d = (int64_t)bytes;
  er_tensor_set_shape(out, dtype, 1, &d);
}

/* Items of an existing blob as tensors (views into the blob). */
static er_status seq_items(const er_tensor *blob, er_tensor *items, const er_tensor **ptrs, int *n,
                           int64_t *elem_dtype) {
  const seq_hdr *h;
  const seq_item *its;
  ER_RETURN_IF_ERROR(seq_open(blob, &h, &its));
  *n = (int)h->n;
  *elem_dtype = h->elem_dtype;
  for (int i = 0; i < *n; i++) {
    items[i] = item_tensor(blob, &its[i]);
    ptrs[i] = &items[i];
  }
  return NULL;
}

/* Items live in scratch while the output blob is written (the output never aliases inputs,
 * but memmove keeps it safe either way). */
typedef struct seq_buf {
  er_tensor items[SEQ_MAX / 16];
  const er_tensor *ptrs[SEQ_MAX / 16];
} seq_buf;
#define SEQ_CAP ((int)(SEQ_MAX / 16))

static er_status position_of(const er_tensor *t, int64_t n, int allow_end, int64_t *out) {
  if (!t->data) return ER_ERR(ER_NEEDS_DATA, "position not known");
  if (er_tensor_numel(t) != 1) return ER_ERR(ER_INVALID_ARGUMENT, "position must be a scalar");
  int64_t p = er_load_i64(t->data, t->dtype, 0);
  int64_t hi = allow_end ? n : n - 1;
  if (p < -n || p > hi)
    return ER_ERR(ER_OUT_OF_RANGE, "position %lld is out of range for a sequence of %lld", (long long)p,
                  (long long)n);
  *out = p < 0 ? p + n : p;
  return NULL;
}

/* ---- SequenceEmpty / SequenceConstruct ---- */

static er_status empty_infer(er_kctx *c) {
  set_blob_shape(c->out[0], ER_DT_SEQUENCE, blob_size(0, NULL));
  return NULL;
}
static er_status empty_run(er_kctx *c) {
  blob_write(c->out[0], er_attr_int(c, "dtype", ER_F32), 0, NULL);
  return NULL;
}

static er_status construct_infer(er_kctx *c) {
  if (c->n_in < 1 || c->n_in > SEQ_CAP) return ER_ERR(ER_UNSUPPORTED, "SequenceConstruct takes 1 to %d inputs", SEQ_CAP);
  for (int i = 0; i < c->n_in; i++) {
    if (!c->in[i]) return ER_ERR(ER_INVALID_MODEL, "input %d is missing", i);
    if (c->in[i]->dtype != c->in[0]->dtype)
      return ER_ERR(ER_INVALID_ARGUMENT, "inputs have different types (%s and %s)",
                    er_dtype_name((er_dtype)c->in[0]->dtype), er_dtype_name((er_dtype)c->in[i]->dtype));
  }
  set_blob_shape(c->out[0], ER_DT_SEQUENCE, blob_size(c->n_in, (const er_tensor *const *)c->in));
  return NULL;
}
static er_status construct_run(er_kctx *c) {
  blob_write(c->out[0], c->in[0]->dtype, c->n_in, (const er_tensor *const *)c->in);
  return NULL;
}

/* ---- SequenceLength / SequenceAt ---- */

static er_status length_infer(er_kctx *c) {
  er_tensor_set_shape(c->out[0], ER_I64, 0, NULL);
  return NULL;
}
static er_status length_run(er_kctx *c) {
  const seq_hdr *h;
  const seq_item *its;
  ER_RETURN_IF_ERROR(seq_open(c->in[0], &h, &its));
  *(int64_t *)c->out[0]->data = h->n;
  return NULL;
}

static er_status at_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 2, 2));
  if (!er_in_known(c, 0) || !er_in_known(c, 1)) return er_needs_data(c);
  const seq_hdr *h;
  const seq_item *its;
  ER_RETURN_IF_ERROR(seq_open(c->in[0], &h, &its));
  int64_t p;
  ER_RETURN_IF_ERROR(position_of(c->in[1], h->n, 0, &p));
  er_tensor t = item_tensor(c->in[0], &its[p]);
  er_tensor_set_shape(c->out[0], t.dtype, t.rank, t.dims);
  return NULL;
}
static er_status at_run(er_kctx *c) {
  const seq_hdr *h;
  const seq_item *its;
  ER_RETURN_IF_ERROR(seq_open(c->in[0], &h, &its));
  int64_t p;
  ER_RETURN_IF_ERROR(position_of(c->in[1], h->n, 0, &p));
  er_tensor t = item_tensor(c->in[0], &its[p]);
  size_t nb = er_tensor_nbytes(&t);
  if (nb) memcpy(c->out[0]->data, t.data, nb);
  return NULL;
}

/* ---- SequenceInsert / SequenceErase: rebuild the item list, then size or write ---- */

static er_status edit_items(er_kctx *c, seq_buf *b, int *n, int64_t *elem) {
  if (!er_in_known(c, 0) || (c->n_in > 2 && c->in[2] && !er_in_known(c, 2))) return er_needs_data(c);
  ER_RETURN_IF_ERROR(seq_items(c->in[0], b->items, b->ptrs, n, elem));
  int insert = !strcmp(c->node->op_type, "SequenceInsert");
  const er_tensor *pos_t = insert ? er_in(c, 2) : er_in(c, 1);
  if (insert) {
    if (*n + 1 > SEQ_CAP) return ER_ERR(ER_UNSUPPORTED, "sequence longer than %d", SEQ_CAP);
    if (!c->in[1]) return ER_ERR(ER_INVALID_MODEL, "tensor input is missing");
    if (*elem && c->in[1]->dtype != *elem)
      return ER_ERR(ER_INVALID_ARGUMENT, "inserting %s into a sequence of %s",
                    er_dtype_name((er_dtype)c->in[1]->dtype), er_dtype_name((er_dtype)*elem));
    int64_t p = *n;
    if (pos_t) ER_RETURN_IF_ERROR(position_of(pos_t, *n, 1, &p));
    for (int i = *n; i > p; i--) b->ptrs[i] = b->ptrs[i - 1];
    b->ptrs[p] = c->in[1];
    (*n)++;
    *elem = c->in[1]->dtype;
  } else {
    if (*n == 0) return ER_ERR(ER_OUT_OF_RANGE, "cannot erase from an empty sequence");
    int64_t p = *n - 1;
    if (pos_t) ER_RETURN_IF_ERROR(position_of(pos_t, *n, 0, &p));
    for (int i = (int)p; i + 1 < *n; i++) b->ptrs[i] = b->ptrs[i + 1];
    (*n)--;
  }
  return NULL;
}
/* infer needs the item list too; it gets scratch only at run, so size from the blob directly */
static er_status edit_size(er_kctx *c, size_t *out_bytes) {
  if (!er_in_known(c, 0)) return er_needs_data(c);
  const seq_hdr *h;
  const seq_item *its;
  ER_RETURN_IF_ERROR(seq_open(c->in[0], &h, &its));
  int insert = !strcmp(c->node->op_type, "SequenceInsert");
  const er_tensor *pos_t = insert ? er_in(c, 2) : er_in(c, 1);
  if (pos_t && !pos_t->data) return er_needs_data(c);
  size_t s = align16(sizeof(seq_hdr) + sizeof(seq_item) * (size_t)(h->n + (insert ? 1 : -1)));
  int64_t skip = -1;
  if (!insert) {
    if (h->n == 0) return ER_ERR(ER_OUT_OF_RANGE, "cannot erase from an empty sequence");
    skip = h->n - 1;
    if (pos_t) ER_RETURN_IF_ERROR(position_of(pos_t, h->n, 0, &skip));
  } else {
    if (!c->in[1]) return ER_ERR(ER_INVALID_MODEL, "tensor input is missing");
    int64_t p;
    if (pos_t) ER_RETURN_IF_ERROR(position_of(pos_t, h->n, 1, &p));
    s += align16(er_tensor_nbytes(c->in[1]));
  }
  for (int64_t i = 0; i < h->n; i++) {
    if (i == skip) continue;
    er_tensor t = item_tensor(c->in[0], &its[i]);
    s += align16(er_tensor_nbytes(&t));
  }
  *out_bytes = s;
  return NULL;
}
static er_status edit_infer2(er_kctx *c) {
  size_t bytes = 0;
  ER_RETURN_IF_ERROR(edit_size(c, &bytes));
  set_blob_shape(c->out[0], ER_DT_SEQUENCE, bytes);
  c->scratch_bytes = sizeof(seq_buf);
  return NULL;
}
static er_status edit_run(er_kctx *c) {
  seq_buf *b = (seq_buf *)c->scratch;
  int n = 0;
  int64_t elem = 0;
  ER_RETURN_IF_ERROR(edit_items(c, b, &n, &elem));
  blob_write(c->out[0], elem, n, b->ptrs);
  return NULL;
}

/* ---- SplitToSequence ---- */

static er_status split_plan(er_kctx *c, int *axis, int64_t *sizes, int *n, int *squeeze) {
  const er_tensor *x = c->in[0];
  ER_RETURN_IF_ERROR(er_normalize_axis(er_attr_int(c, "axis", 0), x->rank, axis));
  int64_t len = x->dims[*axis];
  *squeeze = 0;
  const er_tensor *sp = er_in(c, 1);
  if (!sp) {
    if (len > SEQ_CAP) return ER_ERR(ER_UNSUPPORTED, "sequence longer than %d", SEQ_CAP);
    *n = (int)len;
    for (int i = 0; i < *n; i++) sizes[i] = 1;
    *squeeze = er_attr_int(c, "keepdims", 1) == 0;
    return NULL;
  }
  if (!sp->data) return er_needs_data(c);
  if (sp->rank == 0) {
    int64_t k = er_load_i64(sp->data, sp->dtype, 0);
    if (k <= 0) return ER_ERR(ER_INVALID_ARGUMENT, "split size must be positive, got %lld", (long long)k);
    int64_t cnt = (len + k - 1) / k;
    if (cnt > SEQ_CAP) return ER_ERR(ER_UNSUPPORTED, "sequence longer than %d", SEQ_CAP);
    *n = (int)cnt;
    for (int i = 0; i < *n; i++) sizes[i] = (i + 1 < *n) ? k : len - k * (cnt - 1);
    return NULL;
  }
  int cnt;
  ER_RETURN_IF_ERROR(er_read_ints(sp, sizes, SEQ_CAP, &cnt));
  int64_t sum = 0;
  for (int i = 0; i < cnt; i++) {
    if (sizes[i] < 0) return ER_ERR(ER_INVALID_ARGUMENT, "negative split size");
    sum += sizes[i];
  }
  if (sum != len) return ER_ERR(ER_INVALID_ARGUMENT, "split sizes sum to %lld, axis has %lld", (long long)sum, (long long)len);
  *n = cnt;
  return NULL;
}

static void piece_shape(const er_tensor *x, int axis, int64_t size, int squeeze, er_tensor *p) {
  *p = *x;
  p->dims[axis] = size;
  if (squeeze) {
    for (int d = axis; d + 1 < x->rank; d++) p->dims[d] = p->dims[d + 1];
    p->rank--;
  }
}

static er_status split_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 2));
  int axis, n, squeeze;
  int64_t sizes[SEQ_CAP];
  ER_RETURN_IF_ERROR(split_plan(c, &axis, sizes, &n, &squeeze));
  size_t s = align16(sizeof(seq_hdr) + sizeof(seq_item) * (size_t)n);
  for (int i = 0; i < n; i++) {
    er_tensor p;
    piece_shape(c->in[0], axis, sizes[i], squeeze, &p);
    s += align16(er_tensor_nbytes(&p));
  }
  set_blob_shape(c->out[0], ER_DT_SEQUENCE, s);
  return NULL;
}
static er_status split_run(er_kctx *c) {
  int axis, n, squeeze;
  int64_t sizes[SEQ_CAP];
  ER_RETURN_IF_ERROR(split_plan(c, &axis, sizes, &n, &squeeze));
  const er_tensor *x = c->in[0];
  seq_hdr *h = (seq_hdr *)c->out[0]->data;
  seq_item *its = (seq_item *)(h + 1);
  h->n = n;
  h->elem_dtype = x->dtype;
  size_t es = er_dtype_size(x->dtype);
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; d++) outer *= x->dims[d];
  for (int d = axis + 1; d < x->rank; d++) inner *= x->dims[d];
  size_t off = align16(sizeof(seq_hdr) + sizeof(seq_item) * (size_t)n);
  int64_t start = 0;
  for (int i = 0; i < n; i++) {
    er_tensor p;
    piece_shape(x, axis, sizes[i], squeeze, &p);
    memset(&its[i], 0, sizeof its[i]);
    its[i].dtype = p.dtype;
    its[i].rank = p.rank;
    for (int d = 0; d < p.rank; d++) its[i].dims[d] = p.dims[d];
    its[i].offset = (int64_t)off;
    char *dst = (char *)c->out[0]->data + off;
    size_t row = (size_t)(sizes[i] * inner) * es;
    for (int64_t o = 0; o < outer; o++)
      memcpy(dst + (size_t)o * row,
             (const char *)x->data + ((size_t)(o * x->dims[axis] + start) * (size_t)inner) * es, row);
    off += align16(er_tensor_nbytes(&p));
    start += sizes[i];
  }
  return NULL;
}

/* ---- ConcatFromSequence ---- */

static er_status concat_shape(er_kctx *c, er_tensor *out_shape, int *axis_out, int *new_axis_out) {
  if (!er_in_known(c, 0)) return er_needs_data(c);
  const seq_hdr *h;
  const seq_item *its;
  ER_RETURN_IF_ERROR(seq_open(c->in[0], &h, &its));
  if (h->n == 0) return ER_ERR(ER_INVALID_ARGUMENT, "cannot concatenate an empty sequence");
  int new_axis = er_attr_int(c, "new_axis", 0) != 0;
  er_tensor first = item_tensor(c->in[0], &its[0]);
  int axis;
  ER_RETURN_IF_ERROR(er_normalize_axis(er_attr_int(c, "axis", 0), first.rank + new_axis, &axis));
  if (new_axis && first.rank + 1 > ER_MAX_RANK) return ER_ERR(ER_UNSUPPORTED, "rank too large");
  int64_t total = 0;
  for (int64_t i = 0; i < h->n; i++) {
    er_tensor t = item_tensor(c->in[0], &its[i]);
    if (t.rank != first.rank || t.dtype != first.dtype)
      return ER_ERR(ER_INVALID_ARGUMENT, "sequence items differ in rank or type");
    for (int d = 0; d < t.rank; d++)
      if (!new_axis && d == axis) continue;
      else if (t.dims[d] != first.dims[d]) return ER_ERR(ER_INVALID_ARGUMENT, "sequence items differ in shape");
    total += new_axis ? 1 : t.dims[axis];
  }
  *out_shape = first;
  if (new_axis) {
    for (int d = first.rank; d > axis; d--) out_shape->dims[d] = out_shape->dims[d - 1];
    out_shape->rank++;
  }
  out_shape->dims[axis] = total;
  *axis_out = axis;
  *new_axis_out = new_axis;
  return NULL;
}
static er_status concat_infer(er_kctx *c) {
  er_tensor s;
  int axis, na;
  ER_RETURN_IF_ERROR(concat_shape(c, &s, &axis, &na));
  er_tensor_set_shape(c->out[0], s.dtype, s.rank, s.dims);
  return NULL;
}
static er_status concat_run(er_kctx *c) {
  er_tensor s;
  int axis, na;
  ER_RETURN_IF_ERROR(concat_shape(c, &s, &axis, &na));
  const seq_hdr *h;
  const seq_item *its;
  ER_RETURN_IF_ERROR(seq_open(c->in[0], &h, &its));
  size_t es = er_dtype_size(s.dtype);
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; d++) outer *= s.dims[d];
  for (int d = axis + 1; d < s.rank; d++) inner *= s.dims[d];
  int64_t at = 0;
  for (int64_t i = 0; i < h->n; i++) {
    er_tensor t = item_tensor(c->in[0], &its[i]);
    int64_t len = na ? 1 : t.dims[axis];
    size_t row = (size_t)(len * inner) * es;
    for (int64_t o = 0; o < outer; o++)
      memcpy((char *)c->out[0]->data + ((size_t)(o * s.dims[axis] + at) * (size_t)inner) * es,
             (const char *)t.data + (size_t)o * row, row);
    at += len;
  }
  return NULL;
}

/* ---- Optional ---- */

static er_status optional_infer(er_kctx *c) {
  const er_tensor *x = er_in(c, 0);
  if (x && x->dtype == ER_DT_SEQUENCE) return ER_ERR(ER_UNSUPPORTED, "optional sequences are not supported");
  set_blob_shape(c->out[0], ER_DT_OPTIONAL, x ? blob_size(1, &x) : blob_size(0, NULL));
  return NULL;
}
static er_status optional_run(er_kctx *c) {
  const er_tensor *x = er_in(c, 0);
  if (x) blob_write(c->out[0], x->dtype, 1, &x);
  else blob_write(c->out[0], 0, 0, NULL);
  return NULL;
}

static er_status has_infer(er_kctx *c) {
  er_tensor_set_shape(c->out[0], ER_BOOL, 0, NULL);
  return NULL;
}
static er_status has_run(er_kctx *c) {
  const er_tensor *x = er_in(c, 0);
  uint8_t has = 0;
  if (x && x->dtype == ER_DT_OPTIONAL) {
    const seq_hdr *h;
    const seq_item *its;
    ER_RETURN_IF_ERROR(seq_open(x, &h, &its));
    has = h->n > 0;
  } else if (x) {
    has = 1; /* a plain tensor or sequence is always present */
  }
  *(uint8_t *)c->out[0]->data = has;
  return NULL;
}

static er_status get_infer(er_kctx *c) {
  ER_RETURN_IF_ERROR(er_check_inputs(c, 1, 1));
  const er_tensor *x = c->in[0];
  if (x->dtype != ER_DT_OPTIONAL) {
    er_tensor_set_shape(c->out[0], x->dtype, x->rank, x->dims);
    return NULL;
  }
  if (!x->data) return er_needs_data(c);
  const seq_hdr *h;
  const seq_item *its;
  ER_RETURN_IF_ERROR(seq_open(x, &h, &its));
  if (h->n == 0) return ER_ERR(ER_INVALID_ARGUMENT, "optional input is empty");
  er_tensor t = item_tensor(x, &its[0]);
  er_tensor_set_shape(c->out[0], t.dtype, t.rank, t.dims);
  return NULL;
}
static er_status get_run(er_kctx *c) {
  const er_tensor *x = c->in[0];
  er_tensor t = *x;
  if (x->dtype == ER_DT_OPTIONAL) {
    const seq_hdr *h;
    const seq_item *its;
    ER_RETURN_IF_ERROR(seq_open(x, &h, &its));
    if (h->n == 0) return ER_ERR(ER_INVALID_ARGUMENT, "optional input is empty");
    t = item_tensor(x, &its[0]);
  }
  size_t nb = er_tensor_nbytes(&t);
  if (nb) memcpy(c->out[0]->data, t.data, nb);
  return NULL;
}

const er_op_def er_ops_sequence[] = {
    ER_OPDEF(SequenceEmpty, {"SequenceEmpty", "", 11, 0, empty_infer, empty_run, 0})
    ER_OPDEF(SequenceConstruct, {"SequenceConstruct", "", 11, 0, construct_infer, construct_run, 0})
    ER_OPDEF(SequenceLength, {"SequenceLength", "", 11, 0, length_infer, length_run, 0})
    ER_OPDEF(SequenceAt, {"SequenceAt", "", 11, 0, at_infer, at_run, 0})
    ER_OPDEF(SequenceInsert, {"SequenceInsert", "", 11, 0, edit_infer2, edit_run, 0})
    ER_OPDEF(SequenceErase, {"SequenceErase", "", 11, 0, edit_infer2, edit_run, 0})
    ER_OPDEF(SplitToSequence, {"SplitToSequence", "", 11, 0, split_infer, split_run, 0})
    ER_OPDEF(ConcatFromSequence, {"ConcatFromSequence", "", 11, 0, concat_infer, concat_run, 0})
    ER_OPDEF(Optional, {"Optional", "", 15, 0, optional_infer, optional_run, 0})
    ER_OPDEF(OptionalHasElement, {"OptionalHasElement", "", 15, 0, has_infer, has_run, 0})
    ER_OPDEF(OptionalGetElement, {"OptionalGetElement", "", 15, 0, get_infer, get_run, 0})
    {0},
};
