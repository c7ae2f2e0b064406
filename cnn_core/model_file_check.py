"""Checking an untrusted ``model.keras`` before anything in it is deserialized.

A ``.keras`` file is a ZIP holding ``config.json`` (the model's description), ``metadata.json``
and ``model.weights.h5``. :func:`inspect_keras_file` checks it with the rules of
:mod:`cnn_core.safe_archive`, then walks the JSON description and allows only what CNN Lab's own
models are made of (:data:`ALLOWED_KERAS_CLASSES` plus CNN Lab's registered schedules), so safety
does not rest on Keras' own block-list alone. Refused: Lambda layers and stored functions,
classes from other modules, anything else (lookup layers reading vocabulary files, layers calling
``get_file``), any mention of ``enable_unsafe_deserialization`` or ``get_file``, pickled members,
and weights in HDF5 files that point at other files (external links, external or virtual
storage). Only then :func:`load_model_safely` loads it with ``safe_mode=True``.

Example:
    >>> check_model_config({"class_name": "Lambda", "config": {}})
    Traceback (most recent call last):
    ...
    cnn_core.errors.UnsafeArchiveError: The model contains a Lambda layer ...
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Callable

from cnn_core.errors import UnsafeArchiveError
from cnn_core.run_archive_content import load_json
from cnn_core.safe_archive import ArchiveLimits, check_members, open_zip, read_member

#: What a model.keras may contain.
MODEL_MEMBERS = ("config.json", "metadata.json", "model.weights.h5")
#: Layer classes that carry Python code.
CODE_CLASS_NAMES = ("Lambda", "TFOpLambda", "SlicingOpLambda", "__lambda__", "__function__")
#: Words that have no business in a model's description.
FORBIDDEN_WORDS = ("enable_unsafe_deserialization", "get_file")
#: Keras classes CNN Lab's models are built from (layers, initializers, optimizers, losses,
#: metrics, dtype policies, the model classes and Keras' serialized tensors).
ALLOWED_KERAS_CLASSES = frozenset({
    "Functional", "Sequential", "InputLayer", "DTypePolicy", "FloatDTypePolicy",
    "Activation", "AveragePooling2D", "BatchNormalization", "Conv2D", "Dense", "Dropout",
    "Flatten", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "MaxPooling2D", "Normalization", "Rescaling", "Reshape",
    "SpatialDropout2D",
    "GlorotUniform", "HeNormal", "HeUniform", "Ones", "Zeros", "Constant", "L2", "L1", "L1L2",
    "Adam", "AdamW", "RMSprop", "SGD",
    "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
    "CategoricalAccuracy", "SparseCategoricalAccuracy", "Accuracy", "Mean", "MeanMetricWrapper",
    "CosineDecay", "ExponentialDecay", "PiecewiseConstantDecay",
    "__keras_tensor__", "__tensor__", "__numpy__",
})


def _refuse(message: str) -> UnsafeArchiveError:
    return UnsafeArchiveError(message)


def _is_keras_module(module: str) -> bool:
    return module == "keras" or module.startswith("keras.")


def _register_own_objects() -> None:
    """Register CNN Lab's own Keras-serializable classes (importing their modules does it)."""
    import cnn_core.model.fused_batch_norm  # noqa: F401 - registers CNN Lab's batch norm
    import cnn_core.model.legacy_schedules  # noqa: F401 - registers CNN Lab's old schedules
    import cnn_core.model.muon  # noqa: F401 - registers CNN Lab's Muon optimizer
    import cnn_core.preprocessing  # noqa: F401 - may register its scaling layer


def allowed_custom_objects() -> tuple[set[str], set[str]]:
    """(registered names, modules) of CNN Lab's own Keras-serializable objects."""
    import keras

    _register_own_objects()

    names, modules = set(), set()
    for registered, obj in keras.saving.get_custom_objects().items():
        module = getattr(obj, "__module__", "") or ""
        if module == "cnn_core" or module.startswith("cnn_core."):
            names.add(registered)
            modules.add(module)
    return names, modules


def _allowed_function(node: dict) -> bool:
    """A Keras activation CNN Lab's model builder offers, serialized by name (no code)."""
    from cnn_core.model import ACTIVATIONS

    return (node.get("module") == "keras.activations"
            and node.get("registered_name") in (*ACTIVATIONS, "softmax", "linear")
            and set(node) <= {"module", "class_name", "config", "registered_name"}
            and node.get("config") in (None, node.get("registered_name")))


