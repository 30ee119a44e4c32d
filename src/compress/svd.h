/*
 * Singular value decomposition (host code, double precision, no LAPACK): one-sided Jacobi
 * (Hestenes) on the columns of the taller orientation of A, cyclic sweeps until every
 * column pair is orthogonal to within m * DBL_EPSILON relative (at most 60 sweeps).
 *
 * Thin SVD of the m x n row-major matrix A: A = U diag(S) V^T with k = min(m, n),
 * U m x k and V n x k row-major, S[k] in descending order. For a singular value of 0 the
 * column of U (of V when m < n) is 0: the rank-deficient part is not completed to a basis.
 * Returns 0, -1 (out of memory) or 1 (did not converge; the outputs still hold the
 * last iterate).
 */
#ifndef ER_COMPRESS_SVD_H
#define ER_COMPRESS_SVD_H

int er_svd(const double *a, int m, int n, double *u, double *s, double *v);
#endif
