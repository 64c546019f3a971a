"""realty: a conversational assistant for commercial real estate."""

__version__ = "0.1.0"
