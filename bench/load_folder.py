"""How long loading a folder of images takes: ``python bench/load_folder.py [folder] [--size H W]``.

Default folder: ../shared/datasets/cifar10 (CIFAR-10 as JPEG class folders, train/ + test/,
51,000 files). Reads it twice: the first pass may include cold disk reads, the second shows
the decoding speed once the files are in the operating system's cache. The LAST line is the
first pass (what a user waits for the first time; the files may or may not already be in the
operating system's cache), e.g. ``loaded 51000 images in 23.4 s``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cnn_core import datasets  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=str(ROOT.parent / "shared" / "datasets" / "cifar10"))
    parser.add_argument("--size", nargs=2, type=int, default=None, metavar=("H", "W"))
    parser.add_argument("--repeat", type=int, default=2, help="passes (cache cleared between)")
    args = parser.parse_args()
    if not os.path.isdir(args.folder):
        sys.exit(f"no folder {args.folder}")
    print(f"cpus: {os.cpu_count()}, decode threads: {datasets.DECODE_THREADS}")
    times = []
    for k in range(args.repeat):
        datasets.clear_dataset_cache()
        t0 = time.perf_counter()
        ds = datasets.load_dataset(args.folder, image_size=tuple(args.size) if args.size else None)
        dt = time.perf_counter() - t0
        times.append(dt)
        n = ds.n_train + ds.n_test
        print(f"pass {k + 1}: {n} images {ds.image_shape} in {dt:.1f} s "
              f"({n / dt:,.0f} images/s); train {ds.n_train}, test {ds.n_test}, "
              f"classes {ds.n_classes}, skipped {len(ds.skipped)}")
    print(f"loaded {n} images in {times[0]:.1f} s")


if __name__ == "__main__":
    main()
