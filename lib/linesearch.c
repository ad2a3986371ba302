/*
 * linesearch.c -- strong-Wolfe line searches reproducing scipy's fmin_cg.
 *
 * What it is for: find a step alpha along a descent direction that
 * satisfies the strong Wolfe conditions
 *     phi(alpha) <= phi(0) + c1 alpha phi'(0),  |phi'(alpha)| <= c2 |phi'(0)|,
 * with exactly the trial steps scipy.optimize.fmin_cg takes, so that a run
 * of galann_minimize_cg follows a recorded scipy trajectory.
 *
 * Sources: J. J. More and D. J. Thuente, "Line search algorithms with
 * guaranteed sufficient decrease", ACM TOMS 20(3), 1994 (MINPACK-2 dcsrch /
 * dcstep); J. Nocedal and S. J. Wright, "Numerical Optimization",
 * Algorithms 3.5 and 3.6; scipy.optimize._dcsrch and _linesearch for the
 * constants, the order of operations and the failure rules.
 *
 * What it is not: a general line-search library. Parameters that fmin_cg
 * never changes (step bounds, xtol, iteration limits) are constants here.
 *
 * Floating point: expressions keep scipy's association and use x*x where
 * numpy squares and pow() where Python cubes; comparisons keep Python's
 * min/max/NaN behaviour (see the py_ and np_ helpers). Build without
 * floating-point contraction (no FMA), which the pragma below asks for.
 */
#include <math.h>
#include <stddef.h>

#include "linesearch.h"

/* scipy rounds every product before it adds (numpy has no fused
 * multiply-add); keep the compiler from fusing them, whatever -std or
 * -march the build uses, or the last bits and then the trajectory change. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

/* Step bounds: fmin_cg passes amin = 1e-100 and amax = 1e100. */
#define STEP_MIN 1e-100
#define STEP_MAX 1e100
/* xtol = 1e-14: scalar_search_wolfe1's default relative interval width. */
#define INTERVAL_XTOL 1e-14
/* maxiter = 100: scalar_search_wolfe1's limit on dcsrch calls. */
#define MT_MAX_CALLS 100
/* 0.66: dcsrch forces a bisection unless the bracket shrinks by this much in
 * two trials; dcstep also keeps a bracketed step within this fraction. */
#define MT_SHRINK 0.66
/* xtrapl = 1.1, xtrapu = 4.0: dcsrch's extrapolation range, in multiples of
 * the last step's distance. */
#define MT_EXTRAP_LOWER 1.1
#define MT_EXTRAP_UPPER 4.0
/* maxiter = 10: line_search_wolfe2's number of expansion steps, and _zoom's
 * limit on interpolation steps. */
#define NW_MAX_EXPANSIONS 10
#define NW_MAX_ZOOMS 10
/* delta1 = 0.2, delta2 = 0.1: _zoom's margins for the cubic and quadratic
 * interpolants, as fractions of the interval. */
#define NW_CUBIC_MARGIN 0.2
#define NW_QUAD_MARGIN 0.1
/* amax = 1e100: the bound _line_search_wolfe12 hands to the fallback. */
#define FALLBACK_AMAX 1e100

/* ------------------------------------------------ Python's comparisons */

/* Python's min(a, b): a unless b is smaller (so a NaN in a survives). */
static double py_min(double a, double b)
{
    return b < a ? b : a;
}

/* Python's max(a, b): a unless b is larger. */
static double py_max(double a, double b)
{
    return b > a ? b : a;
}

static double py_max3(double a, double b, double c)
{
    return py_max(py_max(a, b), c);
}

/* numpy.sign: -1, 0, 1, or NaN for NaN. */
static double np_sign(double v)
{
    if (v > 0.0)
        return 1.0;
    if (v < 0.0)
        return -1.0;
    return v; /* 0, -0 or NaN: numpy gives 0 for zeros, NaN for NaN */
}

