/*
 * plot.c -- the galann program's figures as standalone SVG (plot.h): the
 * learning curve (cost and accuracy against iteration, two panels over
 * one iteration axis) and the confusion matrix (a heat map of row
 * percentages with the counts written in).
 *
 * Sections: writing SVG text (checked, escaped), round axis ticks, the
 * learning curve, the confusion matrix. Sizes are in SVG pixels; text
 * widths are estimated from the character count (no font metrics), which
 * is enough to place labels. Numbers are printed with printf in the C
 * locale, which the galann program never changes.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "output_file.h"
#include "plot.h"

#define FONT_FAMILY "DejaVu Sans, Helvetica, Arial, sans-serif"
/* average advance of a character, in ems (DejaVu Sans: digits 0.64,
 * lower-case letters about 0.55) */
#define CHARACTER_WIDTH 0.6
#define GRID_COLOUR "#e3e3e3"
#define FRAME_COLOUR "#333333"

/* ------------------------------------------------------ writing SVG text */

/* Every write goes through emit(): the first failure is remembered (its
 * errno) and later writes are skipped, so a figure is checked once, at
 * the end, for all of its fprintf calls. */
typedef struct svg_writer {
    FILE *f;
    int error;   /* errno of the first failed write; 0 while all went well */
} svg_writer;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void emit(svg_writer *w, const char *format, ...)
{
    if (w->error)
        return;
    va_list ap;
    va_start(ap, format);
    errno = 0;
    int rc = vfprintf(w->f, format, ap);
    va_end(ap);
    if (rc < 0)
        w->error = errno ? errno : EIO;
}

/* Length of the valid UTF-8 sequence at s (1..4), 0 if s does not start
 * one (a stray continuation byte, an overlong form, a surrogate, a code
 * point above U+10FFFF, or a cut sequence). */
static size_t utf8_sequence_length(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0))
            return 0;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))
            return 0;
        return 4;
    }
    return 0;
}

/* text as XML character data or attribute value: the five markup
 * characters as entities, control characters XML 1.0 forbids and bytes
 * that are not UTF-8 as U+FFFD. */
static void emit_escaped(svg_writer *w, const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    while (*s) {
        size_t length = utf8_sequence_length(s);
        if (length == 0 || (*s < 0x20 && *s != '\t' && *s != '\n' && *s != '\r')) {
            emit(w, "&#xFFFD;");
            s++;
            continue;
        }
        switch (*s) {
        case '&': emit(w, "&amp;"); break;
        case '<': emit(w, "&lt;"); break;
        case '>': emit(w, "&gt;"); break;
        case '"': emit(w, "&quot;"); break;
        case '\'': emit(w, "&#39;"); break;
        default: emit(w, "%.*s", (int)length, (const char *)s); break;
        }
        s += length;
    }
}

/* Characters (code points) in text, for estimating its drawn width. */
static size_t character_count(const char *text)
{
    size_t n = 0;
    for (const unsigned char *s = (const unsigned char *)text; *s; s++)
        n += (*s & 0xc0) != 0x80;
    return n;
}

static double text_width(const char *text, double font_size)
{
    return CHARACTER_WIDTH * font_size * (double)character_count(text);
}

static void emit_header(svg_writer *w, double width, double height)
{
    emit(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"%s\" font-size=\"12\" fill=\"#222222\">\n",
         width, height, width, height, FONT_FAMILY);
    emit(w, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"white\"/>\n", width, height);
}

static void emit_title(svg_writer *w, const char *title, double x, double y)
{
    if (!title || !*title)
        return;
    emit(w, "<text class=\"title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"15\" "
            "font-weight=\"bold\">", x, y);
    emit_escaped(w, title);
    emit(w, "</text>\n");
}

/* A label rotated to read upwards, centred on (x, y). */
static void emit_vertical_label(svg_writer *w, const char *text, double x, double y)
{
    emit(w, "<text class=\"axis-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\" "
            "transform=\"rotate(-90 %.1f %.1f)\">", x, y, x, y);
    emit_escaped(w, text);
    emit(w, "</text>\n");
}

/* Finish a figure: commit the file when every write succeeded, else
 * remove the temporary and return -1 with the first write's errno. */
static int finish_figure(svg_writer *w, output_file *o)
{
    emit(w, "</svg>\n");
    if (w->error) {
        output_file_abandon(o);
        errno = w->error;
        return -1;
    }
    return output_file_commit(o);
}

/* ----------------------------------------------------- round axis ticks */

