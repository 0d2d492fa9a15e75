"""The one error the mapping language raises, with the step and field it was found in."""

from __future__ import annotations

# NaN and infinity are not JSON: no step can send them and no database column holds them.
NOT_FINITE = "This value is not a finite number (NaN or infinity)."


class MappingError(ValueError):
    """A template could not be read or rendered.

    ``message`` says what is wrong; ``field`` is the config field it was found in (dotted,
    e.g. ``blocks.0.text``) and ``step`` the step's key, when known. ``str()`` puts them
    together: ``Step “notify”, field “text”: there is no “steps.sumarize” — …``.
    """

    def __init__(self, message: str, field: str | None = None, *, step: str | None = None):
        self.message = message
        self.field = field
        self.step = step
        super().__init__(self._full())

    def _full(self) -> str:
        where = []
        if self.step:
            where.append(f"Step “{self.step}”")
        if self.field:
            where.append(f"field “{self.field}”")
        prefix = ", ".join(where)
        if prefix:
            prefix = prefix[0].upper() + prefix[1:]
            return f"{prefix}: {self.message}"
        return self.message

    def located(self, field: str | None = None, step: str | None = None) -> MappingError:
        return MappingError(self.message, self.field or field, step=self.step or step)