/* numpy.clip(v, lo, hi): min(max(v, lo), hi), a NaN v propagating. */
static double np_clip(double v, double lo, double hi)
{
    if (isnan(v))
        return v;
    v = v > lo ? v : lo;
    return v < hi ? v : hi;
}

double linesearch_initial_step(double phi0, double old_phi0, double dphi0)
{
    double alpha1 = 1.0;
    /* 1.01 * 2: scipy's guess doubles the last decrease over the slope,
     * with 1 % to spare, so that a quadratic model's minimizer is bracketed. */
    if (dphi0 != 0.0)
        alpha1 = py_min(1.0, 1.01 * 2 * (phi0 - old_phi0) / dphi0);
    if (alpha1 < 0.0)
        alpha1 = 1.0;
    return alpha1;
}

/* ============================================ More-Thuente (dcsrch) */

/* The interval dcstep maintains: stx is the best step so far, sty the
 * other end; f and d are the function and derivative there. */
struct mt_interval {
    double stx, fx, dx;
    double sty, fy, dy;
    int bracketed;
};

/* gamma of the cubic through (stx, fx, dx) and (stp, fp, dp), scaled by s
 * to avoid overflow: s sqrt((theta/s)^2 - (dx/s)(dp/s)). */
static double cubic_gamma(double theta, double d1, double d2, double s)
{
    double t = theta / s;
    return s * sqrt(t * t - (d1 / s) * (d2 / s));
}

/* Case 1 of dcstep: a higher function value, so the minimum is bracketed.
 * Take the cubic step if it is closer to stx than the quadratic step,
 * otherwise their average. */
static double step_after_higher_value(const struct mt_interval *iv, double stp, double fp, double dp)
{
    double stx = iv->stx, fx = iv->fx, dx = iv->dx;
    double theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp;
    double s = py_max3(fabs(theta), fabs(dx), fabs(dp));
    double gamma = cubic_gamma(theta, dx, dp, s);
    if (stp < stx)
        gamma = -gamma;
    double p = (gamma - dx) + theta;
    double q = ((gamma - dx) + gamma) + dp;
    double r = p / q;
    double stpc = stx + r * (stp - stx);
    double stpq = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / 2.0) * (stp - stx);
    if (fabs(stpc - stx) <= fabs(stpq - stx))
        return stpc;
    return stpc + (stpq - stpc) / 2.0;
}

/* Case 2: a lower value and derivatives of opposite sign, so the minimum
 * is bracketed. Take the cubic step if it is farther from stp than the
 * secant step, otherwise the secant step. */
static double step_after_sign_change(const struct mt_interval *iv, double stp, double fp, double dp)
{
    double stx = iv->stx, fx = iv->fx, dx = iv->dx;
    double theta = 3 * (fx - fp) / (stp - stx) + dx + dp;
    double s = py_max3(fabs(theta), fabs(dx), fabs(dp));
    double gamma = cubic_gamma(theta, dx, dp, s);
    if (stp > stx)
        gamma = -gamma;
    double p = (gamma - dp) + theta;
    double q = ((gamma - dp) + gamma) + dx;
    double r = p / q;
    double stpc = stp + r * (stx - stp);
    double stpq = stp + (dp / (dp - dx)) * (stx - stp);
    if (fabs(stpc - stp) > fabs(stpq - stp))
        return stpc;
    return stpq;
}

/* Case 3: a lower value, derivatives of the same sign, and the derivative's
 * magnitude decreases. The cubic step is used only if the cubic tends to
 * infinity in the direction of the step or its minimum lies beyond stp;
 * otherwise the step goes to the bound. */
