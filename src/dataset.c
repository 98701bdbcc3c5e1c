/* The data set object: allocation, destruction, accessors. */
#include "dataset.h"

#include <string.h>

mlp_status mlp__dataset_new(size_t rows, size_t cols, int with_classes, size_t target_cols,
                            mlp_dataset **out)
{
    mlp_dataset *ds = NULL;
    size_t n_feat, n_val = 0, n_cls;

    MLP__CHECK_NULL(out);
    if (rows == 0 || cols == 0)
        return mlp__fail(MLP_ERR_SIZE, "data set of %zu rows x %zu columns is empty", rows, cols);
    if (rows > MLP_MAX_DIM || cols > MLP_MAX_DIM || target_cols > MLP_MAX_DIM)
        return mlp__fail(MLP_ERR_SIZE, "data set of %zu rows x %zu columns exceeds %zu",
                         rows, cols, MLP_MAX_DIM);
    if (!mlp__mul_ok(rows, cols, &n_feat) || !mlp__mul_ok(n_feat, sizeof(float), &n_feat) ||
        !mlp__mul_ok(rows, target_cols, &n_val) || !mlp__mul_ok(n_val, sizeof(float), &n_val) ||
        !mlp__mul_ok(rows, sizeof(int32_t), &n_cls))
        return mlp__fail(MLP_ERR_SIZE, "data set of %zu rows x %zu columns overflows", rows, cols);

    ds = mlp__calloc(1, sizeof *ds);
    if (ds == NULL) goto nomem;
    ds->rows = rows;
    ds->cols = cols;
    ds->target_cols = target_cols;
    ds->features = mlp__malloc(n_feat);
    if (ds->features == NULL) goto nomem;
    if (with_classes) {
        ds->classes = mlp__calloc(rows, sizeof(int32_t));
        if (ds->classes == NULL) goto nomem;
    }
    if (target_cols > 0) {
        ds->values = mlp__malloc(n_val);
        if (ds->values == NULL) goto nomem;
    }
    *out = ds;
    return MLP_OK;

nomem:
    mlp_dataset_destroy(ds);
    return mlp__fail(MLP_ERR_NOMEM, "data set of %zu rows x %zu columns", rows, cols);
}

mlp_status mlp__dataset_new_rows(size_t rows, size_t cols, int with_classes, size_t target_cols,
                                 mlp_dataset **out)
{
    mlp_dataset *ds = NULL;
    mlp_status st;
    if (rows > 0) return mlp__dataset_new(rows, cols, with_classes, target_cols, out);
    /* Checks the shape as for one row, then holds one element per array, not
     * a row: a header may claim rows of any width, and no data confirmed it. */
    st = mlp__dataset_new(1, 1, with_classes, target_cols > 0, &ds);
    if (st != MLP_OK) return st;
    if (cols == 0 || cols > MLP_MAX_DIM || target_cols > MLP_MAX_DIM) {
        mlp_dataset_destroy(ds);
        return mlp__fail(MLP_ERR_SIZE, "data set of 0 rows x %zu columns (limit %zu)", cols,
                         MLP_MAX_DIM);
    }
    ds->rows = 0;
    ds->cols = cols;
    ds->target_cols = target_cols;
    *out = ds;
    return MLP_OK;
}

mlp_status mlp_dataset_set_num_classes(mlp_dataset *ds, size_t num_classes)
{
    size_t i;
    MLP__CHECK_NULL(ds);
    if (ds->classes == NULL)
        return mlp__fail(MLP_ERR_ARGUMENT, "the data set has no class labels");
    if (num_classes > (size_t)INT32_MAX)
        return mlp__fail(MLP_ERR_ARGUMENT, "num_classes %zu exceeds %ld", num_classes,
                         (long)INT32_MAX);
    for (i = 0; i < ds->rows; i++)
        if ((size_t)ds->classes[i] >= num_classes)
            return mlp__fail(MLP_ERR_LABEL, "row %zu has class %ld, not below num_classes %zu", i,
                             (long)ds->classes[i], num_classes);
    ds->num_classes = num_classes;
    return MLP_OK;
}

void mlp_dataset_destroy(mlp_dataset *ds)
{
    if (ds == NULL) return;
    mlp__free(ds->features);
    mlp__free(ds->classes);
    mlp__free(ds->values);
    mlp__free(ds);
}

size_t mlp_dataset_rows(const mlp_dataset *ds) { return ds ? ds->rows : 0; }
size_t mlp_dataset_cols(const mlp_dataset *ds) { return ds ? ds->cols : 0; }
const float *mlp_dataset_features(const mlp_dataset *ds) { return ds ? ds->features : NULL; }
const int32_t *mlp_dataset_classes(const mlp_dataset *ds) { return ds ? ds->classes : NULL; }
size_t mlp_dataset_num_classes(const mlp_dataset *ds) { return ds ? ds->num_classes : 0; }
const float *mlp_dataset_values(const mlp_dataset *ds) { return ds ? ds->values : NULL; }
size_t mlp_dataset_target_cols(const mlp_dataset *ds) { return ds ? ds->target_cols : 0; }
