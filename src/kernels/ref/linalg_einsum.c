/* Einsum: explicit ("ij,jk->ik") and implicit ("ij,jk") output, repeated labels within one
 * operand (diagonals), ellipsis with numpy broadcasting, and summation over every label
 * missing from the output. Computed as a loop over the output elements, each one summing
 * the product of operand elements over the reduced labels. */
#include <math.h>
#include <string.h>

#include "kernels/kernel.h"

#define EIN_MAX_OPS 16
#define EIN_MAX_LABELS 64 /* 52 letters + ellipsis dims */

typedef struct {
  int n_ops;
  int n_labels;              /* letters used, then ellipsis labels */
  int64_t size[EIN_MAX_LABELS];
  int n_out;
  int out_label[ER_MAX_RANK];
  int n_red;
  int red_label[EIN_MAX_LABELS];
  /* stride of each operand along each label (sum over repeated labels; 0 if absent) */
  int64_t stride[EIN_MAX_OPS][EIN_MAX_LABELS];
} ein_plan;

static int letter_id(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return 26 + c - 'a';
  return -1;
}

typedef struct {
  int n;               /* letters in the term */
  int lab[ER_MAX_RANK + 2]; /* letter ids, -1 marks the ellipsis position */
  int ell;             /* 1 if the term has an ellipsis */
} ein_term;

static er_status parse_term(const char *s, size_t len, ein_term *t) {
  t->n = 0, t->ell = 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (c == ' ') continue;
    if (c == '.') {
      if (t->ell || i + 2 >= len || s[i + 1] != '.' || s[i + 2] != '.')
        return ER_ERR(ER_INVALID_ARGUMENT, "bad ellipsis in einsum term '%.*s'", (int)len, s);
      t->ell = 1;
      i += 2;
      if (t->n >= ER_MAX_RANK + 1) return ER_ERR(ER_INVALID_ARGUMENT, "einsum term too long");
      t->lab[t->n++] = -1;
      continue;
    }
    int id = letter_id(c);
    if (id < 0) return ER_ERR(ER_INVALID_ARGUMENT, "bad character '%c' in einsum equation", c);
    if (t->n >= ER_MAX_RANK + 1) return ER_ERR(ER_INVALID_ARGUMENT, "einsum term too long");
    t->lab[t->n++] = id;
  }
  return 0;
}

