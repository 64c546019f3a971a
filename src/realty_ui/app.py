"""The app's entry script: the prospect's chat (the default page) and the staff dashboard.

Run it with ``realty ui`` (or ``streamlit run`` on this file) and ``REALTY_UI_API_URL``
pointing at the API. Both pages talk to the API over HTTP only.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from pydantic import ValidationError

from realty_ui.i18n import Language, text
from realty_ui.settings import get_ui_settings

HERE = Path(__file__).parent


def _language() -> Language:
    try:
        return get_ui_settings().language
    except ValidationError:
        return "en"  # each page says what is wrong with the settings


def main() -> None:
    """Configure the page and run the selected one."""
    st.set_page_config(page_title="realty", page_icon=":material/apartment:", layout="wide")
    language = _language()
    page = st.navigation(
        [
            st.Page(
                HERE / "chat.py",
                title=text(language, "page_chat"),
                icon=":material/chat:",
                default=True,
            ),
            st.Page(
                HERE / "dashboard.py",
                title=text(language, "page_dashboard"),
                icon=":material/monitoring:",
                url_path="dashboard",
            ),
        ],
        position="top",
    )
    page.run()


if __name__ == "__main__":
    main()
