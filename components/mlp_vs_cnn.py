"""The one-click MLP-vs-CNN comparison of the Compare page: queue the pair, then show both side
by side (test accuracy, parameters, training time) with the equal budget they trained on.

It trains on Shapes unless the user picks the sidebar's data set: shapes anywhere in the picture
are what convolutions are for, while on small centred digits an MLP does about as well.
"""

from __future__ import annotations

import streamlit as st

from cnn_core import comparison
from cnn_core.accuracy_noise import n_test_of, noise_words
from cnn_core.dataset_names import dataset_name as _dataset_name
from cnn_core.i18n import _, ngettext
from cnn_core.model.presets import preset_name
from cnn_core.poll_intervals import group_seconds
from components import compare_charts, state
from components.feedback import engine_errors
from components.model_summary import human_count
from components.run_picker import STATUS_WORDS, dataset_of, duration, percent
from components.session_identity import starter

EPOCH_CHOICES = (1, 2, 3, 5, 10)


def queue_form() -> None:
    """Data set, epochs and the button that queues the pair."""
    recommended, sidebar = comparison.MLP_VS_CNN_DATASET, state.dataset_id()
    options = [recommended] + ([sidebar] if sidebar and sidebar != recommended else [])
    left, right = st.columns(2)
    dataset = left.radio(
        _("Data set"), options, key="compare_mlp_dataset", horizontal=True,
        format_func=lambda d: _("{name} (recommended)", name=_dataset_name(d)) if d == recommended
        else _("{name} (sidebar)", name=_dataset_name(d)),
        help=_("Shapes: coloured shapes at random places, sizes and angles, where looking for small patterns "
             "anywhere in the picture pays off. On small, centred digits an MLP does about as well as a CNN."))
    epochs = right.select_slider(_("Epochs for each"), EPOCH_CHOICES, value=comparison.MLP_VS_CNN_EPOCHS,
                                 key="compare_mlp_epochs", help=_("Passes over the training pictures. Few epochs "
                                                                  "keep it quick."))
    mlp_spec, cnn_spec = comparison.mlp_vs_cnn_specs(int(epochs))
    st.caption(_("**Equal budget:** {budget}.", budget=comparison.equal_budget(mlp_spec, cnn_spec)) + " "
               + _("**What differs is the network:**") + " "
               + comparison.network_differences(mlp_spec.to_dict(), cnn_spec.to_dict()))
    if st.button(_("Train an MLP and a CNN"), key="compare_mlp_cnn", icon=":material/play_arrow:",
                 help=_("Queues two runs on “{dataset}”: the {mlp} and the {cnn}.", dataset=_dataset_name(dataset),
                        mlp=preset_name("mlp"), cnn=preset_name("lenet"))):
        with engine_errors(_("The comparison was not queued: ")):
            mlp_id, _cnn_id = comparison.mlp_vs_cnn(state.job_queue(), dataset, int(epochs),
                                                    starter=starter())   # the teacher's limits apply
            state.set_active_run(mlp_id)
            st.success(_("Queued both runs. Follow them on the Training page; they appear below as they train."))


def pair_card(store, mlp, cnn) -> None:
    """One pair side by side, with its budget and what the numbers say."""
    with st.container(border=True):
        budget = mlp.config.get("comparison_budget") or ngettext("{count} epoch each", "{count} epochs each",
                                                                 mlp.epochs_planned)
        st.markdown(_("**{dataset}** · equal budget: {budget}", dataset=_dataset_name(dataset_of(mlp)), budget=budget))
        st.caption(comparison.network_differences((mlp.config or {}).get("model") or {},
                                                  (cnn.config or {}).get("model") or {}))
        params = {}
        for column, run, title in zip(st.columns(2), (mlp, cnn), (_("MLP (no convolutions)"), "CNN")):
            column.markdown(f"**{title}** · {preset_name(run.config.get('preset'))} · {_(STATUS_WORDS.get(run.status))}")
            delta = None
            if run is cnn and None not in (cnn.test_accuracy, mlp.test_accuracy):
                delta = _("{points:+.1f} points vs the MLP", points=(cnn.test_accuracy - mlp.test_accuracy) * 100)
                n_test = n_test_of(store, cnn.id)
                if n_test and noise_words(mlp.test_accuracy, cnn.test_accuracy, n_test):
                    delta += _(" · no real difference")
            column.metric(_("Test accuracy"), percent(run.test_accuracy), delta=delta,
                          help=_("Share of the test pictures it got right."))
            params[run.id] = compare_charts.run_parameters(store, run)
            column.metric(_("Parameters"), human_count(params[run.id]),
                          help=_("How many numbers it learns; convolutions reuse theirs all over the picture."))
            column.metric(_("Training time"), duration(run.train_seconds), help=_("Time spent training."))
        n_mlp, n_cnn = params[mlp.id], params[cnn.id]
        if None not in (mlp.test_accuracy, cnn.test_accuracy, n_mlp, n_cnn) and n_cnn:
            n_test = n_test_of(store, cnn.id)
            note = noise_words(mlp.test_accuracy, cnn.test_accuracy, n_test) if n_test else ""
            times = (_("{ratio:.0f} times as many numbers as", ratio=n_mlp / n_cnn) if n_mlp >= 1.5 * n_cnn
                     else _("about as many numbers as"))
            st.caption(_("The MLP learns {times} the CNN ({mlp} vs {cnn}) and scores {mlp_score} against {cnn_score}",
                         times=times, mlp=human_count(n_mlp), cnn=human_count(n_cnn),
                         mlp_score=percent(mlp.test_accuracy), cnn_score=percent(cnn.test_accuracy))
                       + (f": {note}." if note else "."))


def mlp_vs_cnn_view(store) -> None:
    st.caption(_("An MLP looks at the picture as one long list of pixels; a CNN looks for small patterns "
               "anywhere in it. Train one of each with the same budget and compare."))
    queue_form()
    seconds = group_seconds(r for pair in comparison.mlp_vs_cnn_pairs(store, viewer=starter())[:3] for r in pair)

    @st.fragment(run_every=seconds)
    def pairs() -> None:  # polls while a pair trains, so the results fill in as they come
        _pairs(store, seconds)

    pairs()


def _pairs(store, seconds: float | None) -> None:
    """The three newest pairs side by side; ``seconds`` is the view's polling interval at the page
    run (:func:`cnn_core.poll_intervals.group_seconds`)."""
    newest = comparison.mlp_vs_cnn_pairs(store, viewer=starter())[:3]
    if seconds is not None and group_seconds(r for pair in newest for r in pair) != seconds:
        st.rerun()   # they ended, or were paused or continued elsewhere: pick the new rate
    if not newest:
        st.caption(_("Your MLP and CNN appear here side by side once queued."))
    for mlp, cnn in newest:
        pair_card(store, mlp, cnn)
