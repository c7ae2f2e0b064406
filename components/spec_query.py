"""The whole setup in the page URL, so a reload keeps it and a link reproduces it.

``?dataset=shapes&preset=lenet&dense_layers=1&aug_flip=horizontal&run=20260101-...`` names the
data set, the model settings (only what differs from the preset), the augmentation used for
training and the followed run. app.py reads the link once per session, on whichever page it
opens (:func:`sync_with_url`, before the sidebar is drawn, so the sidebar already shows the
link's data set), and writes the setup on screen back into the URL after every page run
(:func:`write_url`), so the address bar is always a link to what is on screen and a reload
(a new session) starts from the same setup. What the link could not use is said once, on the
page it opened; it goes when the user moves on (another page, or settings changed).
"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st

from cnn_core.i18n import DEFAULT_LANGUAGE, _, current_language
from components import spec_form, state
from components.language import URL_PARAM as LANGUAGE_PARAM

READ_KEY = "spec_url_read"          # the link was read in this session
WARNINGS_KEY = "spec_url_warnings"  # (warnings, the model spec they are about, the page they are shown on)
PARAMS_KEY = "spec_url_params"      # the query parameters written last


def _link_keys() -> set[str]:
    """Query parameters that describe a setup (others, e.g. a page's own, are left alone)."""
    from cnn_core.augment import AugmentSpec
    from cnn_core.model import ModelSpec
    from cnn_core.spec_url import AUGMENT_PREFIX, DATASET_KEY, PRESET_KEY, RUN_KEY

    keys = {DATASET_KEY, PRESET_KEY, RUN_KEY, *(f.name for f in dataclasses.fields(ModelSpec))}
    return keys | {AUGMENT_PREFIX + f.name for f in dataclasses.fields(AugmentSpec)}


def _known_dataset(dataset_id: str) -> bool:
    from cnn_core.datasets import list_datasets
    from cnn_core.errors import CnnLabError
    from cnn_core.workspace import workspace_path

    try:
        return any(info.id == dataset_id for info in list_datasets(workspace_path()))
    except CnnLabError:
        return False


def _known_run(run_id: str) -> bool:
    try:
        state.run_store().get(run_id)
        return True
    except Exception:  # noqa: BLE001 - not in this workspace (or the store cannot say)
        return False


def read_link(page: str = "") -> bool:
    """Put the setup described by the URL into session state; returns whether the URL had one.

    ``page`` names the page the link opened (its warnings are shown there only).
    """
    from cnn_core.augment import AugmentSpec
    from cnn_core.model import PRESETS
    from cnn_core.spec_url import run_from_query, spec_from_query

    params = st.query_params.to_dict()
    if not set(params) & _link_keys():
        return False
    model, augment, preset, dataset_id, warnings = spec_from_query(params)
    run_id = run_from_query(params)
    spec = model.to_dict()
    st.session_state[state.MODEL_SPEC_KEY] = spec
    for name, value in spec.items():  # the widgets start from the link's values
        st.session_state[spec_form.widget_key(name)] = value
    if preset:
        st.session_state[spec_form.BASE_PRESET_KEY] = preset
        st.session_state[spec_form.PRESET_WIDGET_KEY] = preset
    st.session_state[state.PRESET_KEY] = preset if preset and PRESETS[preset] == model else None
    st.session_state[state.AUGMENT_SPEC_KEY] = augment.to_dict() if augment != AugmentSpec() else None
    if dataset_id:
        if _known_dataset(dataset_id):
            st.session_state[state.DATASET_KEY] = dataset_id
        else:
            warnings.append(_("The link's data set {wanted!r} is not available here; kept {kept!r}. "
                              "Pick a data set in the sidebar.", wanted=dataset_id, kept=state.dataset_id()))
    if run_id:
        if _known_run(run_id):
            state.set_active_run(run_id)
        else:
            warnings.append(_("The link's run {run!r} is not in this workspace; showing the latest run instead.",
                              run=run_id))
    st.session_state[WARNINGS_KEY] = (list(warnings), spec, page)
    return True


def current_query() -> dict[str, str] | None:
    """Query parameters describing the setup on screen (None if the settings cannot be read)."""
    from cnn_core.errors import CnnLabError
    from cnn_core.model import ModelSpec
    from cnn_core.spec_url import RUN_KEY, spec_to_query

    from components.launch import current_augment_spec

    try:
        model = ModelSpec.from_dict(spec_form.pending_spec())
        augment = current_augment_spec()
    except (CnnLabError, TypeError, ValueError):
        return None
    base = st.session_state.get(spec_form.BASE_PRESET_KEY) or st.session_state.get(state.PRESET_KEY)
    params = spec_to_query(model, augment, preset=base, dataset_id=state.dataset_id())
    followed = st.session_state.get(state.ACTIVE_RUN_KEY)  # only a run this session follows
    if followed:
        params[RUN_KEY] = str(followed)
    return params


def write_link(params: dict[str, str]) -> None:
    """Make the URL's setup parameters exactly ``params`` (other parameters are kept)."""
    keys = _link_keys()
    current = st.query_params.to_dict()
    for name in [k for k in current if k in keys and k not in params]:
        del st.query_params[name]
    for name, value in params.items():
        if current.get(name) != value:
            st.query_params[name] = value
    st.session_state[PARAMS_KEY] = dict(params)


def sync_with_url(page: str = "") -> None:
    """Call before the sidebar and the page are drawn (app.py): reads the link once per session,
    then shows what it could not use, on the page it opened (``page``) while its settings are
    still the link's."""
    if not st.session_state.get(READ_KEY):
        st.session_state[READ_KEY] = True
        read_link(page)
    link_warnings(page)


def link_warnings(page: str = "") -> None:
    """The link's warnings, on the page it opened and until the settings move on; then forgotten,
    so they never come back (e.g. after leaving and returning with a clean URL)."""
    warnings, about, shown_on = st.session_state.get(WARNINGS_KEY) or ((), None, "")
    if not warnings:
        return
    if shown_on != page or about != spec_form.pending_spec():
        st.session_state.pop(WARNINGS_KEY, None)
        return
    st.warning(_("Some settings in the link could not be used:") + "\n\n" + "\n".join(f"- {w}" for w in warnings),
               icon=":material/link_off:")


def write_url() -> None:
    """Call after the page ran (app.py): the URL describes the setup on screen."""
    params = current_query()
    if params is not None:
        write_link(params)


def share_link() -> str:
    """The link to the setup on screen (the page's own address plus the setup parameters, and
    ``lang=`` when the page is not in English, so whoever opens it reads the same language)."""
    params = current_query()
    if params is None:
        params = st.session_state.get(PARAMS_KEY) or {}
    params = dict(params)
    language = current_language()
    if language != DEFAULT_LANGUAGE:
        params[LANGUAGE_PARAM] = language
    query = urlencode(params)
    try:
        url = st.context.url or ""
    except Exception:  # noqa: BLE001 - no browser (tests, scripts): a relative link is still useful
        url = ""
    if not url:
        return f"?{query}"
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def share_link_caption() -> None:
    """The shareable link with a one-line explanation (the code box has a copy button)."""
    st.caption(_("Share this setup: whoever opens this link gets the same data set, model settings, "
                 "augmentation and run."))
    st.code(share_link(), language=None, wrap_lines=True)


__all__ = ["current_query", "link_warnings", "read_link", "share_link", "share_link_caption", "sync_with_url",
           "write_link", "write_url"]
