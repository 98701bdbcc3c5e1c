"""python3 -m mlp: which libmlp this package uses, and on which OpenBLAS."""

import mlp


def main():
    print("mlp %s" % mlp.__version__)
    print("library: %s" % mlp.library_path)
    print("OpenBLAS: %s" % mlp.blas_config())


if __name__ == "__main__":
    main()
