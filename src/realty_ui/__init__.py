"""The realty Streamlit app: the prospect's chat and the staff dashboard.

A separate deployable that talks to the realty API over HTTP only (it never imports
``realty``). Start it with ``realty ui`` or ``streamlit run`` on :data:`APP_PATH`, pointing
``REALTY_UI_API_URL`` at the API.
"""

from __future__ import annotations

from pathlib import Path

APP_PATH: Path = Path(__file__).with_name("app.py")
"""The Streamlit entry script (``streamlit run`` takes this file)."""

__all__ = ["APP_PATH"]