static er_status ein_build(const er_kctx *ctx, ein_plan *p) {
  const char *eq = er_attr_str(ctx, "equation", 0);
  if (!eq) return ER_ERR(ER_INVALID_MODEL, "attribute equation is required");
  int n_ops = ctx->n_in;
  if (n_ops < 1 || n_ops > EIN_MAX_OPS)
    return ER_ERR(ER_UNSUPPORTED, "einsum with %d operands is not supported", n_ops);
  memset(p, 0, sizeof *p);
  p->n_ops = n_ops;
  const char *arrow = strstr(eq, "->");
  size_t lhs_len = arrow ? (size_t)(arrow - eq) : strlen(eq);
  ein_term terms[EIN_MAX_OPS], out;
  int t = 0;
  size_t start = 0;
  for (size_t i = 0; i <= lhs_len; i++) {
    if (i == lhs_len || eq[i] == ',') {
      if (t >= n_ops)
        return ER_ERR(ER_INVALID_ARGUMENT, "equation '%s' has more terms than the %d inputs", eq, n_ops);
      ER_RETURN_IF_ERROR(parse_term(eq + start, i - start, &terms[t]));
      t++;
      start = i + 1;
    }
  }
  if (t != n_ops)
    return ER_ERR(ER_INVALID_ARGUMENT, "equation '%s' has %d terms for %d inputs", eq, t, n_ops);
  /* letter sizes and ellipsis rank */
  int64_t lsize[52];
  int count[52];
  for (int i = 0; i < 52; i++) lsize[i] = -1, count[i] = 0;
  int ell_rank = 0;
  int ell_n[EIN_MAX_OPS];
  for (int o = 0; o < n_ops; o++) {
    const er_tensor *x = ctx->in[o];
    if (!x) return ER_ERR(ER_INVALID_MODEL, "input %d is missing", o);
    int letters = terms[o].n - terms[o].ell;
    ell_n[o] = x->rank - letters;
    if (ell_n[o] < 0 || (!terms[o].ell && ell_n[o] != 0))
      return ER_ERR(ER_INVALID_ARGUMENT, "einsum term %d has %d labels for an input of rank %d",
                    o, letters, x->rank);
    if (ell_n[o] > ell_rank) ell_rank = ell_n[o];
  }
  int64_t esize[ER_MAX_RANK];
  for (int e = 0; e < ell_rank; e++) esize[e] = 1;
  for (int o = 0; o < n_ops; o++) {
    const er_tensor *x = ctx->in[o];
    int d = 0;
    for (int j = 0; j < terms[o].n; j++) {
      int id = terms[o].lab[j];
      if (id < 0) {
        for (int e = 0; e < ell_n[o]; e++, d++) {
          int64_t *s = &esize[ell_rank - ell_n[o] + e];
          if (*s == 1) *s = x->dims[d];
          else if (x->dims[d] != 1 && x->dims[d] != *s)
            return ER_ERR(ER_INVALID_ARGUMENT, "einsum ellipsis dimensions do not broadcast");
        }
        continue;
      }
      count[id]++;
      int64_t dim = x->dims[d++];
      if (lsize[id] < 0 || lsize[id] == 1) lsize[id] = dim;
      else if (dim != 1 && dim != lsize[id])
        return ER_ERR(ER_INVALID_ARGUMENT, "einsum label '%c' has sizes %lld and %lld",
                      id < 26 ? 'A' + id : 'a' + id - 26, (long long)lsize[id], (long long)dim);
    }
  }
  /* label numbering: letters 0..51 keep their ids, ellipsis dims follow */
  p->n_labels = 52 + ell_rank;
  for (int i = 0; i < 52; i++) p->size[i] = lsize[i] < 0 ? 1 : lsize[i];
  for (int e = 0; e < ell_rank; e++) p->size[52 + e] = esize[e];
  int in_out[EIN_MAX_LABELS] = {0};
  if (arrow) {
    ER_RETURN_IF_ERROR(parse_term(arrow + 2, strlen(arrow + 2), &out));
    for (int j = 0; j < out.n; j++) {
      int id = out.lab[j];
      if (id < 0) {
        for (int e = 0; e < ell_rank; e++) {
          if (p->n_out >= ER_MAX_RANK) return ER_ERR(ER_UNSUPPORTED, "einsum output rank too large");
          p->out_label[p->n_out++] = 52 + e, in_out[52 + e] = 1;
        }
        continue;
      }
      if (!count[id])
        return ER_ERR(ER_INVALID_ARGUMENT, "output label '%c' does not appear in the inputs",
                      id < 26 ? 'A' + id : 'a' + id - 26);
      if (in_out[id])
        return ER_ERR(ER_INVALID_ARGUMENT, "output label '%c' repeated", id < 26 ? 'A' + id : 'a' + id - 26);
      if (p->n_out >= ER_MAX_RANK) return ER_ERR(ER_UNSUPPORTED, "einsum output rank too large");
      p->out_label[p->n_out++] = id, in_out[id] = 1;
    }
    /* ellipsis dims missing from an explicit output are summed over */
  } else { /* implicit: ellipsis dims, then letters seen once, in ASCII order */
    for (int e = 0; e < ell_rank; e++) p->out_label[p->n_out++] = 52 + e, in_out[52 + e] = 1;
    for (int id = 0; id < 52; id++)
      if (count[id] == 1) {
        if (p->n_out >= ER_MAX_RANK) return ER_ERR(ER_UNSUPPORTED, "einsum output rank too large");
        p->out_label[p->n_out++] = id, in_out[id] = 1;
      }
  }
  for (int id = 0; id < p->n_labels; id++)
    if (!in_out[id] && (id >= 52 || count[id])) p->red_label[p->n_red++] = id;
  /* operand strides per label */
  for (int o = 0; o < n_ops; o++) {
    const er_tensor *x = ctx->in[o];
    int64_t str[ER_MAX_RANK];
    er_contiguous_strides(x->dims, x->rank, str);
    int d = 0;
    for (int j = 0; j < terms[o].n; j++) {
      int id = terms[o].lab[j];
      if (id < 0) {
        for (int e = 0; e < ell_n[o]; e++, d++)
          if (x->dims[d] != 1) p->stride[o][52 + ell_rank - ell_n[o] + e] += str[d];
        continue;
      }
      if (x->dims[d] != 1 || p->size[id] == 1) p->stride[o][id] += str[d];
      d++;
    }
  }
  return 0;
}

