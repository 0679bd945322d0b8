"""PyTorch implementations of the layers the tutorials document.

Each module here has a Keras 3 twin of the same name in ``layers_tf`` with the same class
names; ``conformance.catalogue`` pairs them up and the harness checks that they agree.
"""
