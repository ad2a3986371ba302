/*
 * attachment.c -- the per-(dataset, context) cache of backend data.
 *
 * Lock order: a dataset's lock before a context's. Releasing a context
 * first takes its whole list under its own lock, then visits each dataset
 * without holding it, so no path nests the two locks the other way round.
 */
#include <stdlib.h>

#include "attachment.h"
#include "context.h"
#include "dataset.h"
#include "error.h"

typedef struct galann_attachment {
    galann_dataset *dataset;
    galann_context *context;
    void *data;
    struct galann_attachment *next_in_dataset;
    struct galann_attachment *next_in_context;
} galann_attachment;

static void unlink_from_dataset(galann_dataset *d, galann_attachment *a)
{
    for (galann_attachment **p = &d->attachments; *p; p = &(*p)->next_in_dataset) {
        if (*p == a) {
            *p = a->next_in_dataset;
            return;
        }
    }
}

static void unlink_from_context(galann_context *c, galann_attachment *a)
{
    for (galann_attachment **p = &c->attachments; *p; p = &(*p)->next_in_context) {
        if (*p == a) {
            *p = a->next_in_context;
            return;
        }
    }
}

static void release(galann_attachment *a)
{
    galann_context *c = a->context;
    if (c->ops->release_dataset)
        c->ops->release_dataset(c->state, a->data);
    free(a);
}

int galann_attachment_for(galann_context *c, const galann_dataset *cd, const galann_data_view *view, void **out)
{
    /* The samples are immutable; only the cache beside them changes. */
    galann_dataset *d = (galann_dataset *)cd;
    *out = NULL;
    if (!c->ops->prepare_dataset)
        return GALANN_OK;

    pthread_mutex_lock(&d->attachments_lock);
    for (galann_attachment *a = d->attachments; a; a = a->next_in_dataset) {
        if (a->context == c) {
            *out = a->data;
            pthread_mutex_unlock(&d->attachments_lock);
            return GALANN_OK;
        }
    }
    galann_attachment *a = calloc(1, sizeof *a);
    if (!a) {
        pthread_mutex_unlock(&d->attachments_lock);
        return galann_error_set(GALANN_ERR_NOMEM, "out of memory for a dataset attachment");
    }
    int status = c->ops->prepare_dataset(c->state, view, &a->data);
    if (status != GALANN_OK) {
        free(a);
        pthread_mutex_unlock(&d->attachments_lock);
        return status;
    }
    a->dataset = d;
    a->context = c;
    a->next_in_dataset = d->attachments;
    d->attachments = a;
    pthread_mutex_lock(&c->attachments_lock);
    a->next_in_context = c->attachments;
    c->attachments = a;
    pthread_mutex_unlock(&c->attachments_lock);
    pthread_mutex_unlock(&d->attachments_lock);
    *out = a->data;
    return GALANN_OK;
}

void galann_attachments_release_dataset(galann_dataset *d)
{
    pthread_mutex_lock(&d->attachments_lock);
    galann_attachment *a = d->attachments;
    d->attachments = NULL;
    while (a) {
        galann_attachment *next = a->next_in_dataset;
        pthread_mutex_lock(&a->context->attachments_lock);
        unlink_from_context(a->context, a);
        pthread_mutex_unlock(&a->context->attachments_lock);
        release(a);
        a = next;
    }
    pthread_mutex_unlock(&d->attachments_lock);
}

void galann_attachments_release_context(galann_context *c)
{
    pthread_mutex_lock(&c->attachments_lock);
    galann_attachment *a = c->attachments;
    c->attachments = NULL;
    pthread_mutex_unlock(&c->attachments_lock);
    while (a) {
        galann_attachment *next = a->next_in_context;
        galann_dataset *d = a->dataset;
        pthread_mutex_lock(&d->attachments_lock);
        unlink_from_dataset(d, a);
        pthread_mutex_unlock(&d->attachments_lock);
        release(a);
        a = next;
    }
}
