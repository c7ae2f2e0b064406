"""CNN Lab's engine: data sets, models, background training, run store and evaluation.

A plain Python package that never imports streamlit. TensorFlow is imported lazily, by the
modules that need it, so ``import cnn_core`` stays fast.
"""

from cnn_core import tensorflow_quiet as _tensorflow_quiet

_tensorflow_quiet.install()   # before any module of the package imports TensorFlow

from cnn_core.errors import (  # noqa: E402
    CnnLabError,
    DatasetError,
    DatasetUnavailableError,
    ExplainError,
    RunNotFoundError,
    RunStateError,
    SpecError,
    UnsafeArchiveError,
)

__all__ = [
    "CnnLabError",
    "DatasetError",
    "DatasetUnavailableError",
    "ExplainError",
    "RunNotFoundError",
    "RunStateError",
    "SpecError",
    "UnsafeArchiveError",
]
