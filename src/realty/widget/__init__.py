"""The embeddable chat widget: one HTML page, one stylesheet and one vanilla-JavaScript file,
served by :mod:`realty.api.routes.widget`."""
