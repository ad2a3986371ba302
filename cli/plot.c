/*
 * plot.c -- the learning curve as a small standalone SVG: training and
 * test cost against iteration, with axes and a legend.
 */
#include <math.h>
#include <stdio.h>

#include "cli.h"

#define WIDTH 640.0
#define HEIGHT 400.0
#define LEFT 70.0
#define RIGHT 20.0
#define TOP 30.0
#define BOTTOM 50.0

static void polyline(FILE *f, const double *v, size_t n, double lo, double hi, const char *colour)
{
    double w = WIDTH - LEFT - RIGHT, h = HEIGHT - TOP - BOTTOM;
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", colour);
    for (size_t i = 0; i < n; i++) {
        double x = LEFT + (n > 1 ? w * (double)i / (double)(n - 1) : 0.0);
        double y = TOP + h * (1.0 - (v[i] - lo) / (hi - lo));
        fprintf(f, "%.1f,%.1f ", x, y);
    }
    fprintf(f, "\"/>\n");
}

int write_cost_plot(const char *path, const double *train, const double *test, size_t n)
{
    if (n == 0)
        return -1;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        lo = fmin(lo, train[i]);
        hi = fmax(hi, train[i]);
        if (test) {
            lo = fmin(lo, test[i]);
            hi = fmax(hi, test[i]);
        }
    }
    if (!(hi > lo))
        hi = lo + 1.0;
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n", WIDTH, HEIGHT);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<text x=\"%.0f\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">Cost J per iteration</text>\n",
            WIDTH / 2);
    double x0 = LEFT, x1 = WIDTH - RIGHT, y0 = HEIGHT - BOTTOM, y1 = TOP;
    fprintf(f, "<path d=\"M%.0f %.0f L%.0f %.0f L%.0f %.0f\" stroke=\"black\" fill=\"none\"/>\n", x0, y1, x0, y0, x1,
            y0);
    for (int t = 0; t <= 4; t++) {
        double v = lo + (hi - lo) * t / 4.0, y = y0 - (y0 - y1) * t / 4.0;
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.3f</text>\n", x0 - 6, y + 4, v);
        size_t it = (size_t)((double)(n - 1) * t / 4.0) + 1;
        double x = x0 + (x1 - x0) * t / 4.0;
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">%zu</text>\n", x, y0 + 18, it);
    }
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">iteration</text>\n", (x0 + x1) / 2, HEIGHT - 10);
    polyline(f, train, n, lo, hi, "#1f77b4");
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" fill=\"#1f77b4\">J train</text>\n", x1 - 90, y1 + 16);
    if (test) {
        polyline(f, test, n, lo, hi, "#d62728");
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" fill=\"#d62728\">J test</text>\n", x1 - 90, y1 + 32);
    }
    fprintf(f, "</svg>\n");
    return fclose(f);
}