/* An axis drawn from the first tick to the last: ticks at i * step for
 * i = first..last, printed with `decimals` digits after the point. */
typedef struct axis {
    double lo, hi, step;
    long long first, last;
    int decimals;
} axis;

/* Heckbert's "nice numbers" (Graphics Gems, 1990): the 1, 2 or 5 times
 * a power of ten nearest to x (his rounded form). */
static double nice_number(double x)
{
    double power = pow(10.0, floor(log10(x)));
    double f = x / power;
    double nice = f < 1.5 ? 1.0 : f < 3.0 ? 2.0 : f < 7.0 ? 5.0 : 10.0;
    return nice * power;
}

static void axis_set_ticks(axis *a, long long first, long long last)
{
    a->first = first;
    a->last = last;
    a->lo = (double)first * a->step;
    a->hi = (double)last * a->step;
}

/* Round ticks around [lo, hi] (Heckbert's loose labelling): the step is
 * the nice number nearest (hi - lo) / (target - 1), the ends the
 * multiples of it just outside the data. No data (lo > hi): 0..1. One value: a range
 * around it. min_step > 0 keeps the step at least that (whole
 * iterations). */
static void axis_fit(axis *a, double lo, double hi, int target, double min_step)
{
    if (!(lo <= hi)) {
        lo = 0.0;
        hi = 1.0;
    }
    /* (a range below 1e-140 is taken as one value, so the step and the
     * tick count stay finite) */
    if (hi - lo <= 1e-9 * fmax(fabs(lo), fabs(hi)) || hi - lo < 1e-140) {
        double delta = min_step > 0.0 ? min_step : fabs(lo) >= 1e-140 ? 0.1 * fabs(lo) : 1.0;
        lo -= delta;
        hi += delta;
    }
    a->step = fmax(nice_number((hi - lo) / (target - 1)), min_step);
    /* 1e-9: a value on a tick, divided, may land a hair beside it */
    axis_set_ticks(a, (long long)floor(lo / a->step + 1e-9), (long long)ceil(hi / a->step - 1e-9));
    a->decimals = a->step >= 1.0 ? 0 : (int)ceil(-log10(a->step) - 1e-9);
}

/* Keep the ticks inside [min, max] (percentages: 0..100), at least two. */
static void axis_clamp(axis *a, double min, double max)
{
    long long first = a->first, last = a->last;
    long long lowest = (long long)ceil(min / a->step - 1e-9), highest = (long long)floor(max / a->step + 1e-9);
    if (first < lowest)
        first = lowest;
    if (last > highest)
        last = highest;
    if (first < last)
        axis_set_ticks(a, first, last);
}

static double axis_value(const axis *a, long long i)
{
    return (double)i * a->step;
}

static void format_tick(char *buf, size_t size, const axis *a, long long i)
{
    double v = axis_value(a, i), magnitude = fmax(fabs(a->lo), fabs(a->hi));
    if (a->step >= 1e-5 && magnitude < 1e7) {
        snprintf(buf, size, "%.*f", a->decimals, v);
        return;
    }
    /* very small or very large: as many significant digits as tell the
     * ticks apart */
    int digits = (int)ceil(log10(magnitude / a->step)) + 1;
    snprintf(buf, size, "%.*g", digits < 1 ? 1 : digits > 17 ? 17 : digits, v);
}

static double widest_tick_label(const axis *a, double font_size)
{
    double widest = 0.0;
    char label[64];
    for (long long i = a->first; i <= a->last; i++) {
        format_tick(label, sizeof label, a, i);
        widest = fmax(widest, text_width(label, font_size));
    }
    return widest;
}

/* ------------------------------------------------------- learning curve */

#define CURVE_WIDTH 640.0
#define PANEL_HEIGHT 200.0
#define PANEL_GAP 16.0
#define MARGIN 14.0
#define TITLE_HEIGHT 24.0
#define LEGEND_HEIGHT 24.0
#define X_AXIS_HEIGHT 44.0
#define TICK_LENGTH 5.0
#define TICK_FONT 11.0
/* the colour-blind-safe defaults of matplotlib (tab10), with dashes that
 * keep the series apart in grey print */
#define SERIES_COUNT 3
/* values beyond this are skipped: their range would overflow */
#define DRAWABLE_LIMIT 1e150
/* isolated points drawn as dots, per series: more than the columns of a
 * panel; any beyond it (runs revisiting columns) are dropped */
#define MAX_DOTS 1024

