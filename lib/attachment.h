/*
 * attachment.h -- what a backend derived from a dataset on one context.
 *
 * Each attachment is linked into two lists, its dataset's and its
 * context's, so that freeing either one releases it exactly once.
 */
#ifndef GALANN_ATTACHMENT_H
#define GALANN_ATTACHMENT_H

#include "galann.h"
#include "backend.h"

/* The backend data the context's backend keeps for d, preparing it on first
 * use. *out is NULL (and the status OK) when the backend keeps nothing. */
int galann_attachment_for(galann_context *c, const galann_dataset *d, const galann_data_view *view, void **out);

/* Release everything attached to a dataset / by a context. Freeing a
 * dataset and a context that used it must not happen concurrently. */
void galann_attachments_release_dataset(galann_dataset *d);
void galann_attachments_release_context(galann_context *c);

#endif /* GALANN_ATTACHMENT_H */