static double step_after_slope_decrease(const struct mt_interval *iv, double stp, double fp, double dp,
                                        double stpmin, double stpmax)
{
    double stx = iv->stx, fx = iv->fx, dx = iv->dx;
    double theta = 3 * (fx - fp) / (stp - stx) + dx + dp;
    double s = py_max3(fabs(theta), fabs(dx), fabs(dp));
    double t = theta / s;
    /* gamma = 0 only when the cubic does not tend to infinity along the step */
    double gamma = s * sqrt(py_max(0.0, t * t - (dx / s) * (dp / s)));
    if (stp > stx)
        gamma = -gamma;
    double p = (gamma - dp) + theta;
    double q = (gamma + (dx - dp)) + gamma;
    double r = p / q;
    double stpc;
    if (r < 0 && gamma != 0)
        stpc = stp + r * (stx - stp);
    else if (stp > stx)
        stpc = stpmax;
    else
        stpc = stpmin;
    double stpq = stp + (dp / (dp - dx)) * (stx - stp);
    double stpf;

    if (iv->bracketed) {
        /* Bracketed: the step closer to stp, but no farther than 0.66 of
         * the way to sty, so the interval keeps shrinking. */
        stpf = fabs(stpc - stp) < fabs(stpq - stp) ? stpc : stpq;
        if (stp > stx)
            stpf = py_min(stp + MT_SHRINK * (iv->sty - stp), stpf);
        else
            stpf = py_max(stp + MT_SHRINK * (iv->sty - stp), stpf);
    } else {
        /* Not bracketed: the step farther from stp, within the bounds. */
        stpf = fabs(stpc - stp) > fabs(stpq - stp) ? stpc : stpq;
        stpf = np_clip(stpf, stpmin, stpmax);
    }
    return stpf;
}

/* Case 4: a lower value, derivatives of the same sign, and the derivative
 * does not decrease. Unbracketed, go to a bound; bracketed, take the cubic
 * step through stp and sty. */
static double step_after_slope_increase(const struct mt_interval *iv, double stp, double fp, double dp,
                                        double stpmin, double stpmax)
{
    if (!iv->bracketed)
        return stp > iv->stx ? stpmax : stpmin;

    double sty = iv->sty, fy = iv->fy, dy = iv->dy;
    double theta = 3.0 * (fp - fy) / (sty - stp) + dy + dp;
    double s = py_max3(fabs(theta), fabs(dy), fabs(dp));
    double gamma = cubic_gamma(theta, dy, dp, s);
    if (stp > sty)
        gamma = -gamma;
    double p = (gamma - dp) + theta;
    double q = ((gamma - dp) + gamma) + dy;
    double r = p / q;
    return stp + r * (sty - stp);
}

/* dcstep: compute a safeguarded trial step from the interval and the new
 * point (stp, fp, dp), then update the interval so that it still contains
 * a step satisfying the Wolfe conditions. Returns the new trial step. */
static double dcstep_next_step(struct mt_interval *iv, double stp, double fp, double dp,
                               double stpmin, double stpmax)
{
    /* dcstep's sgnd = dp * (dx / |dx|), as numpy signs (NaN-aware) */
    double sgnd = np_sign(dp) * np_sign(iv->dx);
    double stpf;

    if (fp > iv->fx) {
        stpf = step_after_higher_value(iv, stp, fp, dp);
        iv->bracketed = 1;
    } else if (sgnd < 0.0) {
        stpf = step_after_sign_change(iv, stp, fp, dp);
        iv->bracketed = 1;
    } else if (fabs(dp) < fabs(iv->dx)) {
        stpf = step_after_slope_decrease(iv, stp, fp, dp, stpmin, stpmax);
    } else {
        stpf = step_after_slope_increase(iv, stp, fp, dp, stpmin, stpmax);
    }

    if (fp > iv->fx) {
        iv->sty = stp;
        iv->fy = fp;
        iv->dy = dp;
    } else {
        if (sgnd < 0.0) {
            iv->sty = iv->stx;
            iv->fy = iv->fx;
            iv->dy = iv->dx;
        }
        iv->stx = stp;
        iv->fx = fp;
        iv->dx = dp;
    }
    return stpf;
}

