/*
 * error.h -- how the core and the backends report failures.
 *
 * Every failing path calls galann_error_set once, at the place that knows
 * what went wrong, and returns the status it returns. The message is kept
 * per thread, so two threads never see each other's errors.
 */
#ifndef GALANN_ERROR_H
#define GALANN_ERROR_H

/* Record a detailed message for this thread and return status, so that
 * "return galann_error_set(GALANN_ERR_INVALID, "...", ...);" reads well. */
int galann_error_set(int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Forget this thread's message; public entry points call it first so that
 * galann_last_error() describes the latest call only. */
void galann_error_clear(void);

#endif /* GALANN_ERROR_H */
