/*
 * consumer.c -- the smallest program a CMake project builds against an
 * installed libgalann: it prints the library's version and the cost of a
 * new galaxy network on a few synthetic images, and fails on any error.
 */
#include <stdio.h>

#include <galann.h>

int main(void)
{
    galann_context *ctx = NULL;
    galann_dataset *data = NULL;
    galann_model *model = NULL;
    const size_t layers[] = { 1024, 8, 3 };
    double cost = 0.0;
    int status = galann_context_new("reference", &ctx);
    if (status == GALANN_OK)
        status = galann_dataset_synthesize(30, 1, &data);
    if (status == GALANN_OK)
        status = galann_model_new(layers, 3, &model);
    if (status == GALANN_OK)
        status = galann_model_init_random(model, 917);
    if (status == GALANN_OK)
        status = galann_cost(ctx, model, data, 1.0, &cost);
    if (status == GALANN_OK)
        printf("libgalann %s: cost %.6f on 30 synthetic images\n", galann_version(), cost);
    else
        fprintf(stderr, "consumer: %s: %s\n", galann_strerror(status), galann_last_error());
    galann_model_free(model);
    galann_dataset_free(data);
    galann_context_free(ctx);
    return status == GALANN_OK ? 0 : 1;
}
