"""LLM operations: every model call recorded with its usage and cost, the price table, and
monthly budgets. The providers and steps live in ``integrations.llm``; this app answers the
seam they announce calls through (``integrations.llm.hooks``)."""
