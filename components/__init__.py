"""Streamlit pieces shared by several pages: state, sidebar, image grid, charts, pickers."""
