/*
 * test-optimizer.c -- galann_minimize_cg and its line searches against
 * scipy.optimize.fmin_cg.
 *
 * What it proves: the minimizer takes scipy's trial steps and iterates
 * (Rosenbrock in 2 and 10 dimensions, f per iteration, evaluation counts,
 * iteration counts, the fallback search), converges on a quadratic, and
 * stops with the right status and point on iteration limits, cancellation,
 * NaN, objective errors and invalid arguments.
 *
 * Where the expected numbers come from (scipy 1.17.1, numpy with
 * scipy-openblas 0.3.31): the Rosenbrock objective written in Python with
 * the same operations in the same order (quoted at rosenbrock() below),
 * run as
 *   OPENBLAS_CORETYPE=Sandybridge python3 -c '... xopt, fopt, fc, gc, warn, allvecs =
 *       fmin_cg(f, x0, fprime=g, callback=cb, full_output=True, disp=False, retall=True)'
 * where cb appends f(xk) and the number of f calls so far (not its own),
 * printed with "%.17g".
 * OPENBLAS_CORETYPE=Sandybridge makes numpy's dot a plain sequential sum
 * for n < 16, as ours is; OpenBLAS's default Haswell/Zen kernel fuses the
 * multiply-adds, which changes last bits that CG then amplifies (2-D:
 * 1e-8 relative by iteration 24; 10-D: 286 instead of 232 iterations).
 * With that setting our run equals scipy's bit for bit; the tests allow
 * 1e-12 relative. The line-search trial steps come from scipy's DCSRCH,
 * scalar_search_wolfe2 and _line_search_wolfe12 on the scalar functions
 * below (their values do not depend on BLAS).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "galann.h"
#include "linesearch.h"
#include "support.h"

/* scipy rounds every product before it adds (numpy has no fused
 * multiply-add); keep the compiler from fusing them, whatever -std or
 * -march the build uses, or the last bits and then the trajectory change. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

/* Relative tolerance for numbers that scipy and we compute with the same
 * operations (observed: equal bits). */
#define SAME_OPS_TOL 1e-12

