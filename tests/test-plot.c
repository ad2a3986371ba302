/*
 * test-plot.c -- the galann program's figures (cli/plot.c) and the
 * atomic output files they are written through (cli/output_file.c), both
 * compiled into this program.
 *
 * Each figure is checked as text: well-formed XML (a small scanner here,
 * and xmllint when installed), the axis labels, the exact round tick
 * lists, the kept-iteration marker, escaped names; then the edge cases
 * (one iteration, constant series, NaN, 10^5 iterations) and the file
 * handling (missing folder, a directory in the way, a full quota, a
 * name of NAME_MAX characters, replacing an existing file). The last
 * test renders every figure with rsvg-convert (librsvg2-bin) and checks
 * the PNG; it skips when rsvg-convert is not installed. Set
 * GALANN_PLOT_PNG_DIR to keep the PNGs there for a look.
 *
 * Not here: how `galann train` and `galann eval` call these (test-cli.sh).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "output_file.h"
#include "plot.h"
#include "support.h"

/* ------------------------------------------------------------ helpers */

static char folder[64];

static int setup(void **state)
{
    (void)state;
    return temp_folder_make(folder, sizeof folder, "plot");
}

static int teardown(void **state)
{
    (void)state;
    return temp_folder_remove(folder);
}

static void path_in_folder(char *path, size_t size, const char *name)
{
    snprintf(path, size, "%s/%s", folder, name);
}

/* The whole file, NUL-terminated; the caller frees. */
static char *read_text(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s: %s", path, strerror(errno));
    char *text = NULL;
    size_t used = 0, capacity = 0;
    for (;;) {
        if (used + 4096 + 1 > capacity) {
            capacity = 2 * capacity + 4096 + 1;
            text = realloc(text, capacity);
            assert_non_null(text);
        }
        size_t got = fread(text + used, 1, 4096, f);
        used += got;
        if (got < 4096)
            break;
    }
    fclose(f);
    text[used] = '\0';
    if (size)
        *size = used;
    return text;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

/* Names in the folder other than those given (NULL-terminated). */
static int count_other_entries(const char *const *expected)
{
    DIR *d = opendir(folder);
    assert_non_null(d);
    int count = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        int known = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
        for (size_t i = 0; expected[i] && !known; i++)
            known = strcmp(e->d_name, expected[i]) == 0;
        if (!known) {
            print_message("unexpected entry in the folder: %s\n", e->d_name);
            count++;
        }
    }
    closedir(d);
    return count;
}

static size_t occurrences(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void assert_contains(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("the SVG does not contain '%s'", needle);
}

/* Well-formed XML, as far as a figure needs: every element closed in
 * order, one root, attribute values quoted, '<' never inside a value,
 * '&' only as one of the five entities or a character reference. */
static void assert_well_formed(const char *text)
{
    const char *stack[64];
    size_t stack_lengths[64], depth = 0, roots = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '&') {
            static const char *const entities[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#" };
            int ok = 0;
            for (size_t i = 0; i < 6 && !ok; i++)
                ok = strncmp(p, entities[i], strlen(entities[i])) == 0;
            if (!ok || !strchr(p, ';'))
                fail_msg("a bare '&' at byte %td", p - text);
            continue;
        }
        if (*p != '<')
            continue;
        if (p[1] == '?') {
            const char *end = strstr(p, "?>");
            assert_non_null(end);
            p = end + 1;
            continue;
        }
        int closing = p[1] == '/';
        const char *name = p + 1 + closing;
        size_t length = strcspn(name, " \t\n/>");
        const char *q = name + length;
        char quote = 0;
        for (; *q && (quote || *q != '>'); q++) {
            if (quote && *q == '<')
                fail_msg("'<' inside an attribute value at byte %td", q - text);
            if (*q == '"' || *q == '\'')
                quote = quote == *q ? 0 : quote ? quote : *q;
        }
        if (*q != '>')
            fail_msg("an unterminated tag at byte %td", p - text);
        int self_closing = q[-1] == '/';
        if (closing) {
            if (depth == 0 || stack_lengths[depth - 1] != length || strncmp(stack[depth - 1], name, length) != 0)
                fail_msg("</%.*s> at byte %td closes nothing open", (int)length, name, p - text);
            depth--;
        } else if (!self_closing) {
            if (depth == 0)
                roots++;
            assert_true(depth < 64);
            stack[depth] = name;
            stack_lengths[depth++] = length;
        } else if (depth == 0) {
            roots++;
        }
        p = q;
    }
    if (depth != 0)
        fail_msg("<%.*s> is never closed", (int)stack_lengths[depth - 1], stack[depth - 1]);
    assert_int_equal(roots, 1);
}

