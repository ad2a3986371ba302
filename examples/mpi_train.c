/*
 * mpi_train.c -- data-parallel training from C with libgalann-mpi: every
 * process loads its share of one CSV file, and the fit is the same bits as
 * one process holding the whole file.
 *
 *   mpirun -np 4 ./build/examples/mpi-train train.csv [iterations]
 *
 * Prints (rank 0 only) the final cost and a checksum of the weights: run it
 * with -np 1 and -np 4 and compare.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <galann.h>
#include <galann_mpi.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    galann_mpi *world = NULL;
    galann_context *ctx = NULL;
    galann_dataset *train = NULL;
    galann_model *model = NULL;
    double *theta = NULL;
    int rc = 1;
    if (argc < 2) {
        fprintf(stderr, "usage: mpirun -np N %s train.csv [iterations]\n", argv[0]);
        goto done;
    }
    if (galann_mpi_new(MPI_COMM_WORLD, &world) != GALANN_OK)
        goto done;
    int rank = galann_mpi_rank(world);

    /* collective: each process gets its chunk-aligned share of the rows */
    if (galann_mpi_load_csv(world, argv[1], &train) != GALANN_OK) {
        if (rank == 0)
            fprintf(stderr, "%s\n", galann_mpi_last_error(world));
        goto done;
    }
    size_t layers[] = { galann_dataset_n_features(train), 8, galann_dataset_n_labels(train) };
    /* the same context on every process, attached before its first use */
    int status = galann_context_new("blas", &ctx);
    if (status == GALANN_OK)
        status = galann_mpi_attach(world, ctx);
    if (status == GALANN_OK)
        status = galann_model_new(layers, 3, &model);
    if (status == GALANN_OK)
        status = galann_model_init_random(model, 917);
    galann_fit_options opts;
    galann_fit_options_init(&opts);
    opts.max_iterations = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 50;
    galann_fit_report report;
    memset(&report, 0, sizeof report);
    report.struct_size = sizeof report;
    if (status == GALANN_OK)
        status = galann_fit(ctx, model, train, &opts, &report);
    /* one status on every process, and the first failure's message */
    status = galann_mpi_agree(world, status);
    if (status != GALANN_OK) {
        if (rank == 0)
            fprintf(stderr, "training failed: %s\n", galann_mpi_last_error(world));
        goto done;
    }
    size_t n = galann_model_n_params(model);
    theta = malloc(n * sizeof *theta);
    if (!theta || galann_model_get_params(model, theta, n) != GALANN_OK)
        goto done;
    uint64_t checksum = 1469598103934665603u; /* FNV-1a over the weights' bytes */
    const unsigned char *bytes = (const unsigned char *)theta;
    for (size_t i = 0; i < n * sizeof *theta; i++)
        checksum = (checksum ^ bytes[i]) * 1099511628211u;
    if (rank == 0)
        printf("%d processes: %zu iterations, J_train %.17g, accuracy %.4f, weights %016llx\n",
               galann_mpi_size(world), report.iterations, report.train_cost, report.train_accuracy,
               (unsigned long long)checksum);
    rc = 0;

done:
    free(theta);
    galann_model_free(model);
    galann_context_free(ctx);
    galann_dataset_free(train);
    galann_mpi_free(world);
    MPI_Finalize();
    return rc;
}
