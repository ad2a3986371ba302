/*
 * synth.c -- the built-in synthetic galaxy images.
 *
 * Lets a new user run the whole job without downloading anything. Each
 * image is drawn from a class model with random shape parameters, then
 * sky background, photon-like noise and 8-bit quantisation, so that the
 * classes overlap enough to make the task learnable but not trivial.
 * Everything comes from one MT19937 stream: same seed, same images.
 *
 * Not for: astrophysical realism.
 */
#include <math.h>
#include <stdlib.h>

#include "galann.h"
#include "dataset.h"
#include "error.h"
#include "rng.h"

#define SIDE 32
#define PIXELS (SIDE * SIDE)
#define N_CLASSES 3
#define PI 3.14159265358979323846

typedef struct galaxy_frame {
    double cx, cy;       /* centre */
    double cos_t, sin_t; /* orientation */
    double q;            /* axis ratio (minor / major) */
} galaxy_frame;

static double uniform(galann_mt19937 *mt, double lo, double hi)
{
    return lo + (hi - lo) * galann_mt_next_double(mt);
}

/* Box-Muller; one normal deviate per call keeps the stream simple. */
static double normal(galann_mt19937 *mt)
{
    double u1 = galann_mt_next_double(mt), u2 = galann_mt_next_double(mt);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * PI * u2);
}

static galaxy_frame random_frame(galann_mt19937 *mt, double q_lo, double q_hi)
{
    galaxy_frame f;
    f.cx = 15.5 + uniform(mt, -1.5, 1.5);
    f.cy = 15.5 + uniform(mt, -1.5, 1.5);
    double t = uniform(mt, 0.0, PI);
    f.cos_t = cos(t);
    f.sin_t = sin(t);
    f.q = uniform(mt, q_lo, q_hi);
    return f;
}

/* Pixel (px, py) in the galaxy's own axes: u along the major axis, v along
 * the minor one stretched by 1/q, so circles there are ellipses on the sky. */
static void to_galaxy_axes(const galaxy_frame *f, double px, double py, double *u, double *v)
{
    double dx = px - f->cx, dy = py - f->cy;
    *u = dx * f->cos_t + dy * f->sin_t;
    *v = (-dx * f->sin_t + dy * f->cos_t) / f->q;
}

/* Smooth Sersic-like light: I = exp(-(r / re)^(1/n)). */
static void draw_elliptical(galann_mt19937 *mt, double *img)
{
    galaxy_frame f = random_frame(mt, 0.35, 1.0);
    double re = uniform(mt, 2.5, 7.0), inv_n = 1.0 / uniform(mt, 1.0, 4.0);
    for (int y = 0; y < SIDE; y++) {
        for (int x = 0; x < SIDE; x++) {
            double u, v;
            to_galaxy_axes(&f, x, y, &u, &v);
            img[y * SIDE + x] = exp(-pow(sqrt(u * u + v * v) / re, inv_n));
        }
    }
}

/* A bulge plus an exponential disk modulated by logarithmic arms:
 * arm phase m (phi - ln(r) / tan(pitch)). */
static void draw_spiral(galann_mt19937 *mt, double *img)
{
    galaxy_frame f = random_frame(mt, 0.45, 1.0);
    int arms = galann_mt_next_double(mt) < 0.7 ? 2 : 3;
    double pitch = uniform(mt, 0.25, 0.6), rd = uniform(mt, 4.0, 8.0);
    double bulge_re = uniform(mt, 1.0, 2.5), bulge_weight = uniform(mt, 0.4, 1.0);
    double contrast = uniform(mt, 0.35, 1.0), phase = uniform(mt, 0.0, 2.0 * PI);
    double handedness = galann_mt_next_double(mt) < 0.5 ? -1.0 : 1.0;
    for (int y = 0; y < SIDE; y++) {
        for (int x = 0; x < SIDE; x++) {
            double u, v;
            to_galaxy_axes(&f, x, y, &u, &v);
            double r = sqrt(u * u + v * v) + 1e-6;
            double phi = atan2(v, u);
            double arm = 0.5 * (1.0 + cos(arms * (phi - handedness * log(r) / tan(pitch)) + phase));
            double disk = exp(-r / rd) * (1.0 - contrast + contrast * pow(arm, 3.0));
            double bulge = bulge_weight * exp(-2.0 * r / bulge_re);
            img[y * SIDE + x] = disk + bulge;
        }
    }
}