typedef struct series {
    const char *name, *colour, *dash;
    const double *values;   /* NULL: not drawn */
    double scale;           /* 100 for accuracies (fractions drawn as %) */
} series;

typedef struct panel {
    const char *id, *label;
    double left, right, top, bottom;   /* the plot area */
    axis y;
    int percent;
    series s[SERIES_COUNT];
} panel;

typedef struct curve_layout {
    double width, height, legend_y;
    axis x;
    size_t n_panels;
    panel p[2];
} curve_layout;

static double iteration_at(const learning_curve *c, size_t i)
{
    double x = c->iteration ? c->iteration[i] : (double)(i + 1);
    return isfinite(x) && fabs(x) < DRAWABLE_LIMIT ? x : NAN;
}

static double value_at(const series *s, size_t i)
{
    double v = s->values[i] * s->scale;
    return isfinite(v) && fabs(v) < DRAWABLE_LIMIT ? v : NAN;
}

static double pixel_x(const panel *p, const axis *x, double v)
{
    return p->left + (v - x->lo) / (x->hi - x->lo) * (p->right - p->left);
}

static double pixel_y(const panel *p, double v)
{
    return p->bottom - (v - p->y.lo) / (p->y.hi - p->y.lo) * (p->bottom - p->top);
}

static void set_series(panel *p, const double *train, const double *validation, const double *test, double scale)
{
    static const char *const names[SERIES_COUNT] = { "train", "validation", "test" };
    static const char *const colours[SERIES_COUNT] = { "#1f77b4", "#ff7f0e", "#2ca02c" };
    static const char *const dashes[SERIES_COUNT] = { NULL, "7 3", "2 2.5" };
    const double *values[SERIES_COUNT] = { train, validation, test };
    for (size_t k = 0; k < SERIES_COUNT; k++)
        p->s[k] = (series){ names[k], colours[k], dashes[k], values[k], scale };
}

/* The lowest and highest drawable value of the panel's series. */
static void panel_data_range(const panel *p, const learning_curve *c, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t k = 0; k < SERIES_COUNT; k++) {
        if (!p->s[k].values)
            continue;
        for (size_t i = 0; i < c->n; i++) {
            double v = value_at(&p->s[k], i);
            if (!isnan(v) && !isnan(iteration_at(c, i))) {
                *lo = fmin(*lo, v);
                *hi = fmax(*hi, v);
            }
        }
    }
}

/* Which panels there are (cost when any cost is given or nothing at all
 * is, accuracy when any accuracy is), their axes, and where they lie. */
static void lay_out_curve(curve_layout *l, const learning_curve *c)
{
    memset(l, 0, sizeof *l);
    int has_cost = c->train_cost || c->validation_cost || c->test_cost;
    int has_accuracy = c->train_accuracy || c->validation_accuracy || c->test_accuracy;
    if (has_cost || !has_accuracy) {
        panel *p = &l->p[l->n_panels++];
        p->id = "cost-panel";
        p->label = "cost J";
        set_series(p, c->train_cost, c->validation_cost, c->test_cost, 1.0);
    }
    if (has_accuracy) {
        panel *p = &l->p[l->n_panels++];
        p->id = "accuracy-panel";
        p->label = "accuracy (%)";
        p->percent = 1;
        set_series(p, c->train_accuracy, c->validation_accuracy, c->test_accuracy, 100.0);
    }

    double x_lo = INFINITY, x_hi = -INFINITY;
    for (size_t i = 0; i < c->n; i++) {
        double x = iteration_at(c, i);
        if (!isnan(x)) {
            x_lo = fmin(x_lo, x);
            x_hi = fmax(x_hi, x);
        }
    }
    if (!(x_lo <= x_hi)) {
        x_lo = 0.0;
        x_hi = 1.0;
    }
    axis_fit(&l->x, x_lo, x_hi, 6, 1.0);

    double widest = 0.0;
    for (size_t k = 0; k < l->n_panels; k++) {
        panel *p = &l->p[k];
        double lo, hi;
        panel_data_range(p, c, &lo, &hi);
        if (p->percent && !(lo <= hi)) {
            lo = 0.0;
            hi = 100.0;
        }
        axis_fit(&p->y, lo, hi, 5, 0.0);
        if (p->percent && lo >= 0.0 && hi <= 100.0)
            axis_clamp(&p->y, 0.0, 100.0);
        widest = fmax(widest, widest_tick_label(&p->y, TICK_FONT));
    }

    double top = MARGIN + (c->title && *c->title ? TITLE_HEIGHT : 0.0);
    l->legend_y = top + 10.0;
    top += LEGEND_HEIGHT;
    /* the rotated axis label, a gap, the tick labels, the ticks */
    double left = MARGIN + 16.0 + 10.0 + widest + 4.0 + TICK_LENGTH;
    /* room for half the last iteration label, centred on the right edge */
    char last_label[64];
    format_tick(last_label, sizeof last_label, &l->x, l->x.last);
    double right = CURVE_WIDTH - MARGIN - fmax(6.0, text_width(last_label, TICK_FONT) / 2.0 - MARGIN + 2.0);
    for (size_t k = 0; k < l->n_panels; k++) {
        panel *p = &l->p[k];
        p->left = left;
        p->right = right;
        p->top = top + (double)k * (PANEL_HEIGHT + PANEL_GAP);
        p->bottom = p->top + PANEL_HEIGHT;
    }
    l->width = CURVE_WIDTH;
    l->height = l->p[l->n_panels - 1].bottom + X_AXIS_HEIGHT + MARGIN - 10.0;
}