/* dcsrch's saved state between evaluations. */
struct more_thuente {
    double ftol, gtol;           /* c1 and c2 */
    int stage;                   /* 1 until psi <= 0 and phi' >= 0, then 2 */
    double finit, ginit, gtest;  /* phi(0), phi'(0), c1 phi'(0) */
    double width, width1;        /* the last two bracket widths */
    double stmin, stmax;         /* where the next step may fall */
    struct mt_interval iv;
};

enum mt_verdict { MT_CONVERGED, MT_WARNING, MT_EVALUATE };

static void more_thuente_start(struct more_thuente *mt, double stp, double phi0, double dphi0,
                               double c1, double c2)
{
    mt->ftol = c1;
    mt->gtol = c2;
    mt->stage = 1;
    mt->finit = phi0;
    mt->ginit = dphi0;
    mt->gtest = mt->ftol * mt->ginit;
    mt->width = STEP_MAX - STEP_MIN;
    mt->width1 = mt->width / 0.5;
    mt->iv.stx = 0.0;
    mt->iv.fx = phi0;
    mt->iv.dx = dphi0;
    mt->iv.sty = 0.0;
    mt->iv.fy = phi0;
    mt->iv.dy = dphi0;
    mt->iv.bracketed = 0;
    mt->stmin = 0.0;
    /* the first upper bound of the search: stp + 4 stp */
    mt->stmax = stp + MT_EXTRAP_UPPER * stp;
}

/* Stage 1 with a lower value but not yet sufficient decrease: dcstep works
 * on psi(a) = phi(a) - c1 a phi'(0) (the constant phi(0) dropped), whose
 * minimizer it can bracket where phi's may not yet be. */
static double step_on_modified_function(struct more_thuente *mt, double stp, double f, double g)
{
    struct mt_interval *iv = &mt->iv;
    double gtest = mt->gtest;
    double fm = f - stp * gtest;
    double gm = g - gtest;
    iv->fx = iv->fx - iv->stx * gtest;
    iv->fy = iv->fy - iv->sty * gtest;
    iv->dx = iv->dx - gtest;
    iv->dy = iv->dy - gtest;

    double next = dcstep_next_step(iv, stp, fm, gm, mt->stmin, mt->stmax);

    iv->fx = iv->fx + iv->stx * gtest;
    iv->fy = iv->fy + iv->sty * gtest;
    iv->dx = iv->dx + gtest;
    iv->dy = iv->dy + gtest;
    return next;
}

/* One dcsrch call after an evaluation (f, g) at *stp: decide convergence or
 * failure, or write the next trial step to *stp. */
static enum mt_verdict more_thuente_iterate(struct more_thuente *mt, double *stp, double f, double g)
{
    struct mt_interval *iv = &mt->iv;
    double step = *stp;
    double ftest = mt->finit + step * mt->gtest;
    int warning = 0;

    if (mt->stage == 1 && f <= ftest && g >= 0)
        mt->stage = 2;

    /* dcsrch's warnings: rounding errors, xtol, a bound reached. Any of them
     * ends the search without a step (scipy then falls back). */
    if (iv->bracketed && (step <= mt->stmin || step >= mt->stmax))
        warning = 1;
    if (iv->bracketed && mt->stmax - mt->stmin <= INTERVAL_XTOL * mt->stmax)
        warning = 1;
    if (step == STEP_MAX && f <= ftest && g <= mt->gtest)
        warning = 1;
    if (step == STEP_MIN && (f > ftest || g >= mt->gtest))
        warning = 1;
    if (f <= ftest && fabs(g) <= mt->gtol * -mt->ginit)
        return MT_CONVERGED;
    if (warning)
        return MT_WARNING;

    if (mt->stage == 1 && f <= iv->fx && f > ftest)
        step = step_on_modified_function(mt, step, f, g);
    else
        step = dcstep_next_step(iv, step, f, g, mt->stmin, mt->stmax);

