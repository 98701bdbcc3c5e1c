/* The data set object shared by the readers (dataset.c, data_idx.c,
 * data_csv.c). Not API. */
#ifndef MLP_DATASET_H
#define MLP_DATASET_H

#include "internal.h"

struct mlp_dataset {
    size_t rows, cols;
    float *features;    /* rows x cols */
    int32_t *classes;   /* rows, or NULL */
    size_t num_classes; /* 1 + max class, 0 without classes */
    float *values;      /* rows x target_cols, or NULL */
    size_t target_cols;
};

/* Allocates a data set of rows x cols features, plus `rows` class slots
 * when with_classes, plus rows x target_cols values when target_cols > 0.
 * Sizes are checked (MLP_ERR_SIZE) before anything is allocated. */
MLP__HIDDEN mlp_status mlp__dataset_new(size_t rows, size_t cols, int with_classes,
                                        size_t target_cols, mlp_dataset **out);

/* The same, but rows may be 0 (an empty part of a file): the arrays then
 * hold one element each, so that no accessor returns NULL. */
MLP__HIDDEN mlp_status mlp__dataset_new_rows(size_t rows, size_t cols, int with_classes,
                                             size_t target_cols, mlp_dataset **out);

#endif /* MLP_DATASET_H */
