"""The seeded, stratified hold-out that Classifier(validation_fraction=f)
scores every iteration to keep the best iterate.

Only index arithmetic: which samples are held out. Training on the rest
and keeping the best iterate is galann_fit's job.
"""

import math

import numpy as np


def stratified_holdout(y, fraction, seed):
    """(train_indices, validation_indices) of the encoded labels y (ints
    0..k-1): ceil(fraction * n) samples held out, shared among the classes
    in proportion to their sizes (largest remainders first, ties to the
    lower class), each class keeping at least one training sample, chosen
    within each class by numpy.random.RandomState(seed). Both index arrays
    are sorted, so the samples keep their order."""
    y = np.asarray(y)
    n = y.shape[0]
    counts = np.bincount(y)
    wanted = min(int(math.ceil(fraction * n)), n)
    exact = counts * wanted / n
    take = np.floor(exact).astype(np.int64)
    order = sorted(range(counts.size), key=lambda c: (-(exact[c] - take[c]), c))
    for c in order[:wanted - int(take.sum())]:
        take[c] += 1
    take = np.minimum(take, np.maximum(counts - 1, 0))
    if take.sum() == 0:
        raise ValueError(f"validation_fraction={fraction} holds out no sample (n_samples={n}, "
                         f"at most {counts.max()} in a class): every class keeps at least one "
                         "training sample")
    rng = np.random.RandomState(seed)
    held = [rng.permutation(np.flatnonzero(y == c))[:take[c]] for c in range(counts.size)]
    validation = np.sort(np.concatenate(held))
    train = np.setdiff1d(np.arange(n), validation, assume_unique=True)
    return train, validation
