"""Showing engine errors in plain language without breaking the page."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import streamlit as st

from cnn_core.errors import CnnLabError
from cnn_core.i18n import _


@contextlib.contextmanager
def engine_errors(prefix: str = "") -> Iterator[None]:
    """Show a :class:`CnnLabError` raised inside the block with ``st.error``; the page goes on.

    Other exceptions are bugs: they are shown too (``st.exception``) rather than blanking the page.
    """
    try:
        yield
    except CnnLabError as error:
        st.error(f"{prefix}{error}", icon=":material/error:")
    except Exception as error:  # noqa: BLE001 - a page must keep working
        st.error(prefix + _("Something went wrong that CNN Lab did not expect: {error}", error=error))
        st.exception(error)
