"""The ``llm`` app's steps: ask, extract, classify, summarize."""