/* Whether word occurs, in any case, with no letter on either side (a
 * printed "nan", "-inf", "INF"). */
static int contains_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = text; *p; p++) {
        if (strncasecmp(p, word, n) == 0 && (p == text || !isalpha((unsigned char)p[-1])) &&
            !isalpha((unsigned char)p[n]))
            return 1;
    }
    return 0;
}

static int tool_installed(const char *name)
{
    char command[128];
    snprintf(command, sizeof command, "command -v %s >/dev/null 2>&1", name);
    return system(command) == 0;
}

/* The file as XML, by xmllint when installed and always by the scanner. */
static char *read_checked_svg(const char *path, size_t *size)
{
    if (tool_installed("xmllint")) {
        char command[512];
        snprintf(command, sizeof command, "xmllint --noout '%s'", path);
        if (system(command) != 0)
            fail_msg("xmllint rejects %s", path);
    }
    char *text = read_text(path, size);
    assert_well_formed(text);
    if (contains_word(text, "nan") || contains_word(text, "inf"))
        fail_msg("%s contains a printed NaN or infinity", path);
    return text;
}

/* The texts of class `cls` inside the element with id `group` (the
 * whole file for NULL), joined with commas: "0.4,0.6,0.8". */
static void texts_of_class(const char *svg, const char *group, const char *cls, char *out, size_t size)
{
    const char *from = svg, *to = svg + strlen(svg);
    if (group) {
        char key[64];
        snprintf(key, sizeof key, "<g id=\"%s\">", group);
        from = strstr(svg, key);
        assert_non_null(from);
        const char *next = strstr(from + strlen(key), "<g id=");
        if (next)
            to = next;
    }
    char key[64];
    snprintf(key, sizeof key, "class=\"%s\"", cls);
    size_t used = 0;
    out[0] = '\0';
    for (const char *p = strstr(from, key); p && p < to; p = strstr(p + 1, key)) {
        const char *start = strchr(p, '>') + 1, *end = strstr(start, "</text>");
        used += (size_t)snprintf(out + used, size - used, "%s%.*s", used ? "," : "", (int)(end - start), start);
        assert_true(used < size);
    }
}

/* The learning curve of a made-up run: costs exactly 0.43..1.12 and
 * accuracies 33.33..72.74 %, over iterations 1..n. */
typedef struct made_up_run {
    size_t n;
    double *iteration, *train_cost, *train_accuracy, *test_cost, *test_accuracy;
} made_up_run;

static void make_run(made_up_run *r, size_t n)
{
    r->n = n;
    r->iteration = malloc(n * sizeof(double));
    r->train_cost = malloc(n * sizeof(double));
    r->train_accuracy = malloc(n * sizeof(double));
    r->test_cost = malloc(n * sizeof(double));
    r->test_accuracy = malloc(n * sizeof(double));
    assert_true(r->iteration && r->train_cost && r->train_accuracy && r->test_cost && r->test_accuracy);
    for (size_t i = 0; i < n; i++) {
        double t = n > 1 ? (double)i / (double)(n - 1) : 0.0;
        r->iteration[i] = (double)(i + 1);
        r->train_cost[i] = 1.12 - (1.12 - 0.43) * sqrt(t);
        r->test_cost[i] = 1.12 - (1.12 - 0.60) * sqrt(t) + 0.05 * t * t;
        r->train_accuracy[i] = 0.3333 + (0.7274 - 0.3333) * sqrt(t);
        r->test_accuracy[i] = 0.3333 + (0.70 - 0.3333) * sqrt(t);
    }
}

static void free_run(made_up_run *r)
{
    free(r->iteration);
    free(r->train_cost);
    free(r->train_accuracy);
    free(r->test_cost);
    free(r->test_accuracy);
}