def check_model_config(config: Any, allowed_names: set[str] = frozenset(),
                       allowed_modules: set[str] = frozenset()) -> None:
    """Refuse a model config (``config.json`` of a ``.keras`` file) that could run code or read
    files. Walks the JSON without deserializing anything (see the module docstring)."""
    try:
        text = json.dumps(config)
    except (TypeError, ValueError, RecursionError):
        raise _refuse("The model's description cannot be read. It was refused.") from None
    for word in FORBIDDEN_WORDS:
        if word in text:
            raise _refuse(f"The model's description mentions '{word}', which could download files "
                          "or switch off Keras' safety checks. It was refused.")
    stack = [config]
    seen = 0
    while stack:
        node = stack.pop()
        seen += 1
        if seen > 2_000_000:
            raise _refuse("The model's description is unreasonably large. It was refused.")
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        class_name = node.get("class_name")
        if class_name in CODE_CLASS_NAMES:
            raise _refuse(
                "The model contains a Lambda layer (Python code stored in the model file). Such "
                "models can run any program when loaded, so CNN Lab refuses them. Export models "
                "built with CNN Lab's model builder only.")
        if class_name == "function" and _allowed_function(node):
            continue
        if "function" in node or "function_type" in node or class_name == "function":
            raise _refuse("The model contains a stored Python function, which could run any "
                          "program when loaded. It was refused.")
        module = node.get("module")
        registered = node.get("registered_name")
        ours = module in allowed_modules and registered in allowed_names
        if module is not None and not (isinstance(module, str) and (_is_keras_module(module) or ours)):
            raise _refuse(
                f"The model uses '{class_name}' from module '{module}', which is neither part of "
                "Keras nor of CNN Lab. Code from other modules could run when loading, so the "
                "model was refused.")
        if registered is not None and not ours and registered != class_name:
            raise _refuse(
                f"The model uses the registered object '{registered}', which is neither part of "
                "Keras nor of CNN Lab. It was refused.")
        if class_name is not None and not ours and class_name not in ALLOWED_KERAS_CLASSES:
            raise _refuse(
                f"The model uses '{class_name}', which CNN Lab's models never contain (only the "
                "layers of CNN Lab's model builder are accepted). It was refused.")
        stack.extend(node.values())


def check_weights_file(data: bytes, what: str) -> None:
    """Refuse HDF5 weights that point at other files (external links, external or virtual
    storage): reading them would read files of this computer."""
    import h5py

    if not data.startswith(b"\x89HDF\r\n\x1a\n"):
        raise _refuse(f"{what}: its weights are not an HDF5 file. It was refused.")
    problems: list[str] = []

    def visit(name: str, link) -> None:
        if isinstance(link, h5py.ExternalLink):
            problems.append(f"'{name}' links to another file")

    def visit_items(name: str, obj) -> None:
        if isinstance(obj, h5py.Dataset) and (obj.external or obj.is_virtual):
            problems.append(f"'{name}' keeps its numbers in another file")

    try:
        with h5py.File(io.BytesIO(data), "r") as f:
            f.visititems_links(visit)
            f.visititems(visit_items)
    except (OSError, ValueError, KeyError) as error:
        raise _refuse(f"{what}: its weights cannot be read ({error}). It was refused.") from None
    if problems:
        raise _refuse(f"{what}: its weights point at other files ({problems[0]}). It was refused.")


def inspect_keras_file(data: bytes, limits: ArchiveLimits,
                       member_limit: Callable[[str], int] | None = None) -> dict:
    """Check a ``.keras`` file's bytes without loading it; returns its parsed config.json.

    Raises UnsafeArchiveError for unexpected members (e.g. pickles), unsafe paths or sizes, a
    config that could run code or read files (:func:`check_model_config`), external weights.
    """
    what = "The model file (model.keras)"
    limit = member_limit or (lambda name: limits.member_bytes)
    with open_zip(data, limits, what) as zf:
        members = {m.path: m for m in check_members(zf, limits, what, limit)}
        for name in members:
            if name not in MODEL_MEMBERS:
                kind = " (a pickled Python object)" if name.endswith((".pkl", ".pickle", ".npy")) else ""
                raise _refuse(f"{what} contains '{name}'{kind}, which a Keras model saved by CNN "
                              "Lab never holds. It was refused.")
        if "config.json" not in members or "model.weights.h5" not in members:
            raise _refuse(f"{what} is incomplete: it needs config.json and model.weights.h5.")
        read = {name: read_member(zf, m, limit(name), what) for name, m in members.items()}
    config = load_json(read["config.json"], "model.keras/config.json")
    if "metadata.json" in read:
        load_json(read["metadata.json"], "model.keras/metadata.json")
    names, modules = allowed_custom_objects()
    check_model_config(config, names, modules)
    check_weights_file(read["model.weights.h5"], what)
    return config


def load_model_safely(path: Path) -> None:
    """Load a checked model file with ``safe_mode=True``; anything Keras cannot load is refused."""
    import keras

    _register_own_objects()
    try:
        keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # noqa: BLE001 - anything Keras cannot load is refused
        raise _refuse(f"The model in the archive cannot be loaded ({type(error).__name__}: "
                      f"{error}). It was refused.") from None


__all__ = ["ALLOWED_KERAS_CLASSES", "CODE_CLASS_NAMES", "FORBIDDEN_WORDS", "MODEL_MEMBERS",
           "allowed_custom_objects", "check_model_config", "check_weights_file",
           "inspect_keras_file", "load_model_safely"]
