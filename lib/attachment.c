/*
 * attachment.c -- the per-(dataset, context) cache of backend data
 * (attachment.h).
 *
 * Lock order: a dataset's list before a context's. Releasing a context
 * first takes its whole list under its own lock, then visits each dataset
 * list without holding it, so no path nests the two locks the other way
 * round.
 */
#include <stdlib.h>

#include "attachment.h"
#include "error.h"
#include "registry.h"

typedef struct galann_attachment {
    galann_attachment_list *dataset;
    galann_attachment_list *context;
    const galann_backend_ops *ops;  /* the context's backend, and its state */
    void *state;
    void *data;
    struct galann_attachment *next_in_dataset;
    struct galann_attachment *next_in_context;
} galann_attachment;

int galann_attachment_list_init(galann_attachment_list *list, const char *what)
{
    list->head = NULL;
    if (pthread_mutex_init(&list->lock, NULL) != 0)
        return galann_error_set(GALANN_ERR_NOMEM, "cannot create a %s lock", what);
    return GALANN_OK;
}

void galann_attachment_list_destroy(galann_attachment_list *list)
{
    pthread_mutex_destroy(&list->lock);
}

static void unlink_from_dataset(galann_attachment_list *list, galann_attachment *a)
{
    for (galann_attachment **p = &list->head; *p; p = &(*p)->next_in_dataset) {
        if (*p == a) {
            *p = a->next_in_dataset;
            return;
        }
    }
}

static void unlink_from_context(galann_attachment_list *list, galann_attachment *a)
{
    for (galann_attachment **p = &list->head; *p; p = &(*p)->next_in_context) {
        if (*p == a) {
            *p = a->next_in_context;
            return;
        }
    }
}

static void release(galann_attachment *a)
{
    galann_ops_release_dataset(a->ops, a->state, a->data);
    free(a);
}

int galann_attachment_for(galann_attachment_list *dataset, galann_attachment_list *context,
                          const galann_backend_ops *ops, void *state, const galann_data_view *view, void **out)
{
    *out = NULL;
    if (!galann_ops_keeps_datasets(ops))
        return GALANN_OK;

    pthread_mutex_lock(&dataset->lock);
    for (galann_attachment *a = dataset->head; a; a = a->next_in_dataset) {
        if (a->context == context) {
            *out = a->data;
            pthread_mutex_unlock(&dataset->lock);
            return GALANN_OK;
        }
    }
    galann_attachment *a = calloc(1, sizeof *a);
    if (!a) {
        pthread_mutex_unlock(&dataset->lock);
        return galann_error_set(GALANN_ERR_NOMEM, "out of memory for a dataset attachment");
    }
    int status = galann_ops_prepare_dataset(ops, state, view, &a->data);
    if (status != GALANN_OK) {
        free(a);
        pthread_mutex_unlock(&dataset->lock);
        return status;
    }
    a->dataset = dataset;
    a->context = context;
    a->ops = ops;
    a->state = state;
    a->next_in_dataset = dataset->head;
    dataset->head = a;
    pthread_mutex_lock(&context->lock);
    a->next_in_context = context->head;
    context->head = a;
    pthread_mutex_unlock(&context->lock);
    pthread_mutex_unlock(&dataset->lock);
    *out = a->data;
    return GALANN_OK;
}

void galann_attachments_release_dataset(galann_attachment_list *dataset)
{
    pthread_mutex_lock(&dataset->lock);
    galann_attachment *a = dataset->head;
    dataset->head = NULL;
    while (a) {
        galann_attachment *next = a->next_in_dataset;
        pthread_mutex_lock(&a->context->lock);
        unlink_from_context(a->context, a);
        pthread_mutex_unlock(&a->context->lock);
        release(a);
        a = next;
    }
    pthread_mutex_unlock(&dataset->lock);
}

void galann_attachments_release_context(galann_attachment_list *context)
{
    pthread_mutex_lock(&context->lock);
    galann_attachment *a = context->head;
    context->head = NULL;
    pthread_mutex_unlock(&context->lock);
    while (a) {
        galann_attachment *next = a->next_in_context;
        galann_attachment_list *dataset = a->dataset;
        pthread_mutex_lock(&dataset->lock);
        unlink_from_dataset(dataset, a);
        pthread_mutex_unlock(&dataset->lock);
        release(a);
        a = next;
    }
}