static learning_curve curve_of(const made_up_run *r, size_t kept, const char *title)
{
    learning_curve c = { 0 };
    c.n = r->n;
    c.iteration = r->iteration;
    c.train_cost = r->train_cost;
    c.train_accuracy = r->train_accuracy;
    c.test_cost = r->test_cost;
    c.test_accuracy = r->test_accuracy;
    c.kept_iteration = kept;
    c.title = title;
    return c;
}

/* -------------------------------------------------------- learning curve */

static void learning_curve_has_labels_round_ticks_legend_and_kept_marker(void **state)
{
    (void)state;
    made_up_run r;
    make_run(&r, 50);
    learning_curve c = curve_of(&r, 20, "run <1> & \"2\"");
    char path[128], ticks[512];
    path_in_folder(path, sizeof path, "curve.svg");
    assert_int_equal(write_learning_curve_svg(path, &c), 0);
    char *svg = read_checked_svg(path, NULL);

    assert_contains(svg, ">iteration</text>");
    assert_contains(svg, ">cost J</text>");
    assert_contains(svg, ">accuracy (%)</text>");
    assert_contains(svg, ">train</text>");
    assert_contains(svg, ">test</text>");
    assert_true(strstr(svg, ">validation</text>") == NULL);   /* not given: not in the legend */
    assert_contains(svg, ">run &lt;1&gt; &amp; &quot;2&quot;</text>");
    assert_int_equal(occurrences(svg, ">kept: iteration 20</text>"), 2);

    /* costs 0.43..1.12: step 0.2, from 0.4 to 1.2 */
    texts_of_class(svg, "cost-panel", "tick-y", ticks, sizeof ticks);
    assert_string_equal(ticks, "0.4,0.6,0.8,1.0,1.2");
    /* accuracies 33.33..72.74 %: step 10 */
    texts_of_class(svg, "accuracy-panel", "tick-y", ticks, sizeof ticks);
    assert_string_equal(ticks, "30,40,50,60,70,80");
    /* iterations 1..50, labelled under the lower panel only */
    texts_of_class(svg, "cost-panel", "tick-x", ticks, sizeof ticks);
    assert_string_equal(ticks, "");
    texts_of_class(svg, "accuracy-panel", "tick-x", ticks, sizeof ticks);
    assert_string_equal(ticks, "0,10,20,30,40,50");
    free(svg);
    free_run(&r);
}

/* The y of the first and the last point of a series' path (the first
 * path of that class, in the cost panel). */
static void series_ends(const char *svg, const char *cls, double *first_y, double *last_y)
{
    char key[64];
    snprintf(key, sizeof key, "<path class=\"series %s\"", cls);
    const char *p = strstr(svg, key);
    assert_non_null(p);
    const char *d = strstr(p, " d=\"");
    assert_non_null(d);
    d += 4;
    const char *end = strchr(d, '"');
    double x, y;
    assert_int_equal(sscanf(d, "M%lf %lf", &x, &y), 2);
    *first_y = y;
    for (const char *q = d; q && q < end; q = strpbrk(q + 1, "ML")) {
        if (sscanf(q + 1, "%lf %lf", &x, &y) == 2)
            *last_y = y;
    }
}

/* SVG's y grows downwards: a falling cost ends lower on the page than it
 * starts, a rising accuracy higher, and higher tick values sit higher. */
static void curves_fall_and_rise_the_right_way_up(void **state)
{
    (void)state;
    made_up_run r;
    make_run(&r, 50);
    learning_curve c = curve_of(&r, 0, NULL);
    char path[128];
    path_in_folder(path, sizeof path, "direction.svg");
    assert_int_equal(write_learning_curve_svg(path, &c), 0);
    char *svg = read_checked_svg(path, NULL);
    double first, last;
    series_ends(svg, "train", &first, &last);   /* the cost panel comes first */
    print_message("train cost: first point y %.1f, last point y %.1f\n", first, last);
    assert_true(last > first + 50.0);            /* 1.12 -> 0.43: down the page */
    const char *accuracy = strstr(svg, "accuracy-panel");
    assert_non_null(accuracy);
    series_ends(accuracy, "train", &first, &last);
    assert_true(last < first - 50.0);            /* 33 % -> 73 %: up the page */
    /* the cost ticks 0.4 .. 1.2 in order, each above the one before */
    const char *tick = strstr(svg, "class=\"tick-y\"");
    double previous_y = 1e9, y, value, previous_value = -1e9;
    for (int i = 0; i < 5 && tick; i++, tick = strstr(tick + 1, "class=\"tick-y\"")) {
        const char *at = strstr(tick, " y=\"");
        assert_non_null(at);
        assert_int_equal(sscanf(at + 4, "%lf", &y), 1);
        assert_int_equal(sscanf(strchr(tick, '>') + 1, "%lf", &value), 1);
        assert_true(value > previous_value && y < previous_y);
        previous_value = value;
        previous_y = y;
    }
    free(svg);
    free_run(&r);
}

