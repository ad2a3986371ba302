/*
 * thread_pool.c -- a fixed team of workers that wake for each task.
 *
 * A task is announced by bumping a generation counter under the lock; each
 * worker runs it once and the last one to finish wakes the caller. The
 * workers sleep on a condition variable between tasks, so an idle context
 * costs no CPU.
 */
#include <pthread.h>
#include <stdlib.h>

#include "backend.h"
#include "thread_pool.h"

struct thread_pool;

typedef struct worker_slot {
    struct thread_pool *pool;
    int index;
    pthread_t thread;
} worker_slot;

struct thread_pool {
    int n_workers;
    int n_started;           /* helper threads actually running */
    pthread_mutex_t lock;
    pthread_cond_t work_ready;
    pthread_cond_t work_done;
    unsigned long generation;
    int pending;             /* helpers still running the current task */
    int stopping;
    thread_pool_task task;
    void *arg;
    worker_slot *slots;      /* slots[1..n_workers-1] */
};

static void *worker_main(void *p)
{
    worker_slot *slot = p;
    thread_pool *pool = slot->pool;
    unsigned long seen = 0;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->stopping && pool->generation == seen)
            pthread_cond_wait(&pool->work_ready, &pool->lock);
        if (pool->stopping)
            break;
        seen = pool->generation;
        thread_pool_task task = pool->task;
        void *arg = pool->arg;
        pthread_mutex_unlock(&pool->lock);
        task(arg, slot->index, pool->n_workers);
        pthread_mutex_lock(&pool->lock);
        if (--pool->pending == 0)
            pthread_cond_signal(&pool->work_done);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

int thread_pool_new(int n_workers, thread_pool **out)
{
    *out = NULL;
    thread_pool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return galann_error_set(GALANN_ERR_NOMEM, "blas backend: out of memory for a thread pool");
    pool->n_workers = n_workers;
    pool->slots = calloc((size_t)n_workers, sizeof *pool->slots);
    if (!pool->slots) {
        free(pool);
        return galann_error_set(GALANN_ERR_NOMEM, "blas backend: out of memory for a thread pool");
    }
    if (pthread_mutex_init(&pool->lock, NULL) != 0) {
        free(pool->slots);
        free(pool);
        return galann_error_set(GALANN_ERR_NOMEM, "blas backend: cannot create a thread pool lock");
    }
    int ready_made = pthread_cond_init(&pool->work_ready, NULL) == 0;
    int done_made = ready_made && pthread_cond_init(&pool->work_done, NULL) == 0;
    if (!done_made) {
        if (ready_made)
            pthread_cond_destroy(&pool->work_ready);
        pthread_mutex_destroy(&pool->lock);
        free(pool->slots);
        free(pool);
        return galann_error_set(GALANN_ERR_NOMEM, "blas backend: cannot create thread pool conditions");
    }
    for (int i = 1; i < n_workers; i++) {
        pool->slots[i].pool = pool;
        pool->slots[i].index = i;
        if (pthread_create(&pool->slots[i].thread, NULL, worker_main, &pool->slots[i]) != 0) {
            thread_pool_free(pool);
            return galann_error_set(GALANN_ERR_NOMEM, "blas backend: cannot start worker thread %d of %d", i,
                                    n_workers);
        }
        pool->n_started++;
    }
    *out = pool;
    return GALANN_OK;
}

void thread_pool_free(thread_pool *pool)
{
    if (!pool)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->stopping = 1;
    pthread_cond_broadcast(&pool->work_ready);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 1; i <= pool->n_started; i++)
        pthread_join(pool->slots[i].thread, NULL);
    pthread_cond_destroy(&pool->work_done);
    pthread_cond_destroy(&pool->work_ready);
    pthread_mutex_destroy(&pool->lock);
    free(pool->slots);
    free(pool);
}

int thread_pool_size(const thread_pool *pool)
{
    return pool->n_workers;
}

void thread_pool_run(thread_pool *pool, thread_pool_task task, void *arg)
{
    if (pool->n_workers > 1) {
        pthread_mutex_lock(&pool->lock);
        pool->task = task;
        pool->arg = arg;
        pool->pending = pool->n_workers - 1;
        pool->generation++;
        pthread_cond_broadcast(&pool->work_ready);
        pthread_mutex_unlock(&pool->lock);
    }
    task(arg, 0, pool->n_workers);
    if (pool->n_workers > 1) {
        pthread_mutex_lock(&pool->lock);
        while (pool->pending > 0)
            pthread_cond_wait(&pool->work_done, &pool->lock);
        pthread_mutex_unlock(&pool->lock);
    }
}
