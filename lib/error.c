/*
 * error.c -- status texts and the per-thread detailed message.
 *
 * The message buffer is thread-local: it is the only state the library
 * keeps outside handles, and no thread can see or change another's.
 *
 * Messages are formatted here rather than by vsnprintf, for two things a
 * reader needs: "%.*s", the form every message uses to quote bytes of
 * input (a CSV field), prints exactly that many bytes with control bytes
 * escaped ("\x00", "\x1b"), where printf would stop at a NUL; and a
 * message longer than the buffer loses its middle, not its end, so a long
 * path keeps the reason that follows it.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "galann.h"
#include "error.h"

#define MESSAGE_CAPACITY 1024

/* A message longer than the buffer keeps its first HEAD_BYTES, then
 * ELISION, then its end. */
#define HEAD_BYTES 600
#define ELISION "..."

/* Formatted on the stack first; longer messages are formatted again in
 * the heap (when that fails, their first FIRST_PASS - 1 bytes are used). */
#define FIRST_PASS 4096

static _Thread_local char last_message[MESSAGE_CAPACITY];

GALANN_API const char *galann_strerror(int status)
{
    switch (status) {
    case GALANN_OK: return "success";
    case GALANN_ERR_INVALID: return "invalid argument";
    case GALANN_ERR_NOMEM: return "out of memory";
    case GALANN_ERR_IO: return "input/output error";
    case GALANN_ERR_PARSE: return "parse error";
    case GALANN_ERR_DIMENSION: return "dimension mismatch";
    case GALANN_ERR_UNAVAILABLE: return "backend unavailable";
    case GALANN_ERR_NONFINITE: return "non-finite number";
    case GALANN_ERR_FORMAT: return "invalid model format";
    case GALANN_ERR_BACKEND: return "backend failure";
    case GALANN_ERR_CANCELLED: return "cancelled";
    case GALANN_ERR_BUSY: return "context busy";
    default: return "unknown status";
    }
}

GALANN_API const char *galann_last_error(void)
{
    return last_message;
}

/* ------------------------------------------------------ the formatter */

/* Text being built: at most cap - 1 bytes are stored, all are counted. */
typedef struct text {
    char *buf;
    size_t cap;
    size_t len;
} text;

static void put(text *t, const char *s, size_t n)
{
    if (t->len < t->cap) {
        size_t room = t->cap - 1 - t->len;
        memcpy(t->buf + t->len, s, n < room ? n : room);
    }
    t->len += n;
}

/* Input bytes, as "%.*s" quotes them: control bytes as \xNN. */
static void put_escaped(text *t, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != 0x7f) {
            put(t, (const char *)&c, 1);
        } else {
            char e[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
            put(t, e, sizeof e);
        }
    }
}

enum length { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_J, LEN_T, LEN_BIG_L };

/* One conversion specification, parsed. */
typedef struct spec {
    char text[32];       /* "%-08.3lld", for snprintf */
    int star_width, star_precision;
    enum length length;
    char conversion;
} spec;

/* Parse the specification at *p (just after '%'); 0 when it is not one
 * this formatter knows (then it is printed as it stands). */
static int parse_spec(const char **p, const char *percent, spec *s)
{
    const char *q = *p;
    memset(s, 0, sizeof *s);
    q += strspn(q, "-+ #0");
    if (*q == '*') {
        s->star_width = 1;
        q++;
    } else {
        while (isdigit((unsigned char)*q))
            q++;
    }
    if (*q == '.') {
        q++;
        if (*q == '*') {
            s->star_precision = 1;
            q++;
        } else {
            while (isdigit((unsigned char)*q))
                q++;
        }
    }
    if (q[0] == 'h' && q[1] == 'h')
        s->length = LEN_HH, q += 2;
    else if (q[0] == 'l' && q[1] == 'l')
        s->length = LEN_LL, q += 2;
    else if (*q && strchr("hlzjtL", *q))
        s->length = *q == 'h' ? LEN_H : *q == 'l' ? LEN_L : *q == 'z' ? LEN_Z : *q == 'j' ? LEN_J
                  : *q == 't' ? LEN_T : LEN_BIG_L, q++;
    if (!*q || !strchr("diouxXeEfFgGaAcsp", *q))
        return 0;
    s->conversion = *q++;
    size_t n = (size_t)(q - percent);
    if (n >= sizeof s->text)
        return 0;
    memcpy(s->text, percent, n);
    s->text[n] = '\0';
    *p = q;
    return 1;
}

/* snprintf one conversion with its value and the '*' arguments. */
#define EMIT(value)                                                                       \
    do {                                                                                  \
        if (s->star_width && s->star_precision)                                           \
            n = snprintf(piece, sizeof piece, s->text, width, precision, value);          \
        else if (s->star_width)                                                           \
            n = snprintf(piece, sizeof piece, s->text, width, value);                     \
        else if (s->star_precision)                                                       \
            n = snprintf(piece, sizeof piece, s->text, precision, value);                 \
        else                                                                              \
            n = snprintf(piece, sizeof piece, s->text, value);                            \
    } while (0)

