/*
 * error.c -- status texts and the per-thread detailed message.
 *
 * The message buffer is thread-local: it is the only state the library
 * keeps outside handles, and no thread can see or change another's.
 */
#include <stdarg.h>
#include <stdio.h>

#include "galann.h"
#include "error.h"

#define MESSAGE_CAPACITY 1024

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

int galann_error_set(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    return status;
}

void galann_error_clear(void)
{
    last_message[0] = '\0';
}
