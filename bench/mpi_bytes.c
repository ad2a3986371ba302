/*
 * mpi_bytes.c -- counts what MPI_Allreduce carries, through MPI's own
 * profiling interface (PMPI): preload it under mpirun and every process
 * prints, at MPI_Finalize, the calls and bytes it contributed.
 *
 *   mpirun -np 2 -x LD_PRELOAD=build/bench/libmpi-bytes.so galann train ...
 *
 * A measuring tool for docs/distributed.md, not part of the library.
 */
#include <stdio.h>

#include <mpi.h>

static unsigned long long calls, bytes;

int MPI_Allreduce(const void *send, void *recv, int count, MPI_Datatype type, MPI_Op op, MPI_Comm comm)
{
    int size = 0;
    PMPI_Type_size(type, &size);
    calls++;
    bytes += (unsigned long long)count * (unsigned long long)size;
    return PMPI_Allreduce(send, recv, count, type, op, comm);
}

int MPI_Finalize(void)
{
    int rank = 0;
    PMPI_Comm_rank(MPI_COMM_WORLD, &rank);
    fprintf(stderr, "mpi-bytes: rank %d: %llu MPI_Allreduce calls, %llu bytes\n", rank, calls, bytes);
    return PMPI_Finalize();
}
