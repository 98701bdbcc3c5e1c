/* Reading one part of a CSV file (data_csv_part.c) for data_csv.c. Not API. */
#ifndef MLP_DATA_CSV_PART_H
#define MLP_DATA_CSV_PART_H

#include "internal.h"

typedef struct mlp__csv_part {
    char *head;       /* the file's first non-blank line without its '\n', or NULL */
    size_t head_len;
    size_t head_line; /* its line number (from 1) in the file */
    size_t head_off;  /* the file offset where it starts */
    char *buf;        /* the part's whole lines */
    size_t size, cap;
    size_t base;      /* the file offset of buf[0] */
} mlp__csv_part;

/* Reads the first non-blank line of path and the lines of part `part` of
 * `parts` (0 <= part < parts, checked by the caller). p->head is NULL when
 * the file holds no non-blank line. On failure p holds nothing. */
MLP__HIDDEN mlp_status mlp__csv_part_read(const char *path, size_t part, size_t parts,
                                          mlp__csv_part *p);
MLP__HIDDEN mlp_status mlp__csv_part_append(mlp__csv_part *p, const char *s, size_t n,
                                            const char *path);
MLP__HIDDEN void mlp__csv_part_free(mlp__csv_part *p);

#endif /* MLP_DATA_CSV_PART_H */
