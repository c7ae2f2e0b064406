"""The model builder's settings in the page URL, so a link reproduces a setup.

``?dataset=shapes&preset=lenet&learning_rate=0.01`` opens the model builder with that data set,
preset and learning rate. The first time a session draws the model builder, the link's settings
(read by :func:`cnn_core.spec_url.spec_from_query`, which never fails) go into session state; from
then on, every render writes the current settings back into the URL (only what differs from the
preset), so the address bar is always a link to what is on screen.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st

from cnn_core.i18n import _
from components import spec_form, state

READ_KEY = "spec_url_read"          # the link was read in this session
WARNINGS_KEY = "spec_url_warnings"  # (warnings, the model spec they are about)
PARAMS_KEY = "spec_url_params"      # the query parameters written last


def _link_keys() -> set[str]:
    """Query parameters that describe a setup (others, e.g. a page's own, are left alone)."""
    from cnn_core.augment import AugmentSpec
    from cnn_core.model import ModelSpec
    from cnn_core.spec_url import AUGMENT_PREFIX, DATASET_KEY, PRESET_KEY

    keys = {DATASET_KEY, PRESET_KEY, *(f.name for f in dataclasses.fields(ModelSpec))}
    return keys | {AUGMENT_PREFIX + f.name for f in dataclasses.fields(AugmentSpec)}


def _known_dataset(dataset_id: str) -> bool:
    from cnn_core.datasets import list_datasets
    from cnn_core.errors import CnnLabError
    from cnn_core.workspace import workspace_path

    try:
        return any(info.id == dataset_id for info in list_datasets(workspace_path()))
    except CnnLabError:
        return False


def read_link() -> bool:
    """Put the setup described by the URL into session state; returns whether the URL had one."""
    from cnn_core.augment import AugmentSpec
    from cnn_core.model import PRESETS
    from cnn_core.spec_url import spec_from_query

    params = st.query_params.to_dict()
    if not set(params) & _link_keys():
        return False
    model, augment, preset, dataset_id, warnings = spec_from_query(params)
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
            warnings.append(_("The link's data set {wanted!r} is not available here; kept {kept!r}. Pick a data set "
                              "in the sidebar.", wanted=dataset_id, kept=state.dataset_id()))
    st.session_state[WARNINGS_KEY] = (list(warnings), spec)
    return True


def current_query() -> dict[str, str] | None:
    """Query parameters describing the settings on screen (None if they cannot be read)."""
    from cnn_core.errors import CnnLabError
    from cnn_core.model import ModelSpec
    from cnn_core.spec_url import spec_to_query

    from components.launch import current_augment_spec

    try:
        model = ModelSpec.from_dict(spec_form.pending_spec())
        augment = current_augment_spec()
    except (CnnLabError, TypeError, ValueError):
        return None
    base = st.session_state.get(spec_form.BASE_PRESET_KEY) or st.session_state.get(state.PRESET_KEY)
    return spec_to_query(model, augment, preset=base, dataset_id=state.dataset_id())


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


def sync_spec_with_url() -> None:
    """Call at the top of the model builder: reads the link once per session, then keeps the URL
    in step with the settings. What the link could not use is shown with ``st.warning``."""
    if not st.session_state.get(READ_KEY):
        st.session_state[READ_KEY] = True
        if read_link():
            st.rerun()  # so the sidebar, drawn before this page, shows the link's data set too
    warnings, about = st.session_state.get(WARNINGS_KEY) or ((), None)
    if warnings and about == spec_form.pending_spec():
        st.warning(_("Some settings in the link could not be used:\n\n") + "\n".join(f"- {w}" for w in warnings),
                   icon=":material/link_off:")
    params = current_query()
    if params is not None:
        write_link(params)


def share_link() -> str:
    """The link to the settings on screen (the page's own address plus the setup parameters)."""
    params = st.session_state.get(PARAMS_KEY)
    if params is None:
        params = current_query() or {}
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
    st.caption(_("Share this setup: whoever opens this link gets the same data set and model settings."))
    st.code(share_link(), language=None, wrap_lines=True)


__all__ = ["current_query", "read_link", "share_link", "share_link_caption", "sync_spec_with_url", "write_link"]
