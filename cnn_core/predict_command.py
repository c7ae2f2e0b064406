"""``python -m cnn_core predict RUN_ID IMAGE [IMAGE ...] [--top 3] [--fit crop|pad] [--json]``.

Shows a finished run's model picture files, prepared exactly as the Try it page prepares them
(digit models: made to look like MNIST digits first, unless ``--as-is``), and prints per picture
the ranked classes. A picture that cannot be read gets its plain message and the others go on;
the exit status is then 2.

Example::

    $ python -m cnn_core predict 20260102-101500-ab12 seven.png
    seven.png: It thinks this is a 7, 92% sure. Next best: 1, 5%.
      1. 7      92.0%
      2. 1       5.1%
      3. 9       1.2%
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from cnn_core.errors import CnnLabError
from cnn_core.i18n import _


def predict_files(store, run_id: str, paths: Sequence[str], *, top: int = 3, fit: str = "crop",
                  digit: bool | None = None) -> list[dict]:
    """Per file ``{"image", "ranked": [{"class", "name", "probability"}...], "sentence",
    "warnings", "notes"}`` or ``{"image", "error"}``. ``digit=None``: on for digit models."""
    from cnn_core.predict import answer_sentence, load_trained_model, picture_warnings, predict_images, prepare_image

    trained = load_trained_model(store, run_id)
    digit = trained.digits if digit is None else bool(digit)
    results: list[dict] = []
    prepared, slots = [], []
    for path in paths:
        try:
            prepared.append(prepare_image(trained, path, fit=fit, digit=digit))
            slots.append(len(results))
            results.append({"image": str(path)})
        except CnnLabError as error:
            results.append({"image": str(path), "error": str(error)})
    predictions = predict_images(trained, [p.pixels for p in prepared], top=top)
    for slot, picture, prediction in zip(slots, prepared, predictions):
        results[slot].update({
            "ranked": [{"class": i, "name": name, "probability": round(p, 6)} for i, name, p in prediction.ranked],
            "sentence": answer_sentence(prediction),
            "warnings": picture_warnings(trained, picture, prediction),
            "notes": list(picture.notes),
        })
    return results


def format_results(results: Sequence[dict]) -> str:
    """The results as text: a sentence per picture, then its ranked classes."""
    lines = []
    for result in results:
        if "error" in result:
            lines.append(_("{image}: cannot be used: {error}", image=result["image"], error=result["error"]))
            continue
        lines.append(f"{result['image']}: {result['sentence']}")
        width = max(len(r["name"]) for r in result["ranked"])
        for place, row in enumerate(result["ranked"], start=1):
            lines.append(f"  {place}. {row['name']:<{width}}  {row['probability'] * 100:5.1f}%")
        lines.extend("  " + _("note: {text}", text=text) for text in result["notes"] + result["warnings"])
    return "\n".join(lines)


def cmd_predict(args) -> int:
    """The ``predict`` command (argparse arguments: run_id, images, top, fit, json, as_is)."""
    from cnn_core.errors import ImageInputError
    from cnn_core.runs import RunStore

    if int(args.top) < 1:
        raise ImageInputError("--top must be 1 or more.")
    store = RunStore(args.workspace)
    results = predict_files(store, args.run_id, args.images, top=int(args.top), fit=args.fit,
                            digit=False if getattr(args, "as_is", False) else None)
    print(json.dumps(results, indent=2) if args.json else format_results(results))
    return 2 if any("error" in r for r in results) else 0


def add_predict_arguments(parser) -> None:
    """The ``predict`` command's arguments (for the CLI's argparse wiring)."""
    from cnn_core.image_formats import formats_text
    from cnn_core.picture_input import FIT_MODES

    parser.add_argument("run_id")
    parser.add_argument("images", nargs="+", metavar="IMAGE",
                        help=_("picture files ({formats})", formats=formats_text()))
    parser.add_argument("--top", type=int, default=3, help=_("how many classes to list per picture (default 3)"))
    parser.add_argument("--fit", choices=FIT_MODES, default="crop",
                        help=_("crop: cut to the model's shape; pad: keep the whole picture (default crop)"))
    parser.add_argument("--json", action="store_true", help=_("print JSON instead of text"))
    parser.add_argument("--as-is", action="store_true",
                        help=_("digit models: do not make pictures look like MNIST digits first"))
    parser.set_defaults(func=cmd_predict)


__all__ = ["add_predict_arguments", "cmd_predict", "format_results", "predict_files"]
