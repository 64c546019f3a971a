"""The HTTP API of the conversation service."""