static void assert_close_at(double actual, double expected, double tol, const char *what, const char *file,
                            int line)
{
    double scale = expected != 0 ? fabs(expected) : 1.0;
    if (!(fabs(actual - expected) <= tol * scale)) {
        print_error("%s = %.17g, expected %.17g (relative difference %.3g > %.3g)\n", what, actual, expected,
                    fabs(actual - expected) / scale, tol);
        _fail(file, line);
    }
}
#define assert_close(actual, expected, tol) \
    assert_close_at((actual), (expected), (tol), #actual, __FILE__, __LINE__)

static void assert_vector_close_at(const double *actual, const double *expected, size_t n, double tol,
                                   const char *what, const char *file, int line)
{
    for (size_t i = 0; i < n; i++) {
        char name[128];
        snprintf(name, sizeof name, "%s[%zu]", what, i);
        assert_close_at(actual[i], expected[i], tol, name, file, line);
    }
}
#define assert_vector_close(actual, expected, n, tol) \
    assert_vector_close_at((actual), (expected), (n), (tol), #actual, __FILE__, __LINE__)

/* ------------------------------------------------------------ objectives */

/* Rosenbrock, sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2, exactly as the
 * Python that produced the expected numbers:
 *     def f(x):
 *         s = 0.0
 *         for i in range(len(x) - 1):
 *             t = x[i+1] - x[i]*x[i]; u = 1.0 - x[i]
 *             s += 100.0*t*t + u*u
 *         return s
 *     def g(x):
 *         n = len(x); gr = [0.0]*n
 *         for i in range(n - 1):
 *             t = x[i+1] - x[i]*x[i]
 *             gr[i] += -400.0*x[i]*t - 2.0*(1.0 - x[i])
 *             gr[i+1] += 200.0*t
 *         return np.array(gr)
 * x0 alternates -1.2, 1.0. */
static void rosenbrock(const double *x, size_t n, double *f, double *g)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        g[i] = 0.0;
    for (size_t i = 0; i + 1 < n; i++) {
        double t = x[i + 1] - x[i] * x[i];
        double u = 1.0 - x[i];
        s += 100.0 * t * t + u * u;
        g[i] += -400.0 * x[i] * t - 2.0 * (1.0 - x[i]);
        g[i + 1] += 200.0 * t;
    }
    *f = s;
}

/* An objective that counts its calls and can turn bad at a given call. */
struct counted {
    size_t calls;
    size_t nan_from;      /* 0: never */
    size_t error_from;    /* 0: never */
    int error_status;
};

static int counted_rosenbrock(void *user, const double *x, size_t n, double *f, double *g)
{
    struct counted *c = user;
    c->calls++;
    if (c->error_from != 0 && c->calls >= c->error_from)
        return c->error_status;
    rosenbrock(x, n, f, g);
    if (c->nan_from != 0 && c->calls >= c->nan_from)
        *f = NAN;
    return 0;
}

static void rosenbrock_start(double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = i % 2 == 0 ? -1.2 : 1.0;
}

/* Records what the progress callback sees; can cancel at an iteration. */
#define MAX_RECORDED 400
struct trajectory {
    size_t count;
    double f[MAX_RECORDED];
    size_t evaluations[MAX_RECORDED];
    double x[MAX_RECORDED][10];
    size_t cancel_at;     /* 0: never */
};

static int record_progress(void *user, size_t iteration, const double *x, size_t n, double f, const double *g,
                           size_t evaluations)
{
    struct trajectory *t = user;
    (void)g;
    if (iteration != t->count + 1 || t->count >= MAX_RECORDED)
        return 1; /* out of order: stop, the test will fail on the count */
    t->f[t->count] = f;
    t->evaluations[t->count] = evaluations;
    memcpy(t->x[t->count], x, (n < 10 ? n : 10) * sizeof *x);
    t->count++;
    return t->cancel_at != 0 && iteration == t->cancel_at;
}

/* ---------------------------------------------- scipy's recorded numbers */

static const double rosen2d_f[36] = {
    4.1301322042665216, 3.7648504833663639, 2.2646594647364462,
    2.1238432412628772, 1.710625211855199, 1.4400749981383774,
    1.1485515617285738, 0.97601981756705747, 0.82821266869209365,
    0.63274511026527935, 0.54564990645819211, 0.39257095955957838,
    0.26206284562522114, 0.11265560842100523, 0.11186631049225017,
    0.065815465499283535, 0.01912864806181086, 0.014219702628557389,
    0.012534349175648789, 0.0092581750310947383, 0.0015030211887981666,
    0.00092476924322397306, 0.00083315230447674198, 7.9469793293645313e-05,
    2.1751123225725758e-05, 1.9317418940661359e-05, 2.5715745306664424e-06,
    2.5603579234127393e-06, 2.4864005632332856e-06, 1.8405590777915503e-06,
    9.8548413158117732e-07, 1.9727583210266227e-07, 1.1785931989482108e-07,
    1.7482159520632085e-08, 1.4014264041273194e-08, 1.8785943020923541e-14,
};
static const size_t rosen2d_evaluations[36] = {
    6, 8, 12, 14, 17, 19, 20, 22, 25, 26, 28, 31,
    32, 33, 35, 40, 41, 43, 45, 47, 49, 51, 53, 56,
    58, 60, 62, 64, 66, 69, 70, 71, 73, 74, 76, 78,
};
static const double rosen2d_xopt[2] = {
    1.0000000054854676, 0.99999999727573441,
};
static const double rosen2d_x1[2] = {
    -1.028276820481695, 1.0700910936809407,
};
static const double rosen2d_x2[2] = {
    -0.91547178041285593, 0.80713404280835976,
};
static const double rosen2d_x3[2] = {
    -0.47778908267157505, 0.19985726163254225,
};
static const double rosen10d_f[232] = {
    699.71616217043606, 90.11382342624033, 49.26988201715757,
    17.545230336255486, 9.9478607576155547, 9.6302716039517886,
    9.526150065529821, 9.52300378974914, 9.4704391445230804,
    9.4072925526264193, 9.3320190915235273, 8.961545621943694,
    8.7530599020287632, 8.7141592372891896, 8.2323610989618885,
    8.1397165889611998, 7.8873672790323575, 7.7709670007287652,
    7.2724523450731784, 7.1501165518167067, 6.9048359802419261,
    6.7494095300418806, 6.5320403122546749, 6.3151731391220745,
    6.2435692088831045, 6.0317665034547066, 5.9094075478604484,
    5.8275800406678817, 5.7851813589017045, 5.7055514076404377,
    5.6759878749441199, 5.6230619291629313, 5.5307632146207011,
    5.3681626601053072, 5.2252146902905601, 4.8654109765163387,
    4.7579258543495806, 4.6405949401648341, 4.608859203903565,
    4.5691683954558515, 4.498891360917737, 4.3619355117595831,
    4.2011157073966103, 3.905530197487749, 3.7803305319433491,
    3.642973073015682, 3.4694267377960464, 3.4286107968212534,
    3.3711351263433276, 3.310154953396272, 3.2490150015651338,
    3.1005567037507178, 3.0246331042181489, 2.84116835978877,
    2.7463820502470382, 2.715766882617686, 2.6752850786167457,
    2.6577684669306199, 2.6338285180927472, 2.5647203445930318,
    2.4881996149632828, 2.2631588582852871, 2.1809990651195501,
    2.0269732825959457, 1.8949305559394563, 1.8436125999772937,
    1.8064841602626509, 1.7824379654921387, 1.7665334975120857,
    1.7164616511242072, 1.6507483475326878, 1.632480288700938,
    1.6069400278640453, 1.5828175453389122, 1.5269952039676955,
    1.3469837542273879, 1.2461715779842644, 1.1222674962306312,
    1.0101940054844745, 0.97795602638183698, 0.9585572405187488,
    0.94545934617880012, 0.92834399340236462, 0.90531038214857262,
    0.85306854291705636, 0.81708432797378494, 0.7387745588348642,
    0.67179654658866672, 0.62396045594504934, 0.54063695586678662,
    0.48589048343480679, 0.45925356910432497, 0.40952058616969444,
    0.38049830293716125, 0.37737712449692024, 0.37336540653574385,
    0.3679336917514261, 0.36058501860503023, 0.33601446633911902,
    0.30711577041418603, 0.24483590521128848, 0.20645238400644,
    0.17214801484786751, 0.14843128838567485, 0.13643639859360457,
    0.12849661521371347, 0.12455612043453144, 0.12283719491522106,
    0.12127213124179652, 0.11768579206193583, 0.11376846408910876,
    0.10651965542532792, 0.10172700076868238, 0.084138210334979341,
    0.071655887543862651, 0.059930445775628956, 0.036031853227284631,
    0.026893309939337896, 0.021930770502297761, 0.01887949261524427,
    0.018067446692436283, 0.017629042653290947, 0.017326259527381874,
    0.017149720384725935, 0.01681307944885892, 0.016476813918433579,
    0.015844310374367638, 0.014971589791669735, 0.01405095362783117,
    0.013754859465110077, 0.013556557641945018, 0.013183031542927239,
    0.0128357696886451, 0.011786953637413604, 0.010589535395588406,
    0.0093346595640670729, 0.0084442079137326126, 0.0078152959726651462,
    0.0071552110689853312, 0.0064114352265833424, 0.006165653847454702,
    0.0059350338816690183, 0.0057263169217057729, 0.005497848250767468,
    0.0052221470410456121, 0.0051460249984290789, 0.0050463057197042511,
    0.0050092856465547338, 0.0049829764234453457, 0.0049360148420781614,
    0.0048545528932301485, 0.0046407718686142518, 0.004099868412415596,
    0.0030419667887938515, 0.0019385344285090772, 0.001093821237923145,
    0.00064976726873944312, 0.00033962429255137024, 0.00027465447757282508,
    0.00019592503019954399, 0.00018578724786227907, 0.00018302822508694578,
    0.00018143565015403003, 0.00018077441396870759, 0.0001800477177715866,
    0.00017525625278667375, 0.00016493352316700679, 0.0001349035706782583,
    5.3092622650127935e-05, 2.3638686131149123e-05, 7.7463096158555538e-06,
    3.291003912607382e-06, 1.3834067422743051e-06, 1.0696475330225898e-06,
    1.0406414403170904e-06, 1.0289651328484157e-06, 1.0237925522454385e-06,
    1.020074814421161e-06, 1.0095066301554419e-06, 9.9465688807795951e-07,
    9.667598507221833e-07, 9.4315222996073257e-07, 8.9697441460741187e-07,
    8.4886040192077338e-07, 7.5624411112920364e-07, 6.7973127066705185e-07,
    6.2782980914378583e-07, 5.6346070793491014e-07, 5.0289900855210802e-07,
    4.8575361655840208e-07, 4.7997537202285431e-07, 4.7594432616682757e-07,
    4.7419359650716538e-07, 4.7194145150606873e-07, 4.6810130411714813e-07,
    4.5537443791975918e-07, 4.228137966846549e-07, 3.8791306261299666e-07,
    2.9792278640010883e-07, 2.0789948476757558e-07, 1.4737195966738455e-07,
    8.3236678021102783e-08, 6.2525761172725112e-08, 5.120035189483791e-08,
    4.4000740051203977e-08, 4.155874980820915e-08, 4.0256250248490198e-08,
    3.9064296362777462e-08, 3.8237993812798684e-08, 3.782490031701749e-08,
    3.7494081525803346e-08, 3.7247593509576487e-08, 3.696608858816417e-08,
    3.6629020225380614e-08, 3.626575172594821e-08, 3.6064500204529841e-08,
    3.5537946454263882e-08, 3.437321271643492e-08, 2.4456585124895751e-08,
    1.683610767979381e-08, 7.2118009460388948e-09, 2.6379085349600805e-09,
    6.4576876290603644e-10, 3.1084525746913131e-10, 2.5070976931582373e-10,
    2.3554578977768993e-10, 2.31279120235101e-10, 2.296810878072638e-10,
    2.2912411101735609e-10, 2.2748916189611532e-10, 3.3370600950138756e-11,
    3.313272321929448e-11,
};
static const size_t rosen10d_evaluations[232] = {
    2, 4, 6, 8, 10, 12, 14, 16, 20, 21, 22, 24,
    25, 27, 30, 32, 34, 36, 38, 40, 42, 44, 45, 46,
    48, 50, 52, 53, 55, 57, 59, 61, 63, 65, 66, 68,
    70, 71, 73, 74, 76, 78, 79, 81, 83, 84, 85, 87,
    88, 89, 90, 92, 94, 96, 98, 100, 101, 103, 104, 106,
    107, 109, 111, 113, 114, 116, 118, 119, 120, 122, 123, 125,
    126, 127, 129, 131, 133, 134, 135, 137, 139, 141, 142, 143,
    145, 147, 149, 150, 152, 154, 155, 157, 159, 161, 163, 164,
    165, 166, 168, 169, 171, 173, 174, 176, 178, 180, 182, 184,
    185, 187, 188, 190, 192, 194, 196, 197, 199, 201, 203, 205,
    207, 209, 211, 213, 215, 216, 218, 219, 220, 222, 224, 226,
    227, 229, 230, 231, 233, 235, 236, 237, 239, 240, 241, 242,
    243, 245, 246, 248, 250, 252, 254, 256, 258, 260, 261, 262,
    264, 265, 267, 268, 270, 272, 274, 276, 277, 279, 281, 283,
    285, 287, 289, 291, 293, 295, 297, 299, 301, 303, 305, 306,
    308, 309, 311, 312, 314, 315, 317, 318, 319, 321, 323, 325,
    327, 328, 330, 332, 334, 335, 337, 338, 340, 341, 343, 345,
    347, 349, 351, 352, 354, 356, 357, 358, 359, 360, 361, 363,
    365, 367, 370, 371, 372, 374, 376, 378, 380, 382, 384, 386,
    388, 390, 394, 396,
};
static const double rosen10d_xopt[10] = {
    0.99999997813569041, 0.99999996040579842, 0.9999999214951697,
    0.99999984366896766, 0.99999969114378173, 0.99999937688749663,
    0.99999875579246367, 0.99999751299965667, 0.99999501459403484,
    0.99999001966172907,
};

/* --------------------------------------------------- scipy trajectories */

static void run_rosenbrock_like_fmin_cg(size_t n, const double *expected_f, const size_t *expected_evaluations,
                                        size_t expected_iterations, size_t expected_total_evaluations,
                                        const double *expected_x)
{
    double x[10];
    struct counted obj = { 0 };
    struct trajectory *t = test_calloc(1, sizeof *t);
    galann_cg_options opts;
    galann_cg_report report = { .struct_size = sizeof report };

    rosenbrock_start(x, n);
    galann_cg_options_init(&opts);
    opts.progress = record_progress;
    opts.progress_user = t;

    assert_int_equal(galann_minimize_cg(counted_rosenbrock, &obj, x, n, &opts, &report), GALANN_OK);
    assert_int_equal(report.stop_reason, GALANN_STOP_CONVERGED);
    assert_int_equal(report.iterations, expected_iterations);
    assert_int_equal(report.evaluations, expected_total_evaluations);
    assert_int_equal(obj.calls, expected_total_evaluations);
    assert_int_equal(t->count, expected_iterations);
    for (size_t k = 0; k < expected_iterations; k++) {
        char what[64];
        snprintf(what, sizeof what, "f at iteration %zu", k + 1);
        assert_close_at(t->f[k], expected_f[k], SAME_OPS_TOL, what, __FILE__, __LINE__);
        assert_int_equal(t->evaluations[k], expected_evaluations[k]);
    }
    assert_vector_close(x, expected_x, n, SAME_OPS_TOL);
    assert_close(report.f, expected_f[expected_iterations - 1], SAME_OPS_TOL);
    assert_true(report.gradient_norm <= 1e-5);
    test_free(t);
}

static void rosenbrock_2d_follows_scipy_fmin_cg_trajectory(void **state)
{
    (void)state;
    run_rosenbrock_like_fmin_cg(2, rosen2d_f, rosen2d_evaluations, 36, 78, rosen2d_xopt);
}

static void rosenbrock_10d_follows_scipy_fmin_cg_trajectory(void **state)
{
    (void)state;
    run_rosenbrock_like_fmin_cg(10, rosen10d_f, rosen10d_evaluations, 232, 396, rosen10d_xopt);
}

/* In scipy's 2-D run the first More-Thuente step (alpha 0.0008486542812509528,
 * 2 calls) fails the sufficient-descent test, and line_search_wolfe2 gives
 * alpha 0.0007964897009197814 in 3 more calls (scipy re-evaluates its first
 * trial, which is no longer the cached point): x1 comes from that step. */
static void rejected_first_step_falls_back_to_wolfe2_like_scipy(void **state)
{
    double x[2];
    struct counted obj = { 0 };
    struct trajectory *t = test_calloc(1, sizeof *t);
    galann_cg_options opts;
    (void)state;

    rosenbrock_start(x, 2);
    galann_cg_options_init(&opts);
    opts.progress = record_progress;
    opts.progress_user = t;
    opts.max_iterations = 1;
    assert_int_equal(galann_minimize_cg(counted_rosenbrock, &obj, x, 2, &opts, NULL), GALANN_OK);
    assert_int_equal(t->count, 1);
    assert_int_equal(t->evaluations[0], 6); /* 1 start + 2 More-Thuente + 3 fallback */
    assert_vector_close(x, rosen2d_x1, 2, SAME_OPS_TOL);
    /* x0 = (-1.2, 1), p0 = -g0 = (215.6, 88): the fallback's step, not the first */
    assert_close(x[0], -1.2 + 0.0007964897009197814 * 215.6, 1e-14);
    test_free(t);
}

/* ------------------------------------------------------- line searches */

/* More & Thuente's test functions 1 and 2 (ACM TOMS 20(3), 1994, beta 2
 * and 0.004), evaluated as the Python that recorded scipy's trials:
 *   phi1(a) = -a/(a*a + 2.0),  phi1'(a) = (a*a - 2.0)/(q*q), q = a*a + 2.0
 *   phi2(a) = b4*b - 2.0*b4,   phi2'(a) = 5.0*b4 - 8.0*b2*b,
 *             b = a + 0.004, b2 = b*b, b4 = b2*b2 */
struct scalar_probe {
    int which;
    size_t count;
    double trials[64];
    size_t accept_calls;
    double accept_asked[8];
};

static int scalar_evaluate(void *ctx, double a, double *phi, double *dphi)
{
    struct scalar_probe *s = ctx;
    if (s->count < 64)
        s->trials[s->count] = a;
    s->count++;
    if (s->which == 1) {
        double q = a * a + 2.0;
        *phi = -a / (a * a + 2.0);
        *dphi = (a * a - 2.0) / (q * q);
    } else {
        double b = a + 0.004, b2 = b * b, b4 = b2 * b2;
        *phi = b4 * b - 2.0 * b4;
        *dphi = 5.0 * b4 - 8.0 * b2 * b;
    }
    return 0;
}

/* rejects the first step it is asked about, accepts the rest */
static int reject_first_step(void *ctx, double alpha, int *accepted)
{
    struct scalar_probe *s = ctx;
    if (s->accept_calls < 8)
        s->accept_asked[s->accept_calls] = alpha;
    s->accept_calls++;
    *accepted = s->accept_calls > 1;
    return 0;
}

static void scalar_start(struct scalar_probe *s, int which, double *phi0, double *dphi0)
{
    memset(s, 0, sizeof *s);
    s->which = which;
    scalar_evaluate(s, 0.0, phi0, dphi0);
    s->count = 0;
}

static void check_trials(const struct scalar_probe *s, const double *expected, size_t n)
{
    assert_int_equal(s->count, n);
    assert_vector_close(s->trials, expected, n, 1e-15);
}

/* scipy: DCSRCH(phi, derphi, 1e-4, 0.4, 1e-14, 1e-100, 1e100)(alpha1, phi(0), derphi(0), maxiter=100) */
static void more_thuente_takes_scipy_dcsrch_trial_steps(void **state)
{
    static const double f1_from_1e_3[] = {
        0.001, 0.0050000000000000001, 0.021000000000000001, 0.085000000000000006, 0.34100000000000003, 1.365,
    };
    static const double f2_from_1e_3[] = {
        0.001, 0.0050000000000000001, 0.021000000000000001, 0.085000000000000006,
        0.34100000000000003, 1.365, 5.4610000000000003, 2.1070247668786948,
        1.5516926344756754, 1.5975830448985602, 1.595861148209162, 1.5960000001861203,
    };
    static const double f2_from_1000[] = {
        1000, 222.29565484593803, 49.472816490427086, 11.069352144736474,
        2.5433685560303152, 0.72011534155929036, 1.6296513166653739, 1.351222979788147,
        1.5950402760316595, 1.596000625800758, 1.5959999988725311,
    };
    struct scalar_probe s;
    linesearch_line line = { scalar_evaluate, NULL, &s };
    linesearch_outcome out;
    double phi0, dphi0;
    (void)state;

    scalar_start(&s, 1, &phi0, &dphi0);
    assert_int_equal(linesearch_more_thuente(&line, phi0, dphi0, 1e-3, 1e-4, 0.4, &out), 0);
    assert_int_equal(out.result, LINESEARCH_FOUND);
    assert_close(out.alpha, 1.365, 1e-15);
    check_trials(&s, f1_from_1e_3, sizeof f1_from_1e_3 / sizeof *f1_from_1e_3);

    scalar_start(&s, 2, &phi0, &dphi0);
    assert_int_equal(linesearch_more_thuente(&line, phi0, dphi0, 1e-3, 1e-4, 0.4, &out), 0);
    assert_int_equal(out.result, LINESEARCH_FOUND);
    assert_close(out.alpha, 1.5960000001861203, 1e-15);
    check_trials(&s, f2_from_1e_3, sizeof f2_from_1e_3 / sizeof *f2_from_1e_3);

    scalar_start(&s, 2, &phi0, &dphi0);
    assert_int_equal(linesearch_more_thuente(&line, phi0, dphi0, 1000, 1e-4, 0.4, &out), 0);
    assert_int_equal(out.result, LINESEARCH_FOUND);
    assert_close(out.alpha, 1.5959999988725311, 1e-15);
    check_trials(&s, f2_from_1000, sizeof f2_from_1000 / sizeof *f2_from_1000);
}

/* scipy: scalar_search_wolfe2(phi, derphi, phi(0), None, derphi(0), 1e-4, 0.4, 1e100):
 * two expansion steps, then zoom with quadratic, bisection and cubic steps */
static void nocedal_wright_takes_scipy_wolfe2_trial_steps(void **state)
{
    static const double f2_trials[] = {
        1, 2, 1.3684717263452324, 1.5700507962707471, 1.7850253981353736,
        1.6775380972030605, 1.5961882437500583, 1.5960002346760032, 1.5960000000006684,
    };
    struct scalar_probe s;
    linesearch_line line = { scalar_evaluate, NULL, &s };
    linesearch_outcome out;
    double phi0, dphi0;
    (void)state;

    scalar_start(&s, 2, &phi0, &dphi0);
    /* old_phi0 unknown (NaN): the first trial is 1, as scipy's None */
    assert_int_equal(linesearch_nocedal_wright(&line, phi0, dphi0, NAN, 1e-4, 0.4, 1e100, &out), 0);
    assert_int_equal(out.result, LINESEARCH_FOUND);
    assert_close(out.alpha, 1.5960000000006684, 1e-15);
    check_trials(&s, f2_trials, sizeof f2_trials / sizeof *f2_trials);
}

/* scipy: _line_search_wolfe12(f, g, [0.], [1.], g([0.]), phi2(0), None, c1=1e-4, c2=0.4,
 * amin=1e-100, amax=1e100, extra_condition=rejects the first step) on f(x) = phi2(x[0]):
 * the More-Thuente trials, then all of wolfe2's, the step asked about twice */
static void strong_wolfe_falls_back_when_extra_condition_rejects(void **state)
{
    static const double trials[] = {
        1, 5, 1.8114483590459156, 1.2586527470164259, 1.5915767318641247, 1.5961295989208408,
        1.59599891936075, 1.5960000000000096,
        1, 2, 1.3684717263452324, 1.5700507962707471, 1.7850253981353736, 1.6775380972030605,
        1.5961882437500583, 1.5960002346760032, 1.5960000000006684,
    };
    static const double asked[] = { 1.5960000000000096, 1.5960000000006684 };
    struct scalar_probe s;
    linesearch_line line = { scalar_evaluate, reject_first_step, &s };
    linesearch_outcome out;
    double phi0, dphi0;
    (void)state;

    scalar_start(&s, 2, &phi0, &dphi0);
    assert_int_equal(linesearch_strong_wolfe(&line, phi0, dphi0, NAN, 1e-4, 0.4, &out), 0);
    assert_int_equal(out.result, LINESEARCH_FOUND);
    assert_int_equal(out.used_fallback, 1);
    assert_close(out.alpha, 1.5960000000006684, 1e-15);
    check_trials(&s, trials, sizeof trials / sizeof *trials);
    assert_int_equal(s.accept_calls, 2);
    assert_vector_close(s.accept_asked, asked, 2, 1e-15);
}

/* --------------------------------------------------------- convergence */

/* f = x'Ax/2 - b'x with A = tridiag(1, 4, 1), b = A x*, x* = (1, -2, 3, -4) */
static const double quad_minimizer[4] = { 1, -2, 3, -4 };

static void tridiagonal_times(const double *x, double *y)
{
    for (int i = 0; i < 4; i++) {
        y[i] = 4 * x[i];
        if (i > 0)
            y[i] += x[i - 1];
        if (i < 3)
            y[i] += x[i + 1];
    }
}

static int quadratic(void *user, const double *x, size_t n, double *f, double *g)
{
    double ax[4], b[4];
    (void)user;
    assert_int_equal(n, 4);
    tridiagonal_times(x, ax);
    tridiagonal_times(quad_minimizer, b);
    *f = 0;
    for (int i = 0; i < 4; i++) {
        *f += 0.5 * x[i] * ax[i] - b[i] * x[i];
        g[i] = ax[i] - b[i];
    }
    return 0;
}

static void quadratic_converges_to_its_known_minimizer(void **state)
{
    double x[4] = { 0, 0, 0, 0 }, b[4], fmin = 0;
    galann_cg_options opts;
    galann_cg_report report = { .struct_size = sizeof report };
    (void)state;

    galann_cg_options_init(&opts);
    opts.gtol = 1e-10;
    assert_int_equal(galann_minimize_cg(quadratic, NULL, x, 4, &opts, &report), GALANN_OK);
    assert_int_equal(report.stop_reason, GALANN_STOP_CONVERGED);
    assert_true(report.gradient_norm <= 1e-10);
    /* |x - x*| <= |A^-1| |g| <= |g| / (4 - 2) */
    for (int i = 0; i < 4; i++)
        assert_true(fabs(x[i] - quad_minimizer[i]) <= 1e-10);
    tridiagonal_times(quad_minimizer, b);
    for (int i = 0; i < 4; i++)
        fmin -= 0.5 * b[i] * quad_minimizer[i];
    assert_close(report.f, fmin, 1e-14);
}

/* ------------------------------------------------------------ statuses */

static void iteration_limit_returns_ok_with_max_iterations(void **state)
{
    double x[2];
    struct counted obj = { 0 };
    galann_cg_options opts;
    galann_cg_report report = { .struct_size = sizeof report };
    (void)state;

    rosenbrock_start(x, 2);
    galann_cg_options_init(&opts);
    opts.max_iterations = 5;
    assert_int_equal(galann_minimize_cg(counted_rosenbrock, &obj, x, 2, &opts, &report), GALANN_OK);
    assert_int_equal(report.stop_reason, GALANN_STOP_MAX_ITERATIONS);
    assert_int_equal(report.iterations, 5);
    assert_int_equal(report.evaluations, rosen2d_evaluations[4]);
    assert_close(report.f, rosen2d_f[4], SAME_OPS_TOL);
}

/* gtol = 0: both searches eventually fail near the minimizer. scipy, as for
 * the 2-D trajectory but with gtol=0.0: warnflag 2 ("precision loss") after
 * 40 iterations and 89 function calls, f = 9.7966926209904422e-23 at
 * (1.000000000000614, 1.00000000000024). */
static void failed_line_search_stops_with_precision_loss_like_scipy(void **state)
{
    static const double expected_x[2] = { 1.000000000000614, 1.00000000000024 };
    double x[2];
    struct counted obj = { 0 };
    galann_cg_options opts;
    galann_cg_report report = { .struct_size = sizeof report };
    (void)state;

    rosenbrock_start(x, 2);
    galann_cg_options_init(&opts);
    opts.gtol = 0.0;
    assert_int_equal(galann_minimize_cg(counted_rosenbrock, &obj, x, 2, &opts, &report), GALANN_OK);
    assert_int_equal(report.stop_reason, GALANN_STOP_PRECISION_LOSS);
    assert_int_equal(report.iterations, 40);
    assert_int_equal(report.evaluations, 89);
    assert_close(report.f, 9.7966926209904422e-23, SAME_OPS_TOL);
    assert_vector_close(x, expected_x, 2, SAME_OPS_TOL);
}

/* f(x) = x: the More-Thuente search runs out of its 100 evaluations,
 * line_search_wolfe2 doubles the step 10 times and scipy takes its last
 * trial (1024) unchecked. scipy: fmin_cg(lambda x: x[0], [0.],
 * fprime=lambda x: np.ones(1), full_output=True, retall=True) gives
 * x = -204800 after 200 = 200 n iterations, 22201 function calls. */
static int linear(void *user, const double *x, size_t n, double *f, double *g)
{
    (void)user;
    (void)n;
    *f = x[0];
    g[0] = 1;
    return 0;
}

static void default_iteration_limit_is_200n_and_last_trial_is_taken(void **state)
{
    double x[1] = { 0 };
    struct trajectory *t = test_calloc(1, sizeof *t);
    galann_cg_options opts;
    galann_cg_report report = { .struct_size = sizeof report };
    (void)state;

    galann_cg_options_init(&opts);
    opts.progress = record_progress;
    opts.progress_user = t;
    assert_int_equal(galann_minimize_cg(linear, NULL, x, 1, &opts, &report), GALANN_OK);
    assert_int_equal(report.stop_reason, GALANN_STOP_MAX_ITERATIONS);
    assert_int_equal(report.iterations, 200);
    assert_int_equal(report.evaluations, 22201);
    assert_true(x[0] == -204800.0);
    assert_true(t->x[0][0] == -1024.0 && t->x[1][0] == -2048.0 && t->x[2][0] == -3072.0);
    test_free(t);
}

static void cancel_at_iteration_3_keeps_iterate_3(void **state)
{
    double x[2];
    struct counted obj = { 0 };
    struct trajectory *t = test_calloc(1, sizeof *t);
    galann_cg_options opts;
    galann_cg_report report = { .struct_size = sizeof report };
    (void)state;

    rosenbrock_start(x, 2);
    galann_cg_options_init(&opts);
    opts.progress = record_progress;
    opts.progress_user = t;
    t->cancel_at = 3;
    assert_int_equal(galann_minimize_cg(counted_rosenbrock, &obj, x, 2, &opts, &report), GALANN_ERR_CANCELLED);
    assert_int_equal(report.stop_reason, GALANN_STOP_CANCELLED);
    assert_int_equal(report.iterations, 3);
    assert_int_equal(report.evaluations, rosen2d_evaluations[2]);
    assert_int_equal(obj.calls, rosen2d_evaluations[2]);
    assert_vector_close(x, rosen2d_x3, 2, SAME_OPS_TOL);
    assert_vector_close(x, t->x[2], 2, 0.0);
    assert_close(report.f, rosen2d_f[2], SAME_OPS_TOL);
    assert_true(galann_last_error()[0] != '\0');
    test_free(t);
}

/* Call 10 is inside the third line search (iteration 2 ended at call 8),
 * so x must be iterate 2. */
static void nan_at_call_10_keeps_last_accepted_point(void **state)
{
    double x[2];
    struct counted obj = { 0 };
    galann_cg_report report = { .struct_size = sizeof report };
    (void)state;

    obj.nan_from = 10;
    rosenbrock_start(x, 2);
    assert_int_equal(galann_minimize_cg(counted_rosenbrock, &obj, x, 2, NULL, &report), GALANN_ERR_NONFINITE);
    assert_int_equal(report.stop_reason, GALANN_STOP_NONFINITE);
    assert_int_equal(report.iterations, 2);
    assert_int_equal(report.evaluations, 10);
    assert_int_equal(obj.calls, 10);
    assert_true(isfinite(x[0]) && isfinite(x[1]));
    assert_vector_close(x, rosen2d_x2, 2, SAME_OPS_TOL);
    assert_close(report.f, rosen2d_f[1], SAME_OPS_TOL);
    assert_true(galann_last_error()[0] != '\0');
}

static void nan_at_start_leaves_x_unchanged(void **state)
{
    double x[2];
    struct counted obj = { 0 };
    galann_cg_report report = { .struct_size = sizeof report };
    (void)state;

    obj.nan_from = 1;
    rosenbrock_start(x, 2);
    assert_int_equal(galann_minimize_cg(counted_rosenbrock, &obj, x, 2, NULL, &report), GALANN_ERR_NONFINITE);
    assert_int_equal(report.stop_reason, GALANN_STOP_NONFINITE);
    assert_int_equal(report.iterations, 0);
    assert_int_equal(report.evaluations, 1);
    assert_true(x[0] == -1.2 && x[1] == 1.0);
}

/* Call 7 is inside the second line search: x must be iterate 1. */
static void objective_error_status_is_returned_with_last_point(void **state)
{
    double x[2];
    struct counted obj = { 0 };
    galann_cg_report report = { .struct_size = sizeof report };
    (void)state;

    obj.error_from = 7;
    obj.error_status = GALANN_ERR_BACKEND;
    rosenbrock_start(x, 2);
    assert_int_equal(galann_minimize_cg(counted_rosenbrock, &obj, x, 2, NULL, &report), GALANN_ERR_BACKEND);
    assert_int_equal(report.stop_reason, GALANN_STOP_ERROR);
    assert_int_equal(report.iterations, 1);
    assert_int_equal(report.evaluations, 7);
    assert_vector_close(x, rosen2d_x1, 2, SAME_OPS_TOL);
    assert_true(galann_last_error()[0] != '\0');

    /* failing at the start: x untouched, f unknown */
    obj.calls = 0;
    obj.error_from = 1;
    obj.error_status = GALANN_ERR_NOMEM;
    rosenbrock_start(x, 2);
    assert_int_equal(galann_minimize_cg(counted_rosenbrock, &obj, x, 2, NULL, &report), GALANN_ERR_NOMEM);
    assert_int_equal(report.stop_reason, GALANN_STOP_ERROR);
    assert_int_equal(report.iterations, 0);
    assert_int_equal(report.evaluations, 1);
    assert_true(isnan(report.f));
    assert_true(x[0] == -1.2 && x[1] == 1.0);
}

static void expect_invalid(const galann_cg_options *opts, galann_objective_fn fn, double *x, size_t n)
{
    struct counted obj = { 0 };
    assert_int_equal(galann_minimize_cg(fn, &obj, x, n, opts, NULL), GALANN_ERR_INVALID);
    assert_true(galann_last_error()[0] != '\0');
    assert_int_equal(obj.calls, 0);
}

static void invalid_arguments_are_rejected_before_any_call(void **state)
{
    double x[2] = { -1.2, 1.0 };
    galann_cg_options good, bad;
    (void)state;

    galann_cg_options_init(&good);
    expect_invalid(&good, NULL, x, 2);
    expect_invalid(&good, counted_rosenbrock, NULL, 2);
    expect_invalid(&good, counted_rosenbrock, x, 0);

    bad = good;
    bad.struct_size = sizeof bad + 8; /* from a newer header than this library's */
    expect_invalid(&bad, counted_rosenbrock, x, 2);
    bad = good;
    bad.gtol = -1e-5;
    expect_invalid(&bad, counted_rosenbrock, x, 2);
    bad = good;
    bad.gtol = NAN;
    expect_invalid(&bad, counted_rosenbrock, x, 2);
    bad = good;
    bad.c1 = 0;
    expect_invalid(&bad, counted_rosenbrock, x, 2);
    bad = good;
    bad.c1 = 0.4; /* c1 == c2 */
    expect_invalid(&bad, counted_rosenbrock, x, 2);
    bad = good;
    bad.c2 = 1;
    expect_invalid(&bad, counted_rosenbrock, x, 2);
    bad = good;
    bad.c2 = NAN;
    expect_invalid(&bad, counted_rosenbrock, x, 2);

    assert_true(x[0] == -1.2 && x[1] == 1.0);
}

/* --------------------------------------------------- options and report */

/* A caller built against an older header passes a shorter struct: the
 * fields it lacks take their defaults, whatever lies beyond it. */
static void shorter_options_struct_gets_defaults_for_missing_fields(void **state)
{
    (void)state;
    galann_cg_options full, older;
    galann_cg_options_init(&full);
    memset(&older, 0xff, sizeof older);  /* garbage beyond the old size */
    older.struct_size = offsetof(galann_cg_options, c1);
    older.max_iterations = 0;
    older.gtol = 1e-5;
    double a[2], b[2];
    rosenbrock_start(a, 2);
    rosenbrock_start(b, 2);
    struct counted obj_a = { 0 }, obj_b = { 0 };
    galann_cg_report ra = { .struct_size = sizeof ra }, rb = { .struct_size = sizeof rb };
    assert_int_equal(galann_minimize_cg(counted_rosenbrock, &obj_a, a, 2, &full, &ra), GALANN_OK);
    assert_int_equal(galann_minimize_cg(counted_rosenbrock, &obj_b, b, 2, &older, &rb), GALANN_OK);
    assert_int_equal(ra.iterations, rb.iterations);
    assert_int_equal(ra.evaluations, rb.evaluations);
    assert_true(a[0] == b[0] && a[1] == b[1]);
}

static void options_init_sets_fmin_cg_defaults(void **state)
{
    galann_cg_options o;
    (void)state;
    memset(&o, 0xab, sizeof o);
    galann_cg_options_init(&o);
    assert_int_equal(o.struct_size, sizeof o);
    assert_int_equal(o.max_iterations, 0);
    assert_true(o.gtol == 1e-5);
    assert_true(o.c1 == 1e-4);
    assert_true(o.c2 == 0.4);
    assert_null(o.progress);
    assert_null(o.progress_user);
}

static void short_report_gets_only_the_fields_that_fit(void **state)
{
    double x[2];
    struct counted obj = { 0 };
    galann_cg_options opts;
    galann_cg_report report;
    (void)state;

    rosenbrock_start(x, 2);
    galann_cg_options_init(&opts);
    opts.max_iterations = 2;
    report.struct_size = offsetof(galann_cg_report, evaluations);
    report.evaluations = 12345;
    report.f = -7.0;
    report.gradient_norm = -8.0;
    assert_int_equal(galann_minimize_cg(counted_rosenbrock, &obj, x, 2, &opts, &report), GALANN_OK);
    assert_int_equal(report.stop_reason, GALANN_STOP_MAX_ITERATIONS);
    assert_int_equal(report.iterations, 2);
    assert_int_equal(report.evaluations, 12345);
    assert_true(report.f == -7.0 && report.gradient_norm == -8.0);

    /* struct_size 0 (a report zeroed without its _init) is refused before
     * anything is written or evaluated: the day the report grows, "0 means
     * the whole struct" would write past an older program's copy */
    rosenbrock_start(x, 2);
    memset(&report, 0, sizeof report);
    report.f = -7.0;
    size_t calls_before = obj.calls;
    assert_int_equal(galann_minimize_cg(counted_rosenbrock, &obj, x, 2, &opts, &report), GALANN_ERR_INVALID);
    assert_non_null(strstr(galann_last_error(), "report.struct_size 0 is not valid (set it with galann_cg_report_init)"));
    assert_int_equal(report.struct_size, 0);
    assert_true(report.f == -7.0);
    assert_int_equal(obj.calls, calls_before);

    /* the _init macro: the whole struct, zeroed */
    rosenbrock_start(x, 2);
    memset(&report, 0xA5, sizeof report);
    galann_cg_report_init(&report);
    assert_int_equal(report.struct_size, sizeof report);
    assert_int_equal(report.evaluations, 0);
    assert_int_equal(galann_minimize_cg(counted_rosenbrock, &obj, x, 2, &opts, &report), GALANN_OK);
    assert_int_equal(report.evaluations, rosen2d_evaluations[1]);
    assert_close(report.f, rosen2d_f[1], SAME_OPS_TOL);
}

/* A newer program's report, longer than the library's: the library writes
 * its own fields and not one byte beyond, and says how many it wrote. */
static void longer_report_gets_only_the_library_fields(void **state)
{
    double x[2];
    struct counted obj = { 0 };
    galann_cg_options opts;
    struct newer_report {
        galann_cg_report known;
        double added_later[4];
    } newer;
    (void)state;

    rosenbrock_start(x, 2);
    galann_cg_options_init(&opts);
    opts.max_iterations = 2;
    memset(&newer, 0xA5, sizeof newer);
    galann_cg_report_init_size(&newer.known, sizeof newer);
    assert_int_equal(newer.known.struct_size, sizeof newer.known); /* init zeroes only what it knows */
    unsigned char untouched[sizeof newer.added_later];
    memset(untouched, 0xA5, sizeof untouched);
    assert_memory_equal(newer.added_later, untouched, sizeof untouched);
    newer.known.struct_size = sizeof newer;
    assert_int_equal(galann_minimize_cg(counted_rosenbrock, &obj, x, 2, &opts, &newer.known), GALANN_OK);
    assert_int_equal(newer.known.struct_size, sizeof newer.known);
    assert_int_equal(newer.known.iterations, 2);
    assert_memory_equal(newer.added_later, untouched, sizeof untouched);
}

static void stop_reason_strings_are_never_null(void **state)
{
    (void)state;
    for (int r = -1; r <= 6; r++) {
        const char *s = galann_stop_reason_string(r);
        assert_non_null(s);
        assert_true(s[0] != '\0');
    }
    assert_string_not_equal(galann_stop_reason_string(GALANN_STOP_CONVERGED),
                            galann_stop_reason_string(GALANN_STOP_PRECISION_LOSS));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rosenbrock_2d_follows_scipy_fmin_cg_trajectory),
        cmocka_unit_test(rosenbrock_10d_follows_scipy_fmin_cg_trajectory),
        cmocka_unit_test(rejected_first_step_falls_back_to_wolfe2_like_scipy),
        cmocka_unit_test(more_thuente_takes_scipy_dcsrch_trial_steps),
        cmocka_unit_test(nocedal_wright_takes_scipy_wolfe2_trial_steps),
        cmocka_unit_test(strong_wolfe_falls_back_when_extra_condition_rejects),
        cmocka_unit_test(quadratic_converges_to_its_known_minimizer),
        cmocka_unit_test(iteration_limit_returns_ok_with_max_iterations),
        cmocka_unit_test(default_iteration_limit_is_200n_and_last_trial_is_taken),
        cmocka_unit_test(failed_line_search_stops_with_precision_loss_like_scipy),
        cmocka_unit_test(cancel_at_iteration_3_keeps_iterate_3),
        cmocka_unit_test(nan_at_call_10_keeps_last_accepted_point),
        cmocka_unit_test(nan_at_start_leaves_x_unchanged),
        cmocka_unit_test(objective_error_status_is_returned_with_last_point),
        cmocka_unit_test(invalid_arguments_are_rejected_before_any_call),
        cmocka_unit_test(options_init_sets_fmin_cg_defaults),
        cmocka_unit_test(shorter_options_struct_gets_defaults_for_missing_fields),
        cmocka_unit_test(short_report_gets_only_the_fields_that_fit),
        cmocka_unit_test(longer_report_gets_only_the_library_fields),
        cmocka_unit_test(stop_reason_strings_are_never_null),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
