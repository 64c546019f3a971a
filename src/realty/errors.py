"""Typed errors. Rejected user input is data, never an exception; these are for failures."""


class RealtyError(Exception):
    """Base of every error realty raises on purpose."""


class ConfigurationError(RealtyError):
    """An operator mistake: a missing or invalid setting or data file."""


class ProviderError(RealtyError):
    """A model provider failed at run time."""


class ProviderUnavailableError(ProviderError):
    """The provider could not be reached or timed out."""


class BadResponseError(ProviderError):
    """The provider answered with something unusable."""


class StorageError(RealtyError):
    """The conversation store failed."""


class InputError(RealtyError):
    """Input that breaks an explicit limit (for example an over-long message)."""