static void six_hundred_iterations_get_ticks_every_hundred(void **state)
{
    (void)state;
    made_up_run r;
    make_run(&r, 600);
    learning_curve c = curve_of(&r, 267, NULL);
    c.validation_cost = r.test_cost;   /* all three series */
    c.validation_accuracy = r.test_accuracy;
    char path[128], ticks[512];
    path_in_folder(path, sizeof path, "curve600.svg");
    assert_int_equal(write_learning_curve_svg(path, &c), 0);
    char *svg = read_checked_svg(path, NULL);
    texts_of_class(svg, "accuracy-panel", "tick-x", ticks, sizeof ticks);
    assert_string_equal(ticks, "0,100,200,300,400,500,600");
    assert_contains(svg, ">validation</text>");
    assert_int_equal(occurrences(svg, "<path class=\"series "), 6);
    assert_int_equal(occurrences(svg, ">kept: iteration 267</text>"), 2);
    free(svg);
    free_run(&r);
}

static void one_iteration_is_drawn_as_dots_on_a_whole_iteration_axis(void **state)
{
    (void)state;
    made_up_run r;
    make_run(&r, 1);
    learning_curve c = curve_of(&r, 1, NULL);
    char path[128], ticks[512];
    path_in_folder(path, sizeof path, "one.svg");
    assert_int_equal(write_learning_curve_svg(path, &c), 0);
    char *svg = read_checked_svg(path, NULL);
    texts_of_class(svg, "accuracy-panel", "tick-x", ticks, sizeof ticks);
    assert_string_equal(ticks, "0,1,2");
    /* four series of one point: four dots (r 2.5), and four kept markers */
    assert_int_equal(occurrences(svg, "r=\"2.5\""), 4);
    assert_int_equal(occurrences(svg, "r=\"4\""), 4);
    free(svg);
    free_run(&r);
}

static void constant_series_get_a_range_around_their_value(void **state)
{
    (void)state;
    double iteration[5] = { 1, 2, 3, 4, 5 }, cost[5] = { 0.7, 0.7, 0.7, 0.7, 0.7 }, accuracy[5] = { 1, 1, 1, 1, 1 };
    learning_curve c = { 0 };
    c.n = 5;
    c.iteration = iteration;
    c.train_cost = cost;
    c.train_accuracy = accuracy;
    char path[128], ticks[512];
    path_in_folder(path, sizeof path, "constant.svg");
    assert_int_equal(write_learning_curve_svg(path, &c), 0);
    char *svg = read_checked_svg(path, NULL);
    /* 0.7 +- 10 %: 0.63..0.77, step 0.05 */
    texts_of_class(svg, "cost-panel", "tick-y", ticks, sizeof ticks);
    assert_string_equal(ticks, "0.60,0.65,0.70,0.75,0.80");
    /* 100 % +- 10, kept within 0..100 */
    texts_of_class(svg, "accuracy-panel", "tick-y", ticks, sizeof ticks);
    assert_string_equal(ticks, "90,95,100");
    assert_true(strstr(svg, "kept:") == NULL);   /* kept_iteration 0: no marker */
    free(svg);
}

