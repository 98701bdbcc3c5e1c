#!/usr/bin/env python3
"""Fashion-MNIST with mlp.MLPClassifier: prints the test accuracy and saves a
PNG of the learning curve.

    python3 examples/python/fashion_mnist.py [curve.png] [--epochs N] [--limit N]
                                             [--data DIR] [--model PATH]

Reads the gzip IDX files with gzip and numpy (Debian's dataset-fashion-mnist
puts them in /usr/share/datasets/fashion-mnist). Finds libmlp like any
`import mlp`: MLP_LIBRARY, beside the package, or the build tree.
"""

import argparse
import gzip
import os
import sys
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))  # run from a checkout

import mlp  # noqa: E402

LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
          "Bag", "Ankle boot"]


def read_idx(path):
    """An IDX file (as MNIST ships them) as a numpy array of its shape."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if data[:2] != b"\0\0" or data[2] != 0x08:
        raise ValueError("%s: not an unsigned-byte IDX file" % path)
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load(data_dir, part):
    X = read_idx(os.path.join(data_dir, "%s-images-idx3-ubyte.gz" % part))
    y = read_idx(os.path.join(data_dir, "%s-labels-idx1-ubyte.gz" % part))
    return X.reshape(len(X), -1), y


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("curve", nargs="?", default="fashion_mnist_curve.png",
                    help="where to save the learning curve (PNG)")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--limit", type=int, default=0, help="train on the first N images only")
    ap.add_argument("--threads", type=int, default=0, help="OpenBLAS threads (0: as is)")
    ap.add_argument("--model", help="also save the trained network (libmlp model file)")
    args = ap.parse_args()

    if args.threads:
        mlp.set_num_threads(args.threads)
    X_train, y_train = load(args.data, "train")
    X_test, y_test = load(args.data, "t10k")
    if args.limit:
        X_train, y_train = X_train[:args.limit], y_train[:args.limit]

    clf = mlp.MLPClassifier(hidden_layer_sizes=(256, 128), activation="relu", solver="adam",
                            learning_rate_init=1e-3, batch_size=128, max_iter=args.epochs,
                            alpha=1e-4, early_stopping=True, validation_fraction=0.1,
                            n_iter_no_change=args.epochs, input_scaling="minmax",
                            random_state=0, verbose=True)
    # every epoch runs (n_iter_no_change = epochs), then the best one is kept
    warnings.filterwarnings("ignore", category=mlp.ConvergenceWarning)
    t0 = time.perf_counter()
    clf.fit(X_train, y_train)  # raw pixels: the min-max scaling lives in the network
    seconds = time.perf_counter() - t0
    accuracy = clf.score(X_test, y_test)
    n_val = int(np.ceil(clf.validation_fraction * len(X_train)))
    print("libmlp %s: %d images (%d to train, %d to validate), %d epochs in %.1f s (%.2f s/epoch)"
          % (mlp.library_version(), len(X_train), len(X_train) - n_val, n_val, clf.n_iter_,
             seconds, seconds / clf.n_iter_))
    print("test accuracy: %.4f" % accuracy)

    pred = clf.predict(X_test)
    worst = np.argmin([np.mean(pred[y_test == k] == k) for k in range(10)])
    print("hardest class: %s (%.1f%% right)"
          % (LABELS[worst], 100 * np.mean(pred[y_test == worst] == worst)))

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    epochs = np.arange(1, clf.n_iter_ + 1)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.plot(epochs, clf.loss_curve_, "o-", label="training loss (objective J)")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_ylabel("loss")
    ax2 = ax.twinx()
    ax2.plot(epochs, clf.validation_scores_, "s--", color="tab:orange",
             label="validation accuracy")
    ax2.set_ylabel("accuracy")
    lines = ax.get_lines() + ax2.get_lines()
    ax.legend(lines, [line.get_label() for line in lines], loc="upper center",
              bbox_to_anchor=(0.5, -0.15), ncol=2, frameon=False)
    ax.set_title("Fashion-MNIST, MLP 784-256-128-10 (test accuracy %.3f)" % accuracy)
    fig.tight_layout()
    fig.savefig(args.curve, dpi=100)
    print("learning curve: %s" % args.curve)
    if args.model:
        clf.network_.save(args.model)
        print("model: %s" % args.model)


if __name__ == "__main__":
    main()
