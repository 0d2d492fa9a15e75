"""Re-encrypt every stored secret under the first key of FIELD_ENCRYPTION_KEYS.

To rotate: generate a key (`manage.py rotate_keys --generate`), put it first in
FIELD_ENCRYPTION_KEYS with the old keys after it, restart, run `manage.py rotate_keys`, then
remove the old keys.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import connection as db_connection
from django.db import transaction

from hub.connections import crypto
from hub.connections.fields import EncryptedTextField
from hub.connections.models import AppSubscription, Connection, OAuthApp
from hub.recipes.services import rotate_secrets

MODELS = (Connection, OAuthApp, AppSubscription)


def encrypted_columns(model) -> list[str]:
    return [f.column for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]


def rotate_all() -> int:
    """Rotate every non-empty encrypted value in place; returns how many were rewritten.

    Works on the stored ciphertext, row by row under a row lock, so a token refreshed at the
    same moment is never overwritten with an older value."""
    count = 0
    for model in MODELS:
        columns = encrypted_columns(model)
        table = model._meta.db_table
        for pk in model.objects.values_list("pk", flat=True):
            with transaction.atomic():
                row = model.objects.select_for_update().filter(pk=pk).values_list("pk")
                if not row.exists():
                    continue
                with db_connection.cursor() as cursor:
                    quoted = ", ".join(db_connection.ops.quote_name(c) for c in columns)
                    cursor.execute(
                        f"SELECT {quoted} FROM {db_connection.ops.quote_name(table)} "  # noqa: S608
                        "WHERE id = %s",
                        [pk],
                    )
                    values = cursor.fetchone()
                    updates = {
                        col: crypto.rotate(val)
                        for col, val in zip(columns, values, strict=True)
                        if val
                    }
                    if not updates:
                        continue
                    assignments = ", ".join(
                        f"{db_connection.ops.quote_name(c)} = %s" for c in updates
                    )
                    cursor.execute(
                        f"UPDATE {db_connection.ops.quote_name(table)} SET {assignments} "  # noqa: S608
                        "WHERE id = %s",
                        [*updates.values(), pk],
                    )
                    count += len(updates)
    return count


class Command(BaseCommand):
    help = (
        "Re-encrypt stored tokens, client secrets and recipe step secrets under the first "
        "FIELD_ENCRYPTION_KEYS key."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--generate", action="store_true", help="Print a new key and change nothing."
        )

    def handle(self, *args, generate: bool = False, **options):
        if generate:
            self.stdout.write(crypto.generate_key())
            return
        # Recipe step secrets are sealed with the same keys (hub.engine.secrets).
        count = rotate_all() + rotate_secrets()
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} stored secrets."))