static void nan_values_are_skipped_and_break_the_line(void **state)
{
    (void)state;
    enum { N = 40 };
    double iteration[N], cost[N], accuracy[N], nothing[N];
    for (size_t i = 0; i < N; i++) {
        iteration[i] = (double)(i + 1);
        cost[i] = i % 10 == 5 ? NAN : 1.0 + 0.01 * (double)i;
        accuracy[i] = i == 0 ? INFINITY : 0.5;
        nothing[i] = NAN;
    }
    learning_curve c = { 0 };
    c.n = N;
    c.iteration = iteration;
    c.train_cost = cost;
    c.train_accuracy = accuracy;
    c.test_cost = nothing;
    c.kept_iteration = 6;   /* a NaN there: the line, no circle on it */
    char path[128], ticks[512];
    path_in_folder(path, sizeof path, "nan.svg");
    assert_int_equal(write_learning_curve_svg(path, &c), 0);
    char *svg = read_checked_svg(path, NULL);
    /* 1.00..1.39 without the NaN: step 0.1 */
    texts_of_class(svg, "cost-panel", "tick-y", ticks, sizeof ticks);
    assert_string_equal(ticks, "1.0,1.1,1.2,1.3,1.4");
    const char *line = strstr(svg, "<path class=\"series train\"");
    assert_non_null(line);
    const char *d = strstr(line, " d=\""), *end = strchr(d + 4, '"');
    size_t moves = 0;
    for (const char *p = d + 4; p < end; p++)
        moves += *p == 'M';
    /* NaN at i = 5, 15, 25, 35: runs 0-4, 6-14, 16-24, 26-34, 36-39 */
    assert_int_equal(moves, 5);
    free(svg);
}

static void hundred_thousand_iterations_stay_under_a_megabyte(void **state)
{
    (void)state;
    made_up_run r;
    make_run(&r, 100000);
    /* noise, so no column is a single point */
    for (size_t i = 0; i < r.n; i++) {
        r.train_cost[i] += 0.01 * sin(0.7 * (double)i);
        r.test_accuracy[i] += 0.02 * cos(1.3 * (double)i);
        if (i % 2)
            r.test_cost[i] = NAN;   /* every other one missing: gaps too narrow to see */
    }
    learning_curve c = curve_of(&r, 61234, NULL);
    c.validation_cost = r.test_cost;
    c.validation_accuracy = r.train_accuracy;
    char path[128];
    path_in_folder(path, sizeof path, "huge.svg");
    assert_int_equal(write_learning_curve_svg(path, &c), 0);
    size_t size = 0;
    char *svg = read_checked_svg(path, &size);
    print_message("10^5 iterations, 6 series: %zu bytes\n", size);
    assert_true(size < 1000000);
    assert_true(size > 20000);   /* but drawn: about 4 points per column */
    assert_int_equal(occurrences(svg, ">kept: iteration 61234</text>"), 2);
    free(svg);
    free_run(&r);
}

static void no_iterations_draw_empty_axes(void **state)
{
    (void)state;
    learning_curve c = { 0 };
    double none[1] = { 0 };
    c.iteration = none;
    c.train_cost = none;
    c.train_accuracy = none;
    c.kept_iteration = 3;
    char path[128];
    path_in_folder(path, sizeof path, "empty.svg");
    assert_int_equal(write_learning_curve_svg(path, &c), 0);
    char *svg = read_checked_svg(path, NULL);
    assert_int_equal(occurrences(svg, ">no data</text>"), 2);
    free(svg);
}

/* ------------------------------------------------------ confusion matrix */

static void confusion_matrix_shows_counts_row_percentages_and_names(void **state)
{
    (void)state;
    static const size_t counts[9] = { 180, 30, 15, 25, 170, 30, 20, 40, 165 };
    static const char *const names[3] = { "E", "S", "I" };
    char path[128], texts[512];
    path_in_folder(path, sizeof path, "confusion.svg");
    assert_int_equal(write_confusion_svg(path, counts, 3, names, "test set"), 0);
    char *svg = read_checked_svg(path, NULL);
    assert_contains(svg, ">true class</text>");
    assert_contains(svg, ">predicted class</text>");
    assert_contains(svg, ">test set</text>");
    texts_of_class(svg, NULL, "count", texts, sizeof texts);
    assert_string_equal(texts, "180,30,15,25,170,30,20,40,165");
    texts_of_class(svg, NULL, "share", texts, sizeof texts);
    assert_string_equal(texts, "80.0%,13.3%,6.7%,11.1%,75.6%,13.3%,8.9%,17.8%,73.3%");
    texts_of_class(svg, NULL, "tick-bar", texts, sizeof texts);
    assert_string_equal(texts, "0,20,40,60,80,100");
    /* each name twice: rows and columns */
    assert_int_equal(occurrences(svg, ">E</text>"), 2);
    assert_int_equal(occurrences(svg, ">S</text>"), 2);
    assert_int_equal(occurrences(svg, ">I</text>"), 2);
    free(svg);
}

