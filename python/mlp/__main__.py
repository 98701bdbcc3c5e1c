"""python3 -m mlp: which libmlp this package uses, and on which OpenBLAS."""

import mlp


def main():
    print("mlp %s" % mlp.__version__)
    print("library: %s" % mlp.library_path)
    print("OpenBLAS: %s" % mlp.blas_config())
    hint = mlp.blas_coretype_hint()
    if hint is not None:
        print("hint: OpenBLAS runs its SSE kernels on this CPU; start Python with "
              "OPENBLAS_CORETYPE=%s to use its vector units (several times faster)" % hint)


if __name__ == "__main__":
    main()
