/*
 * linesearch.h -- the strong-Wolfe line searches behind galann_minimize_cg.
 *
 * Internal to libgalann (nothing here is exported). Two searches on a
 * one-dimensional function phi(alpha) = f(x + alpha p):
 *
 *   - linesearch_more_thuente: the More-Thuente search (MINPACK-2 dcsrch
 *     with its safeguarded step dcstep), as scipy's scalar_search_wolfe1
 *     drives it;
 *   - linesearch_nocedal_wright: the bracketing search with the cubic /
 *     quadratic "zoom" of Nocedal & Wright (Alg. 3.5 / 3.6), as scipy's
 *     scalar_search_wolfe2 implements it;
 *
 * and linesearch_strong_wolfe, which combines them as scipy's
 * _line_search_wolfe12 does for fmin_cg. The goal is the same sequence of
 * trial steps as scipy, bit for bit, so the order of floating-point
 * operations follows scipy's where it matters.
 *
 * Not here: anything about vectors. The caller's evaluate callback maps a
 * step to (phi, phi') and owns the caching of objective calls.
 */
#ifndef GALANN_LINESEARCH_H
#define GALANN_LINESEARCH_H

#include <stddef.h>

/* Write phi(alpha) and phi'(alpha). Return 0, or a nonzero status that
 * aborts the search and is handed back to the caller of the search. */
typedef int (*linesearch_evaluate_fn)(void *ctx, double alpha, double *phi, double *dphi);

/* An extra acceptance test for a step that already satisfies the strong
 * Wolfe conditions (scipy's extra_condition). The searches call it only for
 * the step they evaluated last. Write 1 to *accepted to take the step, 0
 * to reject it; return 0 or a nonzero status as evaluate does. */
typedef int (*linesearch_accept_fn)(void *ctx, double alpha, int *accepted);

typedef struct linesearch_line {
    linesearch_evaluate_fn evaluate;
    linesearch_accept_fn accept; /* NULL: every strong-Wolfe step is accepted */
    void *ctx;
} linesearch_line;

typedef enum linesearch_result {
    LINESEARCH_FOUND = 0,     /* strong Wolfe conditions and accept hold at alpha */
    LINESEARCH_LAST_TRIAL,    /* the Nocedal-Wright search ran out of its
                                 expansion steps; like scipy, its last trial
                                 step is returned unchecked */
    LINESEARCH_FAILED         /* no step; the caller stops ("precision loss") */
} linesearch_result;

typedef struct linesearch_outcome {
    linesearch_result result;
    double alpha;             /* the step, when not FAILED */
    double phi;               /* phi(alpha): the last value evaluated */
    int used_fallback;        /* 1 when the More-Thuente search did not give the step */
} linesearch_outcome;

/* scipy's first trial step from the previous decrease:
 * min(1, 1.01 * 2 * (phi0 - old_phi0) / dphi0), 1 if that is negative. */
double linesearch_initial_step(double phi0, double old_phi0, double dphi0);

/* More-Thuente search from alpha1 with c1 (ftol) and c2 (gtol); step bounds
 * [1e-100, 1e100], xtol 1e-14, at most 100 evaluations, as fmin_cg uses
 * it. Does not call line->accept. Returns 0 or evaluate's status. */
int linesearch_more_thuente(const linesearch_line *line, double phi0, double dphi0,
                            double alpha1, double c1, double c2, linesearch_outcome *out);

/* Nocedal-Wright search with step bound amax (scipy's line_search_wolfe2,
 * maxiter 10), using line->accept. Returns 0 or a callback's status. */
int linesearch_nocedal_wright(const linesearch_line *line, double phi0, double dphi0,
                              double old_phi0, double c1, double c2, double amax,
                              linesearch_outcome *out);

/* fmin_cg's search: More-Thuente, its step checked with line->accept; if it
 * fails or is rejected, the Nocedal-Wright search with amax = 1e100.
 * Returns 0 or a callback's status. */
int linesearch_strong_wolfe(const linesearch_line *line, double phi0, double dphi0,
                            double old_phi0, double c1, double c2, linesearch_outcome *out);

#endif /* GALANN_LINESEARCH_H */