static void confusion_matrix_escapes_names_and_numbers_missing_ones(void **state)
{
    (void)state;
    static const size_t counts[16] = { 5, 1, 0, 0, 2, 7, 0, 0, 0, 0, 0, 0, 1, 0, 0, 3 };
    static const char *const names[4] = { "E", "<b&>", "bad \xff byte", NULL };
    char path[128], texts[512];
    path_in_folder(path, sizeof path, "escaped.svg");
    assert_int_equal(write_confusion_svg(path, counts, 4, names, "'a' & <b>"), 0);
    char *svg = read_checked_svg(path, NULL);
    assert_true(strstr(svg, "<b&>") == NULL);
    assert_int_equal(occurrences(svg, ">&lt;b&amp;&gt;</text>"), 2);
    assert_int_equal(occurrences(svg, ">bad &#xFFFD; byte</text>"), 2);
    assert_int_equal(occurrences(svg, ">3</text>"), 3);   /* the unnamed class, twice, and a count */
    assert_contains(svg, ">&#39;a&#39; &amp; &lt;b&gt;</text>");
    /* a class without samples: counts, no percentages */
    texts_of_class(svg, NULL, "share", texts, sizeof texts);
    assert_string_equal(texts, "83.3%,16.7%,0.0%,0.0%,22.2%,77.8%,0.0%,0.0%,25.0%,0.0%,0.0%,75.0%");
    free(svg);

    /* no names at all: 0..k-1 */
    path_in_folder(path, sizeof path, "unnamed.svg");
    assert_int_equal(write_confusion_svg(path, counts, 4, NULL, NULL), 0);
    svg = read_checked_svg(path, NULL);
    assert_int_equal(occurrences(svg, ">0</text>") >= 2, 1);
    assert_int_equal(occurrences(svg, ">2</text>") >= 3, 1);
    free(svg);
    assert_int_equal(write_confusion_svg(path, counts, 0, NULL, NULL), -1);
    assert_int_equal(errno, EINVAL);
}

/* --------------------------------------------------------- the files */

static void missing_folder_fails_and_leaves_no_temporary(void **state)
{
    (void)state;
    made_up_run r;
    make_run(&r, 10);
    learning_curve c = curve_of(&r, 0, NULL);
    char path[128];
    path_in_folder(path, sizeof path, "missing/curve.svg");
    errno = 0;
    assert_int_equal(write_learning_curve_svg(path, &c), -1);
    assert_int_equal(errno, ENOENT);
    static const size_t counts[4] = { 1, 2, 3, 4 };
    errno = 0;
    assert_int_equal(write_confusion_svg(path, counts, 2, NULL, NULL), -1);
    assert_int_equal(errno, ENOENT);

    /* a folder where the file should go: the rename fails, the temporary goes */
    path_in_folder(path, sizeof path, "in-the-way");
    assert_int_equal(mkdir(path, 0755), 0);
    errno = 0;
    assert_int_equal(write_learning_curve_svg(path, &c), -1);
    assert_int_equal(errno, EISDIR);
    static const char *const only_it[] = { "in-the-way", NULL };
    assert_int_equal(count_other_entries(only_it), 0);
    free_run(&r);
}

static void failed_write_keeps_the_old_file_and_leaves_no_temporary(void **state)
{
    (void)state;
    made_up_run r;
    make_run(&r, 100000);
    learning_curve c = curve_of(&r, 0, NULL);
    char path[128];
    path_in_folder(path, sizeof path, "curve.svg");
    write_text(path, "old\n");
    /* files may grow to 8 KiB: the figure's writes fail (EFBIG) */
    struct rlimit old_limit, small = { 8192, 8192 };
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
    small.rlim_max = old_limit.rlim_max;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    errno = 0;
    int rc = write_learning_curve_svg(path, &c);
    int saved = errno;
    setrlimit(RLIMIT_FSIZE, &old_limit);
    signal(SIGXFSZ, old_handler);
    assert_int_equal(rc, -1);
    assert_int_equal(saved, EFBIG);
    char *text = read_text(path, NULL);
    assert_string_equal(text, "old\n");
    free(text);
    static const char *const only_it[] = { "curve.svg", NULL };
    assert_int_equal(count_other_entries(only_it), 0);
    free_run(&r);
}

