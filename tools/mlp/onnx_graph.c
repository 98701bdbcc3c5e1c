/* The arena and the small builders behind onnx_export.c, and the checked
 * tensor reader behind onnx_import.c. */
#include "onnx_graph.h"

#include <stdlib.h>
#include <string.h>

struct og_block {
    og_block *next;
    max_align_t align; /* the payload starts suitably aligned */
};

void *og_alloc(og_arena *a, size_t size)
{
    og_block *blk;
    if (a->failed || size > SIZE_MAX - sizeof *blk) return NULL;
    blk = calloc(1, sizeof *blk + size);
    if (blk == NULL) {
        a->failed = 1;
        return NULL;
    }
    blk->next = a->head;
    a->head = blk;
    return blk + 1;
}

char *og_strdup(og_arena *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = og_alloc(a, n);
    if (p != NULL) memcpy(p, s, n);
    return p;
}

void og_arena_free(og_arena *a)
{
    while (a->head != NULL) {
        og_block *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}

int og_builder_init(og_builder *b, og_arena *a, size_t cap_node, size_t cap_init)
{
    b->a = a;
    b->cap_node = cap_node;
    b->cap_init = cap_init;
    b->g = og_alloc(a, sizeof *b->g);
    if (b->g == NULL) return -1;
    onnx__graph_proto__init(b->g);
    b->g->node = og_alloc(a, cap_node * sizeof *b->g->node);
    b->g->initializer = og_alloc(a, cap_init * sizeof *b->g->initializer);
    return b->g->node != NULL && b->g->initializer != NULL ? 0 : -1;
}

Onnx__NodeProto *og_node(og_builder *b, const char *op, const char *name, const char *in0,
                         const char *in1, const char *in2, const char *out)
{
    const char *ins[3];
    Onnx__NodeProto *n;
    size_t k, n_in = 0;

    ins[0] = in0;
    ins[1] = in1;
    ins[2] = in2;
    if (b->g->n_node >= b->cap_node) return NULL;
    n = og_alloc(b->a, sizeof *n);
    if (n == NULL) return NULL;
    onnx__node_proto__init(n);
    n->input = og_alloc(b->a, 3 * sizeof *n->input);
    n->output = og_alloc(b->a, sizeof *n->output);
    n->op_type = og_strdup(b->a, op);
    n->name = og_strdup(b->a, name);
    if (n->input == NULL || n->output == NULL || n->op_type == NULL || n->name == NULL) return NULL;
    for (k = 0; k < 3 && ins[k] != NULL; k++)
        if ((n->input[n_in++] = og_strdup(b->a, ins[k])) == NULL) return NULL;
    n->n_input = n_in;
    if ((n->output[0] = og_strdup(b->a, out)) == NULL) return NULL;
    n->n_output = 1;
    b->g->node[b->g->n_node++] = n;
    return n;
}

static Onnx__AttributeProto *add_attr(og_builder *b, Onnx__NodeProto *n, const char *name)
{
    Onnx__AttributeProto *at = og_alloc(b->a, sizeof *at), **list;
    list = og_alloc(b->a, (n->n_attribute + 1) * sizeof *list);
    if (at == NULL || list == NULL) return NULL;
    onnx__attribute_proto__init(at);
    if ((at->name = og_strdup(b->a, name)) == NULL) return NULL;
    if (n->n_attribute) memcpy(list, n->attribute, n->n_attribute * sizeof *list);
    list[n->n_attribute++] = at;
    n->attribute = list;
    return at;
}

int og_attr_int(og_builder *b, Onnx__NodeProto *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *at = add_attr(b, n, name);
    if (at == NULL) return -1;
    at->has_type = 1;
    at->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    at->has_i = 1;
    at->i = v;
    return 0;
}

int og_attr_float(og_builder *b, Onnx__NodeProto *n, const char *name, float v)
{
    Onnx__AttributeProto *at = add_attr(b, n, name);
    if (at == NULL) return -1;
    at->has_type = 1;
    at->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    at->has_f = 1;
    at->f = v;
    return 0;
}

int og_init(og_builder *b, const char *name, const int64_t *dims, size_t ndims, const float *data)
{
    Onnx__TensorProto *t;
    size_t k, count = 1;

    if (b->g->n_initializer >= b->cap_init) return -1;
    if ((t = og_alloc(b->a, sizeof *t)) == NULL) return -1;
    onnx__tensor_proto__init(t);
    for (k = 0; k < ndims; k++) count *= (size_t)dims[k];
    t->dims = og_alloc(b->a, (ndims ? ndims : 1) * sizeof *t->dims);
    t->float_data = og_alloc(b->a, count * sizeof *t->float_data);
    t->name = og_strdup(b->a, name);
    if (t->dims == NULL || t->float_data == NULL || t->name == NULL) return -1;
    if (ndims) memcpy(t->dims, dims, ndims * sizeof *dims);
    t->n_dims = ndims;
    memcpy(t->float_data, data, count * sizeof *data);
    t->n_float_data = count;
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    b->g->initializer[b->g->n_initializer++] = t;
    return 0;
}

Onnx__ValueInfoProto *og_value_2d(og_arena *a, const char *name, size_t cols)
{
    Onnx__ValueInfoProto *v = og_alloc(a, sizeof *v);
    Onnx__TypeProto *tp = og_alloc(a, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = og_alloc(a, sizeof *tt);
    Onnx__TensorShapeProto *sh = og_alloc(a, sizeof *sh);
    Onnx__TensorShapeProto__Dimension *d0 = og_alloc(a, sizeof *d0), *d1 = og_alloc(a, sizeof *d1);
    Onnx__TensorShapeProto__Dimension **dims = og_alloc(a, 2 * sizeof *dims);

    if (v == NULL || tp == NULL || tt == NULL || sh == NULL || d0 == NULL || d1 == NULL || dims == NULL)
        return NULL;
    onnx__value_info_proto__init(v);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(sh);
    onnx__tensor_shape_proto__dimension__init(d0);
    onnx__tensor_shape_proto__dimension__init(d1);
    d0->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    if ((d0->dim_param = og_strdup(a, "N")) == NULL) return NULL;
    d1->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    d1->dim_value = (int64_t)cols;
    dims[0] = d0;
    dims[1] = d1;
    sh->n_dim = 2;
    sh->dim = dims;
    tt->has_elem_type = 1;
    tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tt->shape = sh;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    v->type = tp;
    if ((v->name = og_strdup(a, name)) == NULL) return NULL;
    return v;
}

size_t og_tensor_count(const Onnx__TensorProto *t, size_t limit)
{
    size_t k, count = 1;
    for (k = 0; k < t->n_dims; k++) {
        if (t->dims[k] < 1 || (uint64_t)t->dims[k] > limit) return 0;
        if ((size_t)t->dims[k] > limit / count) return 0;
        count *= (size_t)t->dims[k];
    }
    return count;
}

int og_tensor_floats(const Onnx__TensorProto *t, float *out, size_t count)
{
    size_t i;
    if (!t->has_data_type || t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) return -1;
    if (t->has_data_location && t->data_location != ONNX__TENSOR_PROTO__DATA_LOCATION__DEFAULT)
        return -1;
    if (t->has_raw_data && t->raw_data.len > 0) {
        if (t->raw_data.len / 4 != count || t->raw_data.len % 4 != 0 || t->n_float_data) return -1;
        for (i = 0; i < count; i++) {
            const uint8_t *p = t->raw_data.data + 4 * i;
            uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                         (uint32_t)p[3] << 24;
            memcpy(&out[i], &u, sizeof u);
        }
        return 0;
    }
    if (t->n_float_data != count) return -1;
    memcpy(out, t->float_data, count * sizeof *out);
    return 0;
}
