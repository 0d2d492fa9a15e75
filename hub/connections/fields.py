"""A text field stored encrypted. Reading it from the database decrypts it; the plain value
exists only in memory. Empty values are stored empty so "no secret" needs no key."""

from __future__ import annotations

from django.db import models

from hub.connections import crypto


class EncryptedTextField(models.TextField):
    description = "Text encrypted at rest with the vault keys"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs["editable"] = False
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        if not value:
            return ""
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return ""
        return crypto.encrypt(str(value))

    def get_db_prep_save(self, value, connection):
        return self.get_prep_value(value)