/* A handful of Gaussian clumps scattered asymmetrically. */
static void draw_irregular(galann_mt19937 *mt, double *img)
{
    double cx = 15.5 + uniform(mt, -2.0, 2.0), cy = 15.5 + uniform(mt, -2.0, 2.0);
    int clumps = 3 + (int)(galann_mt_next_double(mt) * 6.0);
    double ccx[9], ccy[9], width[9], weight[9];
    double spread = uniform(mt, 3.0, 7.0);
    for (int c = 0; c < clumps; c++) {
        ccx[c] = cx + spread * normal(mt);
        ccy[c] = cy + spread * normal(mt);
        width[c] = uniform(mt, 1.0, 3.5);
        weight[c] = uniform(mt, 0.3, 1.0);
    }
    for (int y = 0; y < SIDE; y++) {
        for (int x = 0; x < SIDE; x++) {
            double s = 0.0;
            for (int c = 0; c < clumps; c++) {
                double dx = x - ccx[c], dy = y - ccy[c];
                s += weight[c] * exp(-(dx * dx + dy * dy) / (2.0 * width[c] * width[c]));
            }
            img[y * SIDE + x] = s;
        }
    }
}

/* Scale the light to a random peak over a random sky, add noise and
 * quantise to 8 bits as a camera would. */
static void expose(galann_mt19937 *mt, const double *light, uint8_t *pixels)
{
    double peak = 0.0;
    for (int i = 0; i < PIXELS; i++)
        peak = fmax(peak, light[i]);
    double brightness = uniform(mt, 120.0, 240.0) / (peak > 0 ? peak : 1.0);
    double sky = uniform(mt, 5.0, 40.0), noise = uniform(mt, 6.0, 18.0);
    for (int i = 0; i < PIXELS; i++) {
        double p = sky + brightness * light[i] + noise * normal(mt);
        p = floor(p + 0.5);
        pixels[i] = (uint8_t)(p < 0 ? 0 : (p > 255 ? 255 : p));
    }
}

GALANN_API int galann_dataset_synthesize(size_t n_samples, uint32_t seed, galann_dataset **out)
{
    galann_error_clear();
    if (!out)
        return galann_error_set(GALANN_ERR_INVALID, "galann_dataset_synthesize: out is NULL");
    *out = NULL;
    if (n_samples == 0 || n_samples > SIZE_MAX / (PIXELS * sizeof(double)))
        return galann_error_set(GALANN_ERR_INVALID, "galann_dataset_synthesize: %zu samples is not a usable count",
                                n_samples);
    /* 8-bit pixels, stored as such (p / 255 when read) */
    uint8_t *x = malloc(n_samples * PIXELS);
    int32_t *y = malloc(n_samples * sizeof *y);
    double light[PIXELS];
    if (!x || !y) {
        free(x);
        free(y);
        return galann_error_set(GALANN_ERR_NOMEM, "galann_dataset_synthesize: out of memory for %zu images",
                                n_samples);
    }
    galann_mt19937 mt;
    galann_mt_seed(&mt, seed);
    for (size_t i = 0; i < n_samples; i++) {
        y[i] = (int32_t)(i % N_CLASSES);
        switch (y[i]) {
        case 0: draw_elliptical(&mt, light); break;
        case 1: draw_spiral(&mt, light); break;
        default: draw_irregular(&mt, light); break;
        }
        expose(&mt, light, x + i * PIXELS);
    }
    return galann_dataset_adopt_stored(GALANN_STORAGE_U8, x, 255.0, y, n_samples, PIXELS, N_CLASSES, out);
}