/* Grid lines first, so the data lies over them; then the frame, the
 * ticks and their labels (the iteration labels under the lowest panel
 * only), and the axis labels. */
static void draw_axes(svg_writer *w, const curve_layout *l, const panel *p, int lowest)
{
    char label[64];
    emit(w, "<g class=\"grid\" stroke=\"%s\" stroke-width=\"1\">\n", GRID_COLOUR);
    for (long long i = l->x.first; i <= l->x.last; i++) {
        double x = pixel_x(p, &l->x, axis_value(&l->x, i));
        emit(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x, p->top, x, p->bottom);
    }
    for (long long i = p->y.first; i <= p->y.last; i++) {
        double y = pixel_y(p, axis_value(&p->y, i));
        emit(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", p->left, y, p->right, y);
    }
    emit(w, "</g>\n");
    emit(w, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"%s\" "
            "stroke-width=\"1\"/>\n", p->left, p->top, p->right - p->left, p->bottom - p->top, FRAME_COLOUR);

    emit(w, "<g class=\"ticks\" stroke=\"%s\" stroke-width=\"1\">\n", FRAME_COLOUR);
    for (long long i = l->x.first; i <= l->x.last; i++) {
        double x = pixel_x(p, &l->x, axis_value(&l->x, i));
        emit(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x, p->bottom, x,
             p->bottom + TICK_LENGTH);
    }
    for (long long i = p->y.first; i <= p->y.last; i++) {
        double y = pixel_y(p, axis_value(&p->y, i));
        emit(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", p->left - TICK_LENGTH, y, p->left, y);
    }
    emit(w, "</g>\n");

    emit(w, "<g font-size=\"%.0f\">\n", TICK_FONT);
    for (long long i = p->y.first; i <= p->y.last; i++) {
        format_tick(label, sizeof label, &p->y, i);
        emit(w, "<text class=\"tick-y\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
             p->left - TICK_LENGTH - 3.0, pixel_y(p, axis_value(&p->y, i)) + 4.0, label);
    }
    for (long long i = l->x.first; lowest && i <= l->x.last; i++) {
        format_tick(label, sizeof label, &l->x, i);
        emit(w, "<text class=\"tick-x\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
             pixel_x(p, &l->x, axis_value(&l->x, i)), p->bottom + TICK_LENGTH + 13.0, label);
    }
    emit(w, "</g>\n");
    emit_vertical_label(w, p->label, MARGIN + 10.0, (p->top + p->bottom) / 2.0);
    if (lowest)
        emit(w, "<text class=\"axis-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\">"
                "iteration</text>\n", (p->left + p->right) / 2.0, p->bottom + TICK_LENGTH + 33.0);
}

/* A series' line, thinned: the points falling in one pixel column are
 * gathered and only the first, the lowest, the highest and the last are
 * written, in their order. A skipped value breaks the line, unless the
 * next drawable point falls in the same column (a gap too narrow to
 * see). A run of one point is kept as a dot, drawn after the line. */
typedef struct polyline {
    svg_writer *w;
    int pen_down;          /* the next point continues the line */
    size_t run_points;     /* points written since the pen went down */
    double run_x, run_y;   /* the run's first point */
    int gap;               /* a value was skipped since the column began */
    int gathering;
    long column;
    size_t index[4];       /* first, lowest, highest, last of the column */
    double px[4], py[4];
    size_t n_dots;
    double dot_x[MAX_DOTS], dot_y[MAX_DOTS];
} polyline;

static void polyline_point(polyline *pl, double x, double y)
{
    if (!pl->pen_down) {
        pl->pen_down = 1;
        pl->run_points = 0;
        pl->run_x = x;
        pl->run_y = y;
    }
    emit(pl->w, "%s%.1f %.1f", pl->run_points == 0 ? "M" : " L", x, y);
    pl->run_points++;
}

static void polyline_end_run(polyline *pl)
{
    if (pl->pen_down && pl->run_points == 1 && pl->n_dots < MAX_DOTS) {
        pl->dot_x[pl->n_dots] = pl->run_x;
        pl->dot_y[pl->n_dots] = pl->run_y;
        pl->n_dots++;
    }
    pl->pen_down = 0;
}

/* Write the gathered column's points in index order, each once. */
static void polyline_flush_column(polyline *pl)
{
    if (!pl->gathering)
        return;
    int order[4] = { 0, 1, 2, 3 };
    /* lowest and highest in the order they came */
    if (pl->index[2] < pl->index[1]) {
        order[1] = 2;
        order[2] = 1;
    }
    size_t previous = SIZE_MAX;
    for (int k = 0; k < 4; k++) {
        int j = order[k];
        if (pl->index[j] == previous)
            continue;
        polyline_point(pl, pl->px[j], pl->py[j]);
        previous = pl->index[j];
    }
    pl->gathering = 0;
}

static void polyline_add(polyline *pl, size_t i, double x, double y)
{
    long column = (long)floor(x);
    if (pl->gathering && column == pl->column) {
        /* screen y grows downwards: the lowest value is the largest y */
        if (y > pl->py[1]) {
            pl->index[1] = i;
            pl->px[1] = x;
            pl->py[1] = y;
        }
        if (y < pl->py[2]) {
            pl->index[2] = i;
            pl->px[2] = x;
            pl->py[2] = y;
        }
        pl->index[3] = i;
        pl->px[3] = x;
        pl->py[3] = y;
        pl->gap = 0;
        return;
    }
    polyline_flush_column(pl);
    if (pl->gap)
        polyline_end_run(pl);
    pl->gap = 0;
    pl->gathering = 1;
    pl->column = column;
    for (int k = 0; k < 4; k++) {
        pl->index[k] = i;
        pl->px[k] = x;
        pl->py[k] = y;
    }
}

static size_t drawable_points(const learning_curve *c, const series *s)
{
    size_t count = 0;
    for (size_t i = 0; i < c->n; i++)
        count += !isnan(iteration_at(c, i)) && !isnan(value_at(s, i));
    return count;
}

static void emit_series_style(svg_writer *w, const series *s)
{
    emit(w, "fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" stroke-linejoin=\"round\" stroke-linecap=\"round\"",
         s->colour);
    if (s->dash)
        emit(w, " stroke-dasharray=\"%s\"", s->dash);
}

static void draw_series(svg_writer *w, const curve_layout *l, const panel *p, const series *s,
                        const learning_curve *c)
{
    if (!s->values || drawable_points(c, s) == 0)
        return;
    polyline pl;
    memset(&pl, 0, sizeof pl);
    pl.w = w;
    emit(w, "<path class=\"series %s\" ", s->name);
    emit_series_style(w, s);
    emit(w, " d=\"");
    for (size_t i = 0; i < c->n; i++) {
        double x = iteration_at(c, i), v = value_at(s, i);
        if (isnan(x) || isnan(v)) {
            pl.gap = 1;
            continue;
        }
        polyline_add(&pl, i, pixel_x(p, &l->x, x), pixel_y(p, v));
    }
    polyline_flush_column(&pl);
    polyline_end_run(&pl);
    emit(w, "\"/>\n");
    for (size_t d = 0; d < pl.n_dots; d++)
        emit(w, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n", pl.dot_x[d], pl.dot_y[d], s->colour);
}

/* The row of the kept iterate: the first whose iteration equals it, or
 * n when there is none. */
static size_t kept_row(const learning_curve *c)
{
    for (size_t i = 0; c->kept_iteration > 0 && i < c->n; i++) {
        if (iteration_at(c, i) == (double)c->kept_iteration)
            return i;
    }
    return c->n;
}

/* A dashed vertical line at the kept iteration, an open circle on each
 * series there, and "kept: iteration N" at the top of the panel, or at
 * the bottom when the curves are high there. */
static void draw_kept_marker(svg_writer *w, const curve_layout *l, const panel *p, const learning_curve *c)
{
    double kept = (double)c->kept_iteration;
    if (c->kept_iteration == 0 || kept < l->x.lo || kept > l->x.hi)
        return;
    double x = pixel_x(p, &l->x, kept);
    size_t row = kept_row(c);
    emit(w, "<g class=\"kept\">\n<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#555555\" "
            "stroke-width=\"1\" stroke-dasharray=\"4 3\"/>\n", x, p->top, x, p->bottom);
    double highest = p->bottom;
    for (size_t k = 0; k < SERIES_COUNT && row < c->n; k++) {
        const series *s = &p->s[k];
        if (!s->values || isnan(value_at(s, row)))
            continue;
        double y = pixel_y(p, value_at(s, row));
        highest = fmin(highest, y);
        emit(w, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"white\" stroke=\"%s\" stroke-width=\"1.6\"/>\n", x, y,
             s->colour);
    }
    char text[64];
    snprintf(text, sizeof text, "kept: iteration %zu", c->kept_iteration);
    int at_top = highest > p->top + 0.35 * (p->bottom - p->top);
    int on_left = x + 8.0 + text_width(text, TICK_FONT) > p->right;
    emit(w, "<text class=\"kept-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%.0f\" "
            "fill=\"#333333\" stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\">%s</text>\n</g>\n",
         on_left ? x - 5.0 : x + 5.0, at_top ? p->top + 15.0 : p->bottom - 7.0, on_left ? "end" : "start",
         TICK_FONT, text);
}

/* One entry per series given in any panel: a line sample and its name,
 * centred in a row above the panels. */
static void draw_legend(svg_writer *w, const curve_layout *l)
{
    const series *shown[SERIES_COUNT];
    size_t n = 0;
    double total = 0.0;
    for (size_t k = 0; k < SERIES_COUNT; k++) {
        const series *s = NULL;
        for (size_t q = 0; q < l->n_panels && !s; q++)
            s = l->p[q].s[k].values ? &l->p[q].s[k] : NULL;
        if (!s)
            continue;
        shown[n++] = s;
        total += 28.0 + 6.0 + text_width(s->name, 12.0) + 18.0;
    }
    if (n == 0)
        return;
    const panel *first = &l->p[0];
    double x = (first->left + first->right) / 2.0 - (total - 18.0) / 2.0, y = l->legend_y;
    emit(w, "<g class=\"legend\">\n");
    for (size_t k = 0; k < n; k++) {
        emit(w, "<path d=\"M%.1f %.1f h28\" ", x, y);
        emit_series_style(w, shown[k]);
        emit(w, "/>\n<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", x + 34.0, y + 4.0, shown[k]->name);
        x += 28.0 + 6.0 + text_width(shown[k]->name, 12.0) + 18.0;
    }
    emit(w, "</g>\n");
}

static void draw_panel(svg_writer *w, const curve_layout *l, const panel *p, const learning_curve *c, int lowest)
{
    emit(w, "<g id=\"%s\">\n", p->id);
    draw_axes(w, l, p, lowest);
    size_t drawn = 0;
    for (size_t k = 0; k < SERIES_COUNT; k++) {
        draw_series(w, l, p, &p->s[k], c);
        drawn += p->s[k].values ? drawable_points(c, &p->s[k]) : 0;
    }
    if (drawn == 0)
        emit(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#777777\">no data</text>\n",
             (p->left + p->right) / 2.0, (p->top + p->bottom) / 2.0 + 4.0);
    draw_kept_marker(w, l, p, c);
    emit(w, "</g>\n");
}

int write_learning_curve_svg(const char *path, const learning_curve *c)
{
    if (!path || !c) {
        errno = EINVAL;
        return -1;
    }
    curve_layout l;
    lay_out_curve(&l, c);
    output_file o;
    svg_writer w = { output_file_open(path, &o), 0 };
    if (!w.f)
        return -1;
    emit_header(&w, l.width, l.height);
    emit_title(&w, c->title, (l.p[0].left + l.p[0].right) / 2.0, MARGIN + 12.0);
    draw_legend(&w, &l);
    for (size_t k = 0; k < l.n_panels; k++)
        draw_panel(&w, &l, &l.p[k], c, k + 1 == l.n_panels);
    return finish_figure(&w, &o);
}

/* ------------------------------------------------------ confusion matrix */

#define CELL_MAX 96.0
#define CELL_MIN 30.0
#define MATRIX_SIZE 360.0
#define NAME_FONT 13.0
#define NAME_WIDTH_MAX 220.0
#define COLOUR_BAR_WIDTH 14.0

/* matplotlib's "Blues" (ColorBrewer), from 0 to 1 in eight steps */
static const unsigned char blues[9][3] = {
    { 0xf7, 0xfb, 0xff }, { 0xde, 0xeb, 0xf7 }, { 0xc6, 0xdb, 0xef }, { 0x9e, 0xca, 0xe1 }, { 0x6b, 0xae, 0xd6 },
    { 0x42, 0x92, 0xc6 }, { 0x21, 0x71, 0xb5 }, { 0x08, 0x51, 0x9c }, { 0x08, 0x30, 0x6b },
};

static void blues_at(double t, char *hex, size_t size)
{
    t = fmin(fmax(t, 0.0), 1.0) * 8.0;
    int i = t >= 8.0 ? 7 : (int)t;
    double f = t - i;
    int rgb[3];
    for (int k = 0; k < 3; k++)
        rgb[k] = (int)lround(blues[i][k] + f * (blues[i + 1][k] - blues[i][k]));
    snprintf(hex, size, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

typedef struct confusion_layout {
    double cell, left, top, width, height;
    double count_font;      /* the counts' size: the widest fits a cell */
    double name_width;      /* the widest class name, estimated */
    int rotate_names;       /* the predicted-class names slanted */
    double bar_x;           /* the colour bar's left edge */
} confusion_layout;

static void class_name(char *buf, size_t size, const char *const *names, size_t i, const char **out)
{
    if (names && names[i]) {
        *out = names[i];
        return;
    }
    snprintf(buf, size, "%zu", i);
    *out = buf;
}

static void lay_out_confusion(confusion_layout *l, size_t k, const size_t *counts, const char *const *names,
                              const char *title)
{
    char buf[32];
    const char *name;
    l->cell = fmin(CELL_MAX, fmax(CELL_MIN, MATRIX_SIZE / (double)k));
    size_t largest = 0;
    for (size_t i = 0; i < k * k; i++)
        largest = counts[i] > largest ? counts[i] : largest;
    int digits = snprintf(buf, sizeof buf, "%zu", largest);
    l->count_font = fmin(fmin(16.0, l->cell / 3.0), (l->cell - 6.0) / (CHARACTER_WIDTH * digits));
    l->name_width = 0.0;
    for (size_t i = 0; i < k; i++) {
        class_name(buf, sizeof buf, names, i, &name);
        l->name_width = fmax(l->name_width, text_width(name, NAME_FONT));
    }
    l->name_width = fmin(l->name_width, NAME_WIDTH_MAX);
    l->rotate_names = l->name_width > l->cell - 8.0;
    l->left = MARGIN + 16.0 + 12.0 + l->name_width + 8.0;
    l->top = MARGIN + (title && *title ? TITLE_HEIGHT + 6.0 : 4.0);
    double matrix = (double)k * l->cell;
    l->bar_x = l->left + matrix + 24.0;
    /* the bar, its ticks and labels (up to "100"), its rotated label */
    l->width = l->bar_x + COLOUR_BAR_WIDTH + 4.0 + 3.0 * CHARACTER_WIDTH * 11.0 + 12.0 + 16.0 + MARGIN;
    double names_height = l->rotate_names ? 0.71 * l->name_width + 8.0 : 20.0;
    l->height = l->top + matrix + names_height + 26.0 + MARGIN;
}

static void draw_cell(svg_writer *w, const confusion_layout *l, size_t t, size_t p, size_t count, size_t row_total)
{
    double x = l->left + (double)p * l->cell, y = l->top + (double)t * l->cell;
    double share = row_total > 0 ? (double)count / (double)row_total : 0.0;
    char colour[8];
    blues_at(share, colour, sizeof colour);
    const char *ink = share > 0.5 ? "white" : "#222222";
    emit(w, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" stroke=\"white\" "
            "stroke-width=\"1\"/>\n", x, y, l->cell, l->cell, colour);
    double count_font = l->count_font, cx = x + l->cell / 2.0, cy = y + l->cell / 2.0;
    int with_share = row_total > 0 && l->cell >= 44.0;
    emit(w, "<text class=\"count\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"%.1f\" "
            "font-weight=\"bold\" fill=\"%s\">%zu</text>\n", cx, with_share ? cy - 1.0 : cy + count_font * 0.35,
         count_font, ink, count);
    if (with_share)
        emit(w, "<text class=\"share\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"%.1f\" "
                "fill=\"%s\">%.1f%%</text>\n", cx, cy + count_font * 0.95, count_font * 0.75, ink, 100.0 * share);
}

static void draw_class_names(svg_writer *w, const confusion_layout *l, size_t k, const char *const *names)
{
    char buf[32];
    const char *name;
    double bottom = l->top + (double)k * l->cell;
    emit(w, "<g class=\"class-names\" font-size=\"%.0f\">\n", NAME_FONT);
    for (size_t i = 0; i < k; i++) {
        class_name(buf, sizeof buf, names, i, &name);
        double centre = (double)i * l->cell + l->cell / 2.0;
        emit(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", l->left - 8.0, l->top + centre + 4.5);
        emit_escaped(w, name);
        emit(w, "</text>\n");
        double x = l->left + centre, y = bottom + 17.0;
        if (l->rotate_names)
            emit(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" transform=\"rotate(-45 %.1f %.1f)\">",
                 x + 4.0, y - 6.0, x + 4.0, y - 6.0);
        else
            emit(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x, y);
        emit_escaped(w, name);
        emit(w, "</text>\n");
    }
    emit(w, "</g>\n");
    double names_height = l->rotate_names ? 0.71 * l->name_width + 8.0 : 20.0;
    emit(w, "<text class=\"axis-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\">"
            "predicted class</text>\n", l->left + (double)k * l->cell / 2.0, bottom + names_height + 16.0);
    emit_vertical_label(w, "true class", MARGIN + 10.0, l->top + (double)k * l->cell / 2.0);
}

/* The colour scale: row percentage 0 (bottom) to 100 (top). */
static void draw_colour_bar(svg_writer *w, const confusion_layout *l, size_t k)
{
    double top = l->top, bottom = l->top + (double)k * l->cell, x = l->bar_x;
    char colour[8], label[64];
    emit(w, "<defs><linearGradient id=\"blues\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">");
    for (int i = 0; i <= 8; i++) {
        blues_at(i / 8.0, colour, sizeof colour);
        emit(w, "<stop offset=\"%.3f\" stop-color=\"%s\"/>", i / 8.0, colour);
    }
    emit(w, "</linearGradient></defs>\n");
    emit(w, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"url(#blues)\" stroke=\"%s\" "
            "stroke-width=\"0.8\"/>\n", x, top, COLOUR_BAR_WIDTH, bottom - top, FRAME_COLOUR);
    axis a;
    axis_fit(&a, 0.0, 100.0, 6, 0.0);
    emit(w, "<g font-size=\"%.0f\">\n", TICK_FONT);
    for (long long i = a.first; i <= a.last; i++) {
        double y = bottom - axis_value(&a, i) / 100.0 * (bottom - top);
        format_tick(label, sizeof label, &a, i);
        emit(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", x + COLOUR_BAR_WIDTH, y,
             x + COLOUR_BAR_WIDTH + 4.0, y, FRAME_COLOUR);
        emit(w, "<text class=\"tick-bar\" x=\"%.1f\" y=\"%.1f\">%s</text>\n", x + COLOUR_BAR_WIDTH + 6.0, y + 4.0,
             label);
    }
    emit(w, "</g>\n");
    emit_vertical_label(w, "row percentage (%)", l->width - MARGIN - 6.0, (top + bottom) / 2.0);
}

int write_confusion_svg(const char *path, const size_t *counts, size_t k, const char *const *class_names,
                        const char *title)
{
    if (!path || !counts || k == 0 || k > SIZE_MAX / k) {
        errno = EINVAL;
        return -1;
    }
    confusion_layout l;
    lay_out_confusion(&l, k, counts, class_names, title);
    output_file o;
    svg_writer w = { output_file_open(path, &o), 0 };
    if (!w.f)
        return -1;
    emit_header(&w, l.width, l.height);
    emit_title(&w, title, l.left + (double)k * l.cell / 2.0, MARGIN + 12.0);
    emit(&w, "<g id=\"matrix\">\n");
    for (size_t t = 0; t < k; t++) {
        size_t row_total = 0;
        for (size_t p = 0; p < k; p++)
            row_total += counts[t * k + p];
        for (size_t p = 0; p < k; p++)
            draw_cell(&w, &l, t, p, counts[t * k + p], row_total);
    }
    emit(&w, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"%s\" "
             "stroke-width=\"1\"/>\n</g>\n", l.left, l.top, (double)k * l.cell, (double)k * l.cell, FRAME_COLOUR);
    draw_class_names(&w, &l, k, class_names);
    draw_colour_bar(&w, &l, k);
    return finish_figure(&w, &o);
}
