"""First run: create the first workspace and its admin. Safe to run again: it changes nothing
once an admin exists."""

import os
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from hub.accounts.models import Membership, User, Workspace


class Command(BaseCommand):
    help = "Create the first workspace and admin (from HUB_ADMIN_EMAIL / HUB_ADMIN_PASSWORD)."

    def handle(self, *args, **options):
        with transaction.atomic():
            if Membership.objects.filter(role=Membership.Role.ADMIN).exists():
                self.stdout.write("Already set up: an admin exists. Nothing to do.")
                return
            email = os.environ.get("HUB_ADMIN_EMAIL", "admin@example.com").strip().lower()
            password = os.environ.get("HUB_ADMIN_PASSWORD", "")
            generated = not password
            if generated:
                password = secrets.token_urlsafe(12)
            name = os.environ.get("HUB_WORKSPACE_NAME", "My team")
            workspace = Workspace.objects.order_by("id").first() or Workspace.objects.create(
                name=name
            )
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_superuser(email, password)
            elif generated:
                generated = False  # keep the existing password; we never print one we did not set
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            Membership.objects.update_or_create(
                workspace=workspace, user=user, defaults={"role": Membership.Role.ADMIN}
            )
        self.stdout.write(self.style.SUCCESS(f"Created workspace “{workspace.name}”."))
        self.stdout.write(f"Sign in at {settings.HUB_BASE_URL}/accounts/login/ as {email}")
        if generated:
            # Shown this once only; it is not stored anywhere in plain text.
            self.stdout.write(f"Password: {password}")
