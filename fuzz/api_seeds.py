#!/usr/bin/env python3
"""Writes the hand-made seed programs of the API fuzzer into
tests/corpus_api/ (the "seed-*" files; the "fuzz-*" files there come from
libFuzzer runs, merged with -merge=1). Each helper below emits the bytes one
op of fuzz/fuzz_api.c reads, in the order it reads them: keep the two in
step. Usage: python3 fuzz/api_seeds.py [OUT_DIR]"""
import os
import sys

OPS = ["create", "clone", "destroy", "setter", "set_params", "scaling", "reserve", "forward",
       "workspace", "forward_ws", "loss_grad", "evaluate", "gradcheck", "getters",
       "trainer_create", "trainer_destroy", "trainer_set", "trainer_get", "step", "train",
       "save_buffer", "save_stream", "save_path", "csv", "idx", "dataset_use"]
ACT = {"identity": 0, "sigmoid": 1, "tanh": 2, "relu": 3, "leaky_relu": 4, "gelu": 5, "softplus": 6}
OPTION = {"optimizer": 0, "learning_rate": 1, "momentum": 2, "batch_size": 14, "epochs": 15,
          "validation_fraction": 16, "shuffle": 19, "every_batch": 20}


def op(name):
    return [OPS.index(name)]


def fill():  # api_fill, mode 0 (pseudo-random small values), n > 0
    return [0, 7, 0]


def targets():  # api_targets, mode 1 (all in range)
    return [1, 3]


def small_int(v):  # api_double: 128 + v for 0 <= v < 22
    assert 0 <= v < 22
    return 128 + v


def create(slot, sizes, acts, seed=1):
    L = len(sizes) - 1
    return op("create") + [L - 1, slot, 1] + [s - 1 for s in sizes] + [ACT[a] for a in acts] + [seed]


def trainer_create(j, slot):
    return op("trainer_create") + [j, slot]


def trainer_set(j, option, value):
    return op("trainer_set") + [j, OPTION[option], small_int(value)]


def set_loss(slot, loss):  # 0 mse, 1 softmax ce, 2 sigmoid ce
    return op("setter") + [slot, 0, loss, 0, 100]


def train(j, rows, ops_in_callback, stop=True):
    """mlp_train on trainer j: the first callback runs the given ops."""
    body = op("train") + [j, 0, 1, rows - 1] + fill() + targets()
    body += [len(ops_in_callback)] + sum(ops_in_callback, []) + [0 if stop else 1]
    return body


def scaling(slot):  # both vectors, finite
    return op("scaling") + [slot, 0, 4] + fill() + fill()


def workspace(k, slot, cap=8):
    return op("workspace") + [k, slot, cap, 1]


def forward_ws(slot, k, rows=3):
    return op("forward_ws") + [slot, k, 1, rows - 1] + fill()


SEEDS = {
    # issue 10, case 1: a 4-8-2 workspace on an 8-4-2 network with input scaling
    "seed-ws-other-shape": create(0, [4, 8, 2], ["relu", "identity"])
    + create(1, [8, 4, 2], ["relu", "identity"]) + scaling(1) + workspace(0, 0)
    + forward_ws(1, 0) + forward_ws(0, 0),
    # case 2: SGD -> Adam from the callback
    "seed-cb-optimizer": create(0, [3, 5, 2], ["tanh", "identity"]) + trainer_create(0, 0)
    + trainer_set(0, "optimizer", 0) + trainer_set(0, "epochs", 3)
    + train(0, 12, [trainer_set(0, "optimizer", 3)]),
    # case 3: loss to MSE from the callback while training softmax cross-entropy
    "seed-cb-loss": create(0, [3, 6, 3], ["relu", "identity"]) + set_loss(0, 1)
    + trainer_create(0, 0) + trainer_set(0, "epochs", 3) + train(0, 16, [set_loss(0, 0)]),
    # case 4: a second trainer on a network that has one
    "seed-two-trainers": create(0, [2, 4, 1], ["sigmoid", "identity"]) + trainer_create(0, 0)
    + trainer_create(1, 0) + op("step") + [0, 4] + fill() + targets(),
    # the callback destroys the running network and trainer (deferred), then trains another
    "seed-cb-destroy": create(0, [2, 3, 2], ["gelu", "sigmoid"]) + create(1, [2, 2], ["identity"])
    + trainer_create(0, 0) + trainer_create(1, 1) + trainer_set(0, "epochs", 2)
    + train(0, 8, [op("destroy") + [0], op("trainer_destroy") + [0], train(1, 4, [])]),
    # allowed from the callback: reads, forward, evaluate, saving, scalar options
    "seed-cb-allowed": create(0, [4, 6, 2], ["softplus", "identity"]) + trainer_create(0, 0)
    + trainer_set(0, "every_batch", 1) + trainer_set(0, "batch_size", 4)
    + train(0, 16, [op("forward") + [0, 1, 3] + fill(), trainer_set(0, "learning_rate", 2),
                    op("save_buffer") + [0, 0, 1]]) + op("getters") + [0, 0, 0, 0, 1],
    # an idle trainer whose network is destroyed: later calls fail with a status
    "seed-detached": create(0, [2, 2], ["identity"]) + trainer_create(0, 0) + op("destroy") + [0]
    + op("step") + [0, 3] + op("train") + [0, 0, 1, 3] + op("trainer_get") + [0, 1, 0],
    # save and load through buffers, streams and paths
    "seed-io": create(0, [3, 4, 2], ["leaky_relu", "tanh"]) + create(1, [1, 1], ["identity"])
    + op("save_buffer") + [0, 0, 1] + op("save_stream") + [0, 1] + op("save_path") + [1]
    + op("save_buffer") + [0, 5, 2, 3],
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "corpus_api")
    os.makedirs(out, exist_ok=True)
    for name, body in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes(body))


if __name__ == "__main__":
    main()
