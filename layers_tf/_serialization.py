"""The one registration every Keras class in ``layers_tf`` carries.

A ``.keras`` file names each custom class, and ``keras.saving.load_model`` can rebuild one
only if it is registered (or passed as ``custom_objects``, which a user loading a file
should not need to know). Every public layer and model here is decorated with
:data:`serializable`, which registers it as ``layers_tf>ClassName``: one package name for
the whole package, so no two modules can spell it differently. Loading still requires the
defining module to be imported, as Keras imports only its own modules by name.
"""

from __future__ import annotations

import keras

__all__ = ["serializable"]

serializable = keras.saving.register_keras_serializable(package="layers_tf")