    if (iv->bracketed) {
        /* bisect when two trials did not shrink the bracket by 0.66 */
        if (fabs(iv->sty - iv->stx) >= MT_SHRINK * mt->width1)
            step = iv->stx + 0.5 * (iv->sty - iv->stx);
        mt->width1 = mt->width;
        mt->width = fabs(iv->sty - iv->stx);
        mt->stmin = py_min(iv->stx, iv->sty);
        mt->stmax = py_max(iv->stx, iv->sty);
    } else {
        mt->stmin = step + MT_EXTRAP_LOWER * (step - iv->stx);
        mt->stmax = step + MT_EXTRAP_UPPER * (step - iv->stx);
    }

    step = np_clip(step, STEP_MIN, STEP_MAX);

    /* No further progress possible: evaluate the best step again. */
    if ((iv->bracketed && (step <= mt->stmin || step >= mt->stmax))
        || (iv->bracketed && mt->stmax - mt->stmin <= INTERVAL_XTOL * mt->stmax))
        step = iv->stx;

    *stp = step;
    return MT_EVALUATE;
}

int linesearch_more_thuente(const linesearch_line *line, double phi0, double dphi0,
                            double alpha1, double c1, double c2, linesearch_outcome *out)
{
    struct more_thuente mt;
    double stp = alpha1, f, g;
    int calls, status;

    out->result = LINESEARCH_FAILED;
    out->alpha = 0.0;
    out->phi = phi0;
    out->used_fallback = 0;

    /* dcsrch's input errors: a step out of bounds or an ascent direction */
    if (stp < STEP_MIN || stp > STEP_MAX || dphi0 >= 0)
        return 0;
    more_thuente_start(&mt, stp, phi0, dphi0, c1, c2);

    /* scipy counts the starting call among its 100, so it evaluates at most
     * 100 steps and never judges the 100th. */
    for (calls = 1;; calls++) {
        if (!isfinite(stp))
            return 0;
        status = line->evaluate(line->ctx, stp, &f, &g);
        if (status != 0)
            return status;
        out->phi = f;
        if (calls == MT_MAX_CALLS)
            return 0;
        switch (more_thuente_iterate(&mt, &stp, f, g)) {
        case MT_CONVERGED:
            out->result = LINESEARCH_FOUND;
            out->alpha = stp;
            return 0;
        case MT_WARNING:
            return 0;
        case MT_EVALUATE:
            break;
        }
    }
}

/* ========================================= Nocedal-Wright (wolfe2) */

/* Minimizer of the cubic through (a, fa), (b, fb), (c, fc) with slope fpa
 * at a. Returns 0 when there is none or numpy would have raised (division
 * by zero, overflow, invalid operation): any intermediate not finite. */
static int cubic_minimizer(double a, double fa, double fpa, double b, double fb, double c, double fc,
                           double *xmin)
{
    /* f(x) = A (x-a)^3 + B (x-a)^2 + C (x-a) + D */
    double C = fpa;
    double db = b - a;
    double dc = c - a;
    double dbdc = db * dc;
    double denom = (dbdc * dbdc) * (db - dc);
    double vb = fb - fa - C * db;
    double vc = fc - fa - C * dc;
    double A = (dc * dc) * vb + (-(db * db)) * vc;
    double B = (-pow(dc, 3.0)) * vb + pow(db, 3.0) * vc;
    if (!isfinite(denom) || denom == 0.0 || !isfinite(A) || !isfinite(B))
        return 0;
    A /= denom;
    B /= denom;
    double radical = B * B - 3 * A * C;
    if (!isfinite(radical) || radical < 0.0 || A == 0.0 || !isfinite(A) || !isfinite(B))
        return 0;
    double x = a + (-B + sqrt(radical)) / (3 * A);
    if (!isfinite(x))
        return 0;
    *xmin = x;
    return 1;
}

/* Minimizer of the quadratic through (a, fa), (b, fb) with slope fpa at a;
 * 0 under the same conditions as cubic_minimizer. */
