"""UI tests share one rule: Streamlit's caches are process-global, so every test starts and
ends with them empty (each test has its own databases)."""

from __future__ import annotations

import pytest
import streamlit as st


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()
