"""Steps that need no app: filter, formatter, delay and HTTP request."""
