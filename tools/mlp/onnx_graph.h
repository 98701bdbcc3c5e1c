/* Building and reading ONNX protobuf messages (protobuf-c over onnx.proto),
 * shared by onnx_export.c and onnx_import.c. */
#ifndef MLP_CLI_ONNX_GRAPH_H
#define MLP_CLI_ONNX_GRAPH_H

#include "onnx.pb-c.h"

#include <stddef.h>
#include <stdint.h>

#define OG_OPSET 13
/* IR version 7 is the one that goes with opset 13. */
#define OG_IR_VERSION 7

/* Every message of an exported model is allocated from one arena and freed
 * at once, so that no half-built model can leak. */
typedef struct og_block og_block;
typedef struct og_arena {
    og_block *head;
    int failed; /* an allocation failed; all later calls return NULL */
} og_arena;

void *og_alloc(og_arena *a, size_t size); /* zeroed */
char *og_strdup(og_arena *a, const char *s);
void og_arena_free(og_arena *a);

/* A graph under construction, with room for cap_node nodes and cap_init
 * initializers (counted by the caller before it starts). */
typedef struct og_builder {
    og_arena *a;
    Onnx__GraphProto *g;
    size_t cap_node, cap_init;
} og_builder;

int og_builder_init(og_builder *b, og_arena *a, size_t cap_node, size_t cap_init);
/* Appends a node op(inputs) -> output; NULL on failure. */
Onnx__NodeProto *og_node(og_builder *b, const char *op, const char *name, const char *in0,
                         const char *in1, const char *in2, const char *out);
int og_attr_int(og_builder *b, Onnx__NodeProto *n, const char *name, int64_t v);
int og_attr_float(og_builder *b, Onnx__NodeProto *n, const char *name, float v);
/* A float initializer of rank ndims (0 for a scalar), copied. */
int og_init(og_builder *b, const char *name, const int64_t *dims, size_t ndims, const float *data);
/* A float tensor value (N, cols), N a dynamic dimension. */
Onnx__ValueInfoProto *og_value_2d(og_arena *a, const char *name, size_t cols);

/* The float values of an initializer (float_data or little-endian
 * raw_data) into out (count floats, count checked against the data).
 * Returns 0, or -1 when the tensor is not float or its size differs. */
int og_tensor_floats(const Onnx__TensorProto *t, float *out, size_t count);
/* The element count of a tensor from its dims; 0 when any dim is out of
 * [1, limit] or the product exceeds limit. */
size_t og_tensor_count(const Onnx__TensorProto *t, size_t limit);

#endif /* MLP_CLI_ONNX_GRAPH_H */