static void existing_file_is_replaced_by_a_rename(void **state)
{
    (void)state;
    char path[128], other[128];
    path_in_folder(path, sizeof path, "confusion.svg");
    path_in_folder(other, sizeof other, "old-link");
    write_text(path, "old\n");
    /* a second name for the old file: rewriting in place would change it too */
    assert_int_equal(link(path, other), 0);
    static const size_t counts[4] = { 3, 1, 0, 4 };
    assert_int_equal(write_confusion_svg(path, counts, 2, NULL, NULL), 0);
    char *text = read_text(other, NULL);
    assert_string_equal(text, "old\n");
    free(text);
    text = read_checked_svg(path, NULL);
    free(text);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    mode_t mask = umask(022);
    umask(mask);
    assert_int_equal(st.st_mode & 0777, 0666 & ~mask);   /* as a new file, not mkstemp's 0600 */
    static const char *const both[] = { "confusion.svg", "old-link", NULL };
    assert_int_equal(count_other_entries(both), 0);
}

static void name_of_name_max_characters_is_written(void **state)
{
    (void)state;
    long name_max = pathconf(folder, _PC_NAME_MAX);
    if (name_max <= 0 || name_max > 1000)
        name_max = 255;
    char name[1024], path[1200];
    memset(name, 'a', (size_t)name_max - 4);
    memcpy(name + name_max - 4, ".svg", 5);
    snprintf(path, sizeof path, "%s/%s", folder, name);
    static const size_t counts[1] = { 7 };
    assert_int_equal(write_confusion_svg(path, counts, 1, NULL, NULL), 0);
    const char *only_it[] = { name, NULL };
    assert_int_equal(count_other_entries(only_it), 0);
}

static void output_file_abandon_removes_the_temporary(void **state)
{
    (void)state;
    char path[128];
    path_in_folder(path, sizeof path, "trace.csv");
    output_file o;
    FILE *f = output_file_open(path, &o);
    assert_non_null(f);
    assert_true(fprintf(f, "iter\n") > 0);
    errno = EDOM;
    output_file_abandon(&o);
    assert_int_equal(errno, EDOM);   /* kept, for the caller's message */
    static const char *const none[] = { NULL };
    assert_int_equal(count_other_entries(none), 0);

    f = output_file_open(path, &o);
    assert_non_null(f);
    assert_true(fprintf(f, "iter\n1\n") > 0);
    assert_int_equal(output_file_commit(&o), 0);
    char *text = read_text(path, NULL);
    assert_string_equal(text, "iter\n1\n");
    free(text);
}

/* ------------------------------------------------------------ rendered */

/* Width and height from a PNG's IHDR chunk; 0 when it is not a PNG. */
static int png_size(const char *path, uint32_t *width, uint32_t *height)
{
    unsigned char h[24];
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t got = fread(h, 1, sizeof h, f);
    fclose(f);
    static const unsigned char signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    if (got != sizeof h || memcmp(h, signature, 8) != 0 || memcmp(h + 12, "IHDR", 4) != 0)
        return 0;
    *width = (uint32_t)h[16] << 24 | (uint32_t)h[17] << 16 | (uint32_t)h[18] << 8 | h[19];
    *height = (uint32_t)h[20] << 24 | (uint32_t)h[21] << 16 | (uint32_t)h[22] << 8 | h[23];
    return 1;
}

/* The width="..." of the root element. */
static unsigned svg_width(const char *path)
{
    char *svg = read_text(path, NULL);
    const char *w = strstr(svg, "<svg ");
    assert_non_null(w);
    w = strstr(w, " width=\"");
    assert_non_null(w);
    unsigned width = (unsigned)strtoul(w + 8, NULL, 10);
    free(svg);
    return width;
}

