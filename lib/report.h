/*
 * report.h -- the rule for structs the library writes into (reports): the
 * caller sets struct_size (the report's _init macro does), 0 or less than
 * the size word is refused, and the library writes only the bytes both
 * the caller's struct and its own hold, so that a program built against a
 * shorter, older report is never written past its end.
 */
#ifndef GALANN_REPORT_H
#define GALANN_REPORT_H

#include <stddef.h>

/* GALANN_OK, or GALANN_ERR_INVALID with "who: report.struct_size N is not
 * valid (use init)" when given is smaller than a size word. */
int galann_report_size_check(const char *who, const char *init, size_t given);

/* Copy full (library_size bytes, its struct_size word first) into report
 * (whose struct_size has been checked), as far as both reach; the
 * caller's struct_size then holds the bytes written. */
void galann_report_write(void *report, const void *full, size_t library_size);

/* Zero a caller's report of size bytes (as far as the library's reaches)
 * and set its struct_size: the body of every _init_size function. */
void galann_report_init(void *report, size_t size, size_t library_size);

#endif /* GALANN_REPORT_H */
