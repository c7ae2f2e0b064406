"""How fast does Try it answer? Engine and page times for the one-click model, warm.

Trains the one-click model (LeNet on the offline MNIST sample; 1 epoch by default, the speed of an
answer does not depend on how well it learned) in a temporary workspace, then measures, warm:

- upload-to-answer per picture in the engine: PNG bytes -> read (allow-listed) -> digit helper ->
  model input -> probabilities (median of many);
- the Try it page's rerun after a new picture is uploaded (``streamlit.testing`` AppTest, median):
  reading, preparing, predicting, Grad-CAM and feature maps included;
- 100 uploaded pictures answered at once (prepare + one batched prediction);
- Grad-CAM (two classes) + the feature maps of every convolution layer for one picture.

Targets (issue 11): under 300 ms per picture, 100 pictures under 5 s, Grad-CAM + maps under 1 s.
On this shared 2-core machine the times are only worth the share of the cores the process got,
which is printed next to each figure. The last line is the headline.

Usage (from the repository root)::

    python bench/predict.py [--epochs 1] [--repeats 20]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))


class Timed:
    """Wall seconds and the share of one core the process used meanwhile (CPU / wall)."""

    def __enter__(self):
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.wall0
        self.cpu_share = (time.process_time() - self.cpu0) / max(self.seconds, 1e-9)


def median_ms(fn, repeats: int) -> tuple[float, float]:
    """(median milliseconds of ``fn()``, CPU share over all repeats)."""
    times = []
    with Timed() as total:
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), total.cpu_share


def digit_pngs(n: int) -> list[bytes]:
    from PIL import Image

    from cnn_core.datasets import load_dataset

    x = load_dataset("mnist_sample").x_test
    out = []
    for i in range(n):
        buf = io.BytesIO()
        Image.fromarray(x[i % len(x)][..., 0]).resize((280, 280)).save(buf, format="PNG")
        out.append(buf.getvalue())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    workspace = Path(tempfile.mkdtemp(prefix="cnnlab-bench-predict-"))
    os.environ["CNN_LAB_WORKSPACE"] = str(workspace)
    from cnn_core import explain, predict
    from cnn_core.inside_view import layer_views
    from cnn_core.model import DEFAULT_PRESET, PRESETS
    from cnn_core.runs import RunStore
    from cnn_core.training import TrainingRequest, run_training

    store = RunStore(workspace)
    spec = PRESETS[DEFAULT_PRESET].replace(epochs=args.epochs)
    print(f"training the one-click model ({DEFAULT_PRESET}, {args.epochs} epoch(s), mnist_sample)…", flush=True)
    record = run_training(TrainingRequest("mnist_sample", spec, preset=DEFAULT_PRESET, name="bench"), store)
    assert record.status == "finished", record.message
    pngs = digit_pngs(100)

    with Timed() as cold:
        trained = predict.load_trained_model(store, record.id)
        predict.predict_images(trained, [predict.prepare_image(trained, pngs[0], digit=True).pixels])
    print(f"first answer (loads the model): {cold.seconds * 1000:.0f} ms", flush=True)

    def one():
        trained = predict.load_trained_model(store, record.id)   # kept: no disk read
        picture = predict.prepare_image(trained, pngs[1], digit=True)
        predict.predict_images(trained, [picture.pixels])

    engine_ms, engine_share = median_ms(one, args.repeats)
    print(f"engine, upload to answer: {engine_ms:.1f} ms per picture (cpu share {engine_share:.2f})", flush=True)

    def hundred():
        trained = predict.load_trained_model(store, record.id)
        prepared = predict.prepare_images(trained, pngs, digit=True)
        predict.predict_images(trained, [p.pixels for p in prepared])

    batch_ms, batch_share = median_ms(hundred, max(3, args.repeats // 5))
    print(f"engine, 100 pictures: {batch_ms / 1000:.2f} s (cpu share {batch_share:.2f})", flush=True)

    picture = predict.prepare_image(trained, pngs[2], digit=True).pixels

    def inside():
        explain.grad_cam(trained.model, picture, class_index=0)
        explain.grad_cam(trained.model, picture, class_index=1)
        layer_views(trained.model, picture, max_maps=8)

    inside()
    inside_ms, inside_share = median_ms(inside, max(3, args.repeats // 2))
    print(f"Grad-CAM (2 classes) + feature maps of every conv layer: {inside_ms:.0f} ms "
          f"(cpu share {inside_share:.2f})", flush=True)

    from page_helpers import open_page

    at = open_page("pages/try_it.py", dataset_id="mnist_sample")
    at.radio(key="try_source").set_value("upload").run()
    at.file_uploader(key="try_upload").set_value(("digit.png", pngs[3], "image/png")).run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    uploads = iter(range(4, 100))

    def new_upload():  # a new picture each time: read, prepare, predict, Grad-CAM, maps, draw
        i = next(uploads)
        at.file_uploader(key="try_upload").set_value((f"digit{i}.png", pngs[i], "image/png")).run()

    page_ms, page_share = median_ms(new_upload, max(3, args.repeats // 2))
    said = [m.value for m in at.markdown if m.value.startswith("**It thinks this is")]
    assert len(said) == 1 and not at.exception, "the page did not answer"
    print(f"page rerun for a newly uploaded picture: {page_ms:.0f} ms (cpu share {page_share:.2f})", flush=True)

    print(f"upload-to-answer {engine_ms:.0f} ms engine + {page_ms:.0f} ms page rerun (target 300 ms); "
          f"100 pictures {batch_ms / 1000:.2f} s (target 5 s); Grad-CAM + maps {inside_ms:.0f} ms (target 1000 ms)")


if __name__ == "__main__":
    main()