static void render(const char *svg, const char *png)
{
    char command[2600];
    snprintf(command, sizeof command, "rsvg-convert -o '%s' '%s'", png, svg);
    if (system(command) != 0)
        fail_msg("rsvg-convert cannot render %s", svg);
    struct stat st;
    uint32_t width = 0, height = 0;
    assert_int_equal(stat(png, &st), 0);
    assert_true(st.st_size > 1000);
    if (!png_size(png, &width, &height))
        fail_msg("%s is not a PNG", png);
    print_message("%s: %u x %u, %lld bytes\n", strrchr(png, '/') + 1, width, height, (long long)st.st_size);
    assert_int_equal(width, svg_width(svg));
    assert_true(height > 100);
}

static void every_figure_renders_to_a_png_of_its_width(void **state)
{
    (void)state;
    if (!tool_installed("rsvg-convert")) {
        skip_test("rsvg-convert is not installed (Debian: librsvg2-bin)");
        return;
    }
    const char *keep = getenv("GALANN_PLOT_PNG_DIR");
    made_up_run r, one, huge;
    make_run(&r, 600);
    make_run(&one, 1);
    make_run(&huge, 100000);
    for (size_t i = 0; i < r.n; i++) {
        if (i % 50 == 7)
            r.test_cost[i] = NAN;
        r.test_cost[i] += 0.0004 * (double)i * (double)i / 600.0;
    }
    learning_curve curves[3] = { curve_of(&r, 267, "galaxy morphology, 1024-8-3, \xce\xbb = 1"),
                                 curve_of(&one, 1, "one iteration"), curve_of(&huge, 61234, NULL) };
    static const char *const curve_names[3] = { "curve", "one", "huge" };
    static const size_t counts[9] = { 180, 30, 15, 25, 170, 30, 20, 40, 165 };
    static const char *const names[3] = { "Elliptical", "Spiral", "Irregular" };
    char svg[1200], png[1200];
    for (size_t i = 0; i < 4; i++) {
        const char *name = i < 3 ? curve_names[i] : "confusion";
        snprintf(svg, sizeof svg, "%s/%s.svg", folder, name);
        snprintf(png, sizeof png, "%s/%s.png", keep ? keep : folder, name);
        if (i < 3)
            assert_int_equal(write_learning_curve_svg(svg, &curves[i]), 0);
        else
            assert_int_equal(write_confusion_svg(svg, counts, 3, names, "test set (675 images)"), 0);
        render(svg, png);
    }
    free_run(&r);
    free_run(&one);
    free_run(&huge);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(learning_curve_has_labels_round_ticks_legend_and_kept_marker, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(curves_fall_and_rise_the_right_way_up, setup, teardown),
        cmocka_unit_test_setup_teardown(six_hundred_iterations_get_ticks_every_hundred, setup, teardown),
        cmocka_unit_test_setup_teardown(one_iteration_is_drawn_as_dots_on_a_whole_iteration_axis, setup, teardown),
        cmocka_unit_test_setup_teardown(constant_series_get_a_range_around_their_value, setup, teardown),
        cmocka_unit_test_setup_teardown(nan_values_are_skipped_and_break_the_line, setup, teardown),
        cmocka_unit_test_setup_teardown(hundred_thousand_iterations_stay_under_a_megabyte, setup, teardown),
        cmocka_unit_test_setup_teardown(no_iterations_draw_empty_axes, setup, teardown),
        cmocka_unit_test_setup_teardown(confusion_matrix_shows_counts_row_percentages_and_names, setup, teardown),
        cmocka_unit_test_setup_teardown(confusion_matrix_escapes_names_and_numbers_missing_ones, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_folder_fails_and_leaves_no_temporary, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_write_keeps_the_old_file_and_leaves_no_temporary, setup, teardown),
        cmocka_unit_test_setup_teardown(existing_file_is_replaced_by_a_rename, setup, teardown),
        cmocka_unit_test_setup_teardown(name_of_name_max_characters_is_written, setup, teardown),
        cmocka_unit_test_setup_teardown(output_file_abandon_removes_the_temporary, setup, teardown),
        cmocka_unit_test_setup_teardown(every_figure_renders_to_a_png_of_its_width, setup, teardown),
    };
    return tests_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