static int quadratic_minimizer(double a, double fa, double fpa, double b, double fb, double *xmin)
{
    /* f(x) = B (x-a)^2 + C (x-a) + D */
    double D = fa;
    double C = fpa;
    double db = b - a * 1.0;
    double db2 = db * db;
    double num = fb - D - C * db;
    if (db2 == 0.0 || !isfinite(db2) || !isfinite(num))
        return 0;
    double B = num / db2;
    double twice_B = 2.0 * B;
    if (twice_B == 0.0 || !isfinite(twice_B))
        return 0;
    double x = a - C / twice_B;
    if (!isfinite(x))
        return 0;
    *xmin = x;
    return 1;
}

/* The zoom's state: the bracket [lo, hi] (lo with the lower value and its
 * slope) and the previous hi, "rec", for the cubic. */
struct zoom_bracket {
    double a_lo, phi_lo, dphi_lo;
    double a_hi, phi_hi;
    double a_rec, phi_rec;
};

/* The next zoom trial: the cubic interpolant's minimizer if it is well
 * inside the bracket (not on the first pass), else the quadratic's, else
 * the midpoint. */
static double zoom_trial_step(const struct zoom_bracket *z, int first)
{
    double dalpha = z->a_hi - z->a_lo;
    double lo = dalpha < 0 ? z->a_hi : z->a_lo;
    double hi = dalpha < 0 ? z->a_lo : z->a_hi;
    double a_j;

    if (!first) {
        double cchk = NW_CUBIC_MARGIN * dalpha;
        if (cubic_minimizer(z->a_lo, z->phi_lo, z->dphi_lo, z->a_hi, z->phi_hi, z->a_rec, z->phi_rec, &a_j)
            && !(a_j > hi - cchk) && !(a_j < lo + cchk))
            return a_j;
    }
    double qchk = NW_QUAD_MARGIN * dalpha;
    if (quadratic_minimizer(z->a_lo, z->phi_lo, z->dphi_lo, z->a_hi, z->phi_hi, &a_j)
        && !(a_j > hi - qchk) && !(a_j < lo + qchk))
        return a_j;
    return z->a_lo + 0.5 * dalpha;
}

/* Nocedal & Wright Alg. 3.6 as scipy's _zoom: shrink the bracket until a
 * trial satisfies the strong Wolfe conditions and line->accept. */
static int zoom(const linesearch_line *line, struct zoom_bracket *z, double phi0, double dphi0,
                double c1, double c2, linesearch_outcome *out)
{
    int i, status, accepted;

    for (i = 0; i <= NW_MAX_ZOOMS; i++) {
        double a_j = zoom_trial_step(z, i == 0);
        double phi_j, dphi_j;

        status = line->evaluate(line->ctx, a_j, &phi_j, &dphi_j);
        if (status != 0)
            return status;
        out->phi = phi_j;

        if (phi_j > phi0 + c1 * a_j * dphi0 || phi_j >= z->phi_lo) {
            z->phi_rec = z->phi_hi;
            z->a_rec = z->a_hi;
            z->a_hi = a_j;
            z->phi_hi = phi_j;
            continue;
        }
        if (fabs(dphi_j) <= -c2 * dphi0) {
            accepted = 1;
            if (line->accept != NULL) {
                status = line->accept(line->ctx, a_j, &accepted);
                if (status != 0)
                    return status;
            }
            if (accepted) {
                out->result = LINESEARCH_FOUND;
                out->alpha = a_j;
                return 0;
            }
        }
        if (dphi_j * (z->a_hi - z->a_lo) >= 0) {
            z->phi_rec = z->phi_hi;
            z->a_rec = z->a_hi;
            z->a_hi = z->a_lo;
            z->phi_hi = z->phi_lo;
        } else {
            z->phi_rec = z->phi_lo;
            z->a_rec = z->a_lo;
        }
        z->a_lo = a_j;
        z->phi_lo = phi_j;
        z->dphi_lo = dphi_j;
    }
    return 0; /* no conforming step: FAILED */
}

