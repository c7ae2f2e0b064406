"""model_file_check: the allow-list lets every kind of model CNN Lab builds through, and only those."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from cnn_core.errors import UnsafeArchiveError
from cnn_core.model_file_check import check_model_config, check_weights_file, inspect_keras_file
from cnn_core.safe_archive import ArchiveLimits
from hostile_corpus import external_h5

pytestmark = pytest.mark.filterwarnings("ignore:Skipping variable loading:UserWarning")

#: One model per choice CNN Lab offers (settings changed from the small "fast" preset).
VARIANTS = [
    {}, {"batch_norm": True, "conv_dropout": 0.2, "dense_dropout": 0.2}, {"head": "global_average"},
    {"pooling": "average"}, {"pooling": "none"}, {"conv_blocks": 0, "head": "flatten"},
    {"optimizer": "sgd", "nesterov": True}, {"optimizer": "muon"}, {"optimizer": "rmsprop"}, {"optimizer": "adamw", "weight_decay": 0.01},
    {"lr_schedule": "one_cycle"}, {"lr_schedule": "cosine"}, {"label_smoothing": 0.1},
    *({"activation": a} for a in ("elu", "gelu", "leaky_relu", "swish", "tanh", "sigmoid")),
]


def saved_model(tmp_path, scaling: str = "divide_255", **changes) -> bytes:
    from cnn_core.model import PRESETS, build_model, compile_model
    from cnn_core.preprocessing import effective_encoding, fit_scaling

    spec = PRESETS["fast"].replace(conv_blocks=1, filters=2, dense_units=4, epochs=1).replace(**changes)
    x = np.random.default_rng(0).integers(0, 255, (4, 8, 8, 1), dtype=np.uint8)
    model = build_model(spec, (8, 8, 1), 3, scaling=fit_scaling(scaling, x))
    compile_model(model, spec, steps_per_epoch=5, label_encoding=effective_encoding("integer", spec.label_smoothing))
    path = tmp_path / "model.keras"
    model.save(path)
    return path.read_bytes()


def test_every_kind_of_cnn_lab_model_passes_the_allow_list(tmp_path):
    for changes in VARIANTS:
        inspect_keras_file(saved_model(tmp_path, **changes), ArchiveLimits())
    for scaling in ("minmax_channel", "standardize_channel", "none"):
        inspect_keras_file(saved_model(tmp_path, scaling=scaling), ArchiveLimits())


@pytest.mark.parametrize("node, words", [
    ({"module": "keras.layers", "class_name": "StringLookup", "config": {"vocabulary": "/etc/passwd"}},
     "'StringLookup'"),
    ({"module": "keras.layers", "class_name": "TextVectorization", "config": {}}, "'TextVectorization'"),
    ({"module": "keras.utils", "class_name": "function", "registered_name": "get_file"}, "get_file"),
    ({"module": "keras.activations", "class_name": "function", "registered_name": "relu",
      "config": {"code": "AAAA"}}, "function"),
    ({"module": "keras.config", "class_name": "x", "config": {"a": "enable_unsafe_deserialization"}},
     "enable_unsafe_deserialization"),
])
def test_anything_else_is_refused(node, words):
    with pytest.raises(UnsafeArchiveError, match=words):
        check_model_config({"class_name": "Functional", "config": {"layers": [node]}})


def test_weights_pointing_at_other_files_are_refused():
    with pytest.raises(UnsafeArchiveError, match="point at other files"):
        check_weights_file(external_h5(), "The model file")
    import h5py

    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.create_dataset("w", shape=(4,), dtype="f4", external=[("/etc/passwd", 0, 16)])
    with pytest.raises(UnsafeArchiveError, match="keeps its numbers in another file"):
        check_weights_file(buf.getvalue(), "The model file")
    with pytest.raises(UnsafeArchiveError, match="not an HDF5 file"):
        check_weights_file(zipfile.ZipFile.__name__.encode(), "The model file")
