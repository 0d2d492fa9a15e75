"""HTTP request: call any public web address, safely.

``addresses`` decides which addresses a member-given URL may reach, ``transport`` sends
the request pinned to the checked address within one deadline for the whole exchange, and
``action`` is the step itself (its fields, building the request, reading the answer).
"""

from integrations.builtin.http_request.action import ACTION

__all__ = ["ACTION"]
