"""Time and memory of CNN Lab's doors under hostile input: ``python bench/hostile.py``.

Runs every case of ``tests/hostile_corpus.py`` (data set ZIPs, run archives, model files) plus a
few heavy ones the issue measured (a ZIP of large 16-bit PNGs decoded as a data set, the largest
run allowed: 1,000 epochs and 1,000 classes, imported then exported with its confusion picture,
and an archive of 100,000 epochs, refused) each in a forked child process. Per case: wall time and
peak memory above the child's starting size (Linux: peak RSS reset through
``/proc/self/clear_refs`` at the start). The LAST line is the headline: the worst time and the
worst peak memory over the corpus, e.g. ``worst case 0.41 s (16-bit PNG ZIP); worst peak memory
+96 MB (16-bit PNG ZIP)``. Times on the shared 2-core machine are only worth the CPU share printed.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

import hostile_corpus as corpus  # noqa: E402


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _heavy_cases() -> list[tuple[str, callable]]:
    from PIL import Image

    def sixteen_bit_zip() -> bytes:
        members = {}
        for c in ("a", "b"):
            for i in range(3):
                buf = io.BytesIO()
                ramp = (np.arange(3000 * 4000, dtype=np.uint32) % 65536).astype(np.uint16).reshape(3000, 4000)
                Image.fromarray(ramp).save(buf, "PNG", compress_level=9)
                members[f"{c}/{i}.png"] = buf.getvalue()
        return corpus.zip_bytes(members)

    zip16 = sixteen_bit_zip()
    probs = np.random.default_rng(0).dirichlet(np.ones(1000), size=2000).astype(np.float32)
    biggest = corpus.run_archive(
        epochs=[{"epoch": i, "loss": 1.0 / i, "val_accuracy": i / 1000} for i in range(1, 1001)],
        config={"dataset": {"id": "shapes"}, "model": {"epochs": 1000}},
        predictions={"probs": probs, "y_true": np.arange(2000) % 1000},
        dataset={"class_names": [f"class {i}" for i in range(1000)]})
    epochs_100k = corpus.run_archive(epochs=[{"epoch": i, "loss": 1.0} for i in range(1, 100_001)])

    def load_16_bit(ws: Path) -> str:
        from cnn_core.datasets import load_dataset
        from cnn_core.uploads import import_image_zip_report

        import_image_zip_report(zip16, "sixteen", ws)
        ds = load_dataset("user:sixteen", workspace=ws, image_size=(32, 32))
        return f"loaded {ds.n_train + ds.n_test} images"

    def biggest_run(ws: Path) -> str:
        from cnn_core.exchange import export_run, import_run
        from cnn_core.runs import RunStore

        store = RunStore(ws)
        run_id = import_run(store, biggest)
        return f"imported and exported again ({len(export_run(store, run_id)) / 1e6:.1f} MB)"

    def many_epochs(ws: Path) -> str:
        from cnn_core.errors import UnsafeArchiveError
        from cnn_core.exchange import import_run
        from cnn_core.runs import RunStore

        try:
            import_run(RunStore(ws), epochs_100k)
        except UnsafeArchiveError:
            return "refused"
        return "IMPORTED"

    return [(f"16-bit PNG ZIP ({len(zip16) / 1e6:.1f} MB, 6 x 12 Mpx)", load_16_bit),
            (f"1,000 epochs + 1,000 classes run ({len(biggest) / 1e6:.1f} MB)", biggest_run),
            (f"100,000 epochs run ({len(epochs_100k) / 1e6:.1f} MB)", many_epochs)]


def _corpus_case(case) -> callable:
    def run(ws: Path) -> str:
        from cnn_core.errors import CnnLabError
        from cnn_core.exchange import import_run
        from cnn_core.runs import RunStore
        from cnn_core.uploads import import_image_zip_report

        try:
            if case.kind == "dataset":
                import_image_zip_report(case.data, "upload", ws)
            else:
                import_run(RunStore(ws), case.data)
        except CnnLabError:
            return "refused"
        return "imported"
    return run


def _in_child(fn) -> tuple[float, float, float, str]:
    """(seconds, cpu seconds, peak MB above start, outcome) of ``fn(workspace)`` in a fork."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            pass
        start_kb = _status_kb("VmRSS")
        with tempfile.TemporaryDirectory() as ws:
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                outcome = fn(Path(ws))
            except Exception as error:  # noqa: BLE001 - reported, not hidden
                outcome = f"CRASH {type(error).__name__}: {str(error)[:80]}"
            dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        peak = (_status_kb("VmHWM") - start_kb) / 1024
        os.write(write, json.dumps([dt, cpu, peak, outcome]).encode())
        os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 65536):
        data += chunk
    os.waitpid(pid, 0)
    return tuple(json.loads(data))


def main() -> None:
    warnings.filterwarnings("ignore", "Duplicate name")   # the corpus writes a name twice on purpose
    # everything a case needs is imported before forking, so the children measure the work only
    import keras

    import cnn_core.exchange  # noqa: F401
    import cnn_core.uploads  # noqa: F401
    from cnn_core.model import PRESETS, build_model, compile_model
    from cnn_core.model_file_check import allowed_custom_objects

    allowed_custom_objects()
    spec = PRESETS["fast"].replace(conv_blocks=1, filters=2, dense_units=4, epochs=1)
    model = build_model(spec, (8, 8, 1), 3)
    compile_model(model, spec, steps_per_epoch=5, label_encoding="integer")
    with tempfile.TemporaryDirectory() as tmp:
        model.save(Path(tmp) / "m.keras")
        model_bytes = (Path(tmp) / "m.keras").read_bytes()
    keras.backend.clear_session()

    cases = [(c.name, _corpus_case(c), c.outcome)
             for c in corpus.dataset_cases() + corpus.run_cases() + corpus.model_cases(model_bytes)]
    cases += [(name, fn, "") for name, fn in _heavy_cases()]
    worst_time, worst_mem = (0.0, ""), (0.0, "")
    wall = cpu_total = 0.0
    print(f"{'case':<58} {'time s':>7} {'peak MB':>8}  outcome")
    for name, fn, expected in cases:
        dt, cpu, peak, outcome = _in_child(fn)
        wall, cpu_total = wall + dt, cpu_total + cpu
        flag = "" if not expected or outcome == ("refused" if expected == "refused" else "imported") \
            else "  <- UNEXPECTED"
        print(f"{name[:58]:<58} {dt:7.2f} {peak:+8.0f}  {outcome}{flag}")
        worst_time = max(worst_time, (dt, name))
        worst_mem = max(worst_mem, (peak, name))
    print(f"{len(cases)} cases; CPU share of the process over them: {cpu_total / max(wall, 1e-9):.0%} "
          "of one core")
    print(f"worst case {worst_time[0]:.2f} s ({worst_time[1]}); worst peak memory "
          f"{worst_mem[0]:+.0f} MB ({worst_mem[1]})")


if __name__ == "__main__":
    main()
