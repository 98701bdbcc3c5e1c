"""The code of README.md's "Using it from Python" section, runnable as it stands.

Each block between the "README block" lines is copied verbatim from the README
(scripts/ci-pip.sh checks that they still match); the lines around them make the
data the README leaves to the reader and check the results. Run it from any
folder: the files it saves go to a temporary folder, removed at the end.

    python3 examples/python/readme_example.py
"""

import os
import tempfile

import numpy as np

# Three Gaussian classes in four dimensions, the shapes the README assumes.
rng = np.random.RandomState(0)
centres = 3.0 * rng.randn(3, 4)


def make(n):
    c = rng.randint(0, 3, n)
    return (centres[c] + rng.randn(n, 4)).astype(np.float32), c.astype(np.int32)


X, classes = make(256)
y = classes
targets = np.eye(3, dtype=np.float32)[classes]
X_val, y_val = make(128)
X_train, y_train = make(512)
X_test, y_test = make(256)
here = os.getcwd()
workdir = tempfile.TemporaryDirectory()
os.chdir(workdir.name)

# ---- README block 1 ----
import mlp
net = mlp.Network([4, 16, 3], activations=["tanh", "identity"], seed=0)
net.sizes, net.activations          # [4, 16, 3], ['tanh', 'identity']
params = net.get_params()           # [(W, b), ...] float32; W is (n_out, n_in)
net.set_params(params)
Y = net.forward(X)                  # (B, 3) float32 for X of shape (B, 4)
J, grads = net.loss_and_grad(X, classes, loss="softmax_cross_entropy", l2=1e-4)
err = net.gradcheck(X, targets, loss="mse")   # worst norm-relative error
net.save("model.mlp"); net2 = mlp.Network.load("model.mlp")
print(net.to_dot())                 # the computation graph, Graphviz DOT
# ---- end ----

assert net.sizes == [4, 16, 3] and net.activations == ["tanh", "identity"]
assert Y.shape == (256, 3) and Y.dtype == np.float32
assert len(grads) == 2 and np.isfinite(J)
assert err < 1e-2, err
assert np.allclose(net2.forward(X), Y, rtol=1e-5, atol=1e-5)

# ---- README block 2 ----
net.loss = "softmax_cross_entropy"
tr = mlp.Trainer(net, optimizer="adam", learning_rate=1e-3, epochs=10, batch_size=128,
                 callback=lambda p: print(p["epoch"], p["train_loss"], p["val_accuracy"]))
history = tr.train(X, y, X_val, y_val)   # one dict per epoch
# ---- end ----

assert len(history) == 10
assert history[-1]["train_loss"] < history[0]["train_loss"]

# ---- README block 3 ----
clf = mlp.MLPClassifier(hidden_layer_sizes=(256, 128), max_iter=20,
                        input_scaling="minmax", random_state=0).fit(X_train, y_train)
clf.score(X_test, y_test); clf.predict_proba(X_test); clf.loss_curve_
clf.network_.save("fashion.mlp")  # scaling saved with it: predicts on raw pixels
reg = mlp.MLPRegressor(hidden_layer_sizes=(64,)).fit(X, y)
# ---- end ----

accuracy = clf.score(X_test, y_test)
assert accuracy > 0.9, accuracy
assert np.allclose(clf.predict_proba(X_test).sum(axis=1), 1.0, atol=1e-5)
loaded = mlp.Network.load("fashion.mlp").forward(X_test)
assert np.allclose(loaded, clf.network_.forward(X_test), rtol=1e-5, atol=1e-5)
assert reg.score(X, y) > 0.5, reg.score(X, y)

os.chdir(here)
workdir.cleanup()
print("readme example: ok (test accuracy %.3f)" % accuracy)
