"""TensorFlow / Keras 3 implementations of the layers the tutorials document.

Each module here has a PyTorch twin of the same name in ``layers_torch`` with the same class
names. Importing this package imports no framework; the modules themselves import Keras.
"""
