/*
 * thread_pool.h -- a fixed team of worker threads owned by one context.
 *
 * The caller's thread is worker 0, so a pool of one thread starts no
 * threads at all. Nothing is shared between pools.
 */
#ifndef GALANN_THREAD_POOL_H
#define GALANN_THREAD_POOL_H

typedef struct thread_pool thread_pool;

/* Work for one worker: fn(arg, worker, n_workers). */
typedef void (*thread_pool_task)(void *arg, int worker, int n_workers);

/* Start a pool of n_workers (>= 1) including the caller. GALANN_OK or
 * GALANN_ERR_NOMEM (threads that could not start count as out of memory). */
int thread_pool_new(int n_workers, thread_pool **out);
void thread_pool_free(thread_pool *pool);
int thread_pool_size(const thread_pool *pool);

/* Run task on every worker and return when all have finished. */
void thread_pool_run(thread_pool *pool, thread_pool_task task, void *arg);

#endif /* GALANN_THREAD_POOL_H */