static er_status einsum_infer(er_kctx *ctx) {
  static const int types[] = {ER_F32, ER_F64, ER_F16, ER_BF16, ER_I8, ER_I16, ER_I32,
                              ER_I64, ER_U8, ER_U16, ER_U32, ER_U64, 0};
  for (int o = 0; o < ctx->n_in; o++) {
    ER_RETURN_IF_ERROR(er_check_type(ctx, o, types));
    if (ctx->in[o]->dtype != ctx->in[0]->dtype)
      return ER_ERR(ER_INVALID_ARGUMENT, "all inputs must have the same type");
  }
  ein_plan p;
  ER_RETURN_IF_ERROR(ein_build(ctx, &p));
  int64_t dims[ER_MAX_RANK];
  for (int i = 0; i < p.n_out; i++) dims[i] = p.size[p.out_label[i]];
  er_tensor_set_shape(ctx->out[0], ctx->in[0]->dtype, p.n_out, dims);
  return 0;
}

static er_status einsum_run(er_kctx *ctx) {
  ein_plan p;
  ER_RETURN_IF_ERROR(ein_build(ctx, &p));
  int n_ops = p.n_ops, dt = ctx->in[0]->dtype, isf = er_dtype_is_float(dt);
  er_tensor *y = ctx->out[0];
  int64_t on = er_tensor_numel(y), rn = 1;
  for (int r = 0; r < p.n_red; r++) rn *= p.size[p.red_label[r]];
  const void *data[EIN_MAX_OPS];
  for (int o = 0; o < n_ops; o++) data[o] = ctx->in[o]->data;
  /* the last reduced label runs in the innermost loop; the others in an odometer */
  int n_outer_red = p.n_red > 0 ? p.n_red - 1 : 0;
  int64_t len = p.n_red > 0 ? p.size[p.red_label[p.n_red - 1]] : 1, lstr[EIN_MAX_OPS];
  for (int o = 0; o < n_ops; o++) lstr[o] = p.n_red > 0 ? p.stride[o][p.red_label[p.n_red - 1]] : 0;
  int64_t outer_n = len ? rn / len : 0;
  int64_t oidx[ER_MAX_RANK] = {0}, obase[EIN_MAX_OPS] = {0};
  for (int64_t oi = 0; oi < on; oi++) {
    double facc = 0;
    uint64_t iacc = 0;
    int64_t ridx[EIN_MAX_LABELS] = {0}, off[EIN_MAX_OPS];
    for (int o = 0; o < n_ops; o++) off[o] = obase[o];
    for (int64_t ri = 0; ri < outer_n; ri++) {
      if (dt == ER_F32 && n_ops == 2) {
        const float *a = (const float *)data[0] + off[0], *b = (const float *)data[1] + off[1];
        for (int64_t t = 0; t < len; t++) facc += (double)a[t * lstr[0]] * b[t * lstr[1]];
      } else if (dt == ER_F64 && n_ops == 2) {
        const double *a = (const double *)data[0] + off[0], *b = (const double *)data[1] + off[1];
        for (int64_t t = 0; t < len; t++) facc += a[t * lstr[0]] * b[t * lstr[1]];
      } else if (isf) {
        for (int64_t t = 0; t < len; t++) {
          double v = er_ld(data[0], dt, off[0] + t * lstr[0]);
          for (int o = 1; o < n_ops; o++) v *= er_ld(data[o], dt, off[o] + t * lstr[o]);
          facc += v;
        }
      } else {
        for (int64_t t = 0; t < len; t++) {
          uint64_t v = (uint64_t)er_load_i64(data[0], dt, (size_t)(off[0] + t * lstr[0]));
          for (int o = 1; o < n_ops; o++)
            v *= (uint64_t)er_load_i64(data[o], dt, (size_t)(off[o] + t * lstr[o]));
          iacc += v;
        }
      }
      for (int r = n_outer_red - 1; r >= 0; r--) {
        int l = p.red_label[r];
        for (int o = 0; o < n_ops; o++) off[o] += p.stride[o][l];
        if (++ridx[r] < p.size[l]) break;
        for (int o = 0; o < n_ops; o++) off[o] -= p.stride[o][l] * p.size[l];
        ridx[r] = 0;
      }
    }
    if (isf) er_store_f64(y->data, dt, (size_t)oi, facc);
    else er_store_i64(y->data, dt, (size_t)oi, (int64_t)iacc);
    for (int d = p.n_out - 1; d >= 0; d--) {
      int l = p.out_label[d];
      for (int o = 0; o < n_ops; o++) obase[o] += p.stride[o][l];
      if (++oidx[d] < p.size[l]) break;
      for (int o = 0; o < n_ops; o++) obase[o] -= p.stride[o][l] * p.size[l];
      oidx[d] = 0;
    }
  }
  return 0;
}

er_status er_linalg_einsum_infer(er_kctx *ctx) { return einsum_infer(ctx); }
er_status er_linalg_einsum_run(er_kctx *ctx) { return einsum_run(ctx); }
