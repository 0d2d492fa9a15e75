"""The model providers: each an API-key integration with one ``complete`` function."""
