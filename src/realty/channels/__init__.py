"""Channel adapters: translate a channel's messages, then call the conversation service."""