static void put_signed(text *t, const spec *s, int width, int precision, va_list *ap)
{
    char piece[128];
    int n = 0;
    switch (s->length) {
    case LEN_L: EMIT(va_arg(*ap, long)); break;
    case LEN_LL: EMIT(va_arg(*ap, long long)); break;
    case LEN_Z: EMIT(va_arg(*ap, ptrdiff_t)); break;  /* %zd: the signed size type */
    case LEN_J: EMIT(va_arg(*ap, intmax_t)); break;
    case LEN_T: EMIT(va_arg(*ap, ptrdiff_t)); break;
    default: EMIT(va_arg(*ap, int)); break;           /* hh and h are promoted to int */
    }
    if (n > 0)
        put(t, piece, (size_t)n < sizeof piece ? (size_t)n : sizeof piece - 1);
}

static void put_unsigned(text *t, const spec *s, int width, int precision, va_list *ap)
{
    char piece[128];
    int n = 0;
    switch (s->length) {
    case LEN_L: EMIT(va_arg(*ap, unsigned long)); break;
    case LEN_LL: EMIT(va_arg(*ap, unsigned long long)); break;
    case LEN_Z: EMIT(va_arg(*ap, size_t)); break;
    case LEN_J: EMIT(va_arg(*ap, uintmax_t)); break;
    case LEN_T: EMIT(va_arg(*ap, size_t)); break;
    default: EMIT(va_arg(*ap, unsigned)); break;
    }
    if (n > 0)
        put(t, piece, (size_t)n < sizeof piece ? (size_t)n : sizeof piece - 1);
}

static void put_other(text *t, const spec *s, int width, int precision, va_list *ap)
{
    char piece[512];
    int n = 0;
    switch (s->conversion) {
    case 'c': EMIT(va_arg(*ap, int)); break;
    case 'p': EMIT(va_arg(*ap, void *)); break;
    case 's': EMIT(va_arg(*ap, const char *)); break;
    default:
        if (s->length == LEN_BIG_L)
            EMIT(va_arg(*ap, long double));
        else
            EMIT(va_arg(*ap, double));
        break;
    }
    if (n > 0)
        put(t, piece, (size_t)n < sizeof piece ? (size_t)n : sizeof piece - 1);
}

static void format(text *t, const char *fmt, va_list *ap)
{
    for (const char *p = fmt; *p;) {
        if (*p != '%') {
            size_t n = strcspn(p, "%");
            put(t, p, n);
            p += n;
            continue;
        }
        const char *percent = p++;
        if (*p == '%') {
            put(t, "%", 1);
            p++;
            continue;
        }
        spec s;
        if (!parse_spec(&p, percent, &s)) {
            put(t, "%", 1);
            continue;
        }
        int width = s.star_width ? va_arg(*ap, int) : 0;
        int precision = s.star_precision ? va_arg(*ap, int) : 0;
        if (s.conversion == 's' && strcmp(s.text, "%.*s") == 0) {
            /* quoted input: exactly that many bytes, NULs included */
            const char *bytes = va_arg(*ap, const char *);
            put_escaped(t, bytes, precision > 0 ? (size_t)precision : 0);
        } else if (s.conversion == 's' && strcmp(s.text, "%s") == 0) {
            const char *str = va_arg(*ap, const char *);
            put(t, str ? str : "(null)", strlen(str ? str : "(null)"));
        } else if (strchr("di", s.conversion)) {
            put_signed(t, &s, width, precision, ap);
        } else if (strchr("ouxX", s.conversion)) {
            put_unsigned(t, &s, width, precision, ap);
        } else {
            put_other(t, &s, width, precision, ap);
        }
    }
}

/* Back over UTF-8 continuation bytes: where a character starts. */
static size_t character_start(const char *s, size_t i)
{
    while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
        i--;
    return i;
}

/* The message into the thread's buffer; without its middle when it is too
 * long, cut at character boundaries. */
static void keep(const char *message, size_t len)
{
    if (len < MESSAGE_CAPACITY) {
        memcpy(last_message, message, len + 1);
        return;
    }
    size_t head = character_start(message, HEAD_BYTES);
    /* the end starts where it fits, forward to a character's start */
    size_t tail = len - (MESSAGE_CAPACITY - 1 - HEAD_BYTES - (sizeof ELISION - 1));
    while (tail < len && ((unsigned char)message[tail] & 0xc0) == 0x80)
        tail++;
    size_t at = 0;
    memcpy(last_message, message, head);
    at += head;
    memcpy(last_message + at, ELISION, sizeof ELISION - 1);
    at += sizeof ELISION - 1;
    memcpy(last_message + at, message + tail, len - tail);
    at += len - tail;
    last_message[at] = '\0';
}

int galann_error_set(int status, const char *fmt, ...)
{
    char first[FIRST_PASS];
    text t = { first, sizeof first, 0 };
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    format(&t, fmt, &ap);
    va_end(ap);
    char *whole = NULL;
    if (t.len >= sizeof first && (whole = malloc(t.len + 1)) != NULL) {
        text w = { whole, t.len + 1, 0 };
        format(&w, fmt, &again);
        w.buf[w.len < w.cap ? w.len : w.cap - 1] = '\0';
        t = w;
    }
    va_end(again);
    size_t len = t.len < t.cap ? t.len : t.cap - 1;
    t.buf[len] = '\0';
    keep(t.buf, len);
    free(whole);
    return status;
}

void galann_error_clear(void)
{
    last_message[0] = '\0';
}