static int zoom_between(const linesearch_line *line, double a_lo, double phi_lo, double dphi_lo,
                        double a_hi, double phi_hi, double phi0, double dphi0, double c1, double c2,
                        linesearch_outcome *out)
{
    struct zoom_bracket z;
    z.a_lo = a_lo;
    z.phi_lo = phi_lo;
    z.dphi_lo = dphi_lo;
    z.a_hi = a_hi;
    z.phi_hi = phi_hi;
    z.a_rec = 0;
    z.phi_rec = phi0;
    return zoom(line, &z, phi0, dphi0, c1, c2, out);
}

int linesearch_nocedal_wright(const linesearch_line *line, double phi0, double dphi0,
                              double old_phi0, double c1, double c2, double amax,
                              linesearch_outcome *out)
{
    double alpha0 = 0, alpha1, phi_a0 = phi0, phi_a1, dphi_a0 = dphi0, dphi_a1;
    int i, status, accepted;

    out->result = LINESEARCH_FAILED;
    out->alpha = 0.0;
    out->phi = phi0;
    out->used_fallback = 0;

    alpha1 = py_min(linesearch_initial_step(phi0, old_phi0, dphi0), amax);
    status = line->evaluate(line->ctx, alpha1, &phi_a1, &dphi_a1);
    if (status != 0)
        return status;
    out->phi = phi_a1;

    for (i = 0; i < NW_MAX_EXPANSIONS; i++) {
        /* alpha1 == 0: the step slipped below precision */
        if (alpha1 == 0 || alpha0 > amax)
            return 0;

        if (phi_a1 > phi0 + c1 * alpha1 * dphi0 || (phi_a1 >= phi_a0 && i > 0))
            return zoom_between(line, alpha0, phi_a0, dphi_a0, alpha1, phi_a1, phi0, dphi0, c1, c2, out);

        /* dphi_a1 is phi'(alpha1): the evaluation above gave it */
        if (fabs(dphi_a1) <= -c2 * dphi0) {
            accepted = 1;
            if (line->accept != NULL) {
                status = line->accept(line->ctx, alpha1, &accepted);
                if (status != 0)
                    return status;
            }
            if (accepted) {
                out->result = LINESEARCH_FOUND;
                out->alpha = alpha1;
                return 0;
            }
        }
        if (dphi_a1 >= 0)
            return zoom_between(line, alpha1, phi_a1, dphi_a1, alpha0, phi_a0, phi0, dphi0, c1, c2, out);

        /* still descending: double the step */
        alpha0 = alpha1;
        alpha1 = py_min(2 * alpha1, amax);
        phi_a0 = phi_a1;
        dphi_a0 = dphi_a1;
        status = line->evaluate(line->ctx, alpha1, &phi_a1, &dphi_a1);
        if (status != 0)
            return status;
        out->phi = phi_a1;
    }
    /* scipy returns the last trial step although it was never checked */
    out->result = LINESEARCH_LAST_TRIAL;
    out->alpha = alpha1;
    return 0;
}

/* ==================================================== the combination */

int linesearch_strong_wolfe(const linesearch_line *line, double phi0, double dphi0,
                            double old_phi0, double c1, double c2, linesearch_outcome *out)
{
    double alpha1 = linesearch_initial_step(phi0, old_phi0, dphi0);
    int status, accepted = 1;

    status = linesearch_more_thuente(line, phi0, dphi0, alpha1, c1, c2, out);
    if (status != 0)
        return status;
    if (out->result == LINESEARCH_FOUND && line->accept != NULL) {
        status = line->accept(line->ctx, out->alpha, &accepted);
        if (status != 0)
            return status;
    }
    if (out->result == LINESEARCH_FOUND && accepted)
        return 0;

    status = linesearch_nocedal_wright(line, phi0, dphi0, old_phi0, c1, c2, FALLBACK_AMAX, out);
    out->used_fallback = 1;
    return status;
}
