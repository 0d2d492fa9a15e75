"""Slack's events setup page (admins): the Request URL to paste into the Slack app's Event
Subscriptions, and the two secrets instant Slack triggers need — the signing secret (Events
API) or the app-level token (Socket Mode). Both are stored encrypted on the workspace's Slack
OAuth app, never shown again; the environment's (``SLACK_SIGNING_SECRET``,
``SLACK_APP_TOKEN``) take precedence."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hub.accounts.models import audit
from hub.connections.models import OAuthApp
from hub.engine import app_events
from hub.web.decorators import admin_required

_SECRET = {"autocomplete": "off"}


class SlackEventsForm(forms.Form):
    signing_secret = forms.CharField(
        label=_("Signing secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs=_SECRET),
        help_text=_("Basic Information → App Credentials. Leave empty to keep the saved one."),
    )
    app_token = forms.CharField(
        label=_("App-level token (Socket Mode)"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs=_SECRET),
        help_text=_(
            "Only for a hub Slack cannot reach: Basic Information → App-Level Tokens, with the "
            "connections:write scope. It starts with xapp-. Leave empty to keep the saved one."
        ),
    )
    forget = forms.BooleanField(label=_("Remove both saved secrets"), required=False)

    def clean_app_token(self):
        token = self.cleaned_data["app_token"].strip()
        if token and not token.startswith("xapp-"):
            raise forms.ValidationError(
                _("An app-level token starts with xapp-; a bot token (xoxb-) will not work here.")
            )
        return token


@admin_required
def slack_events(request):
    workspace = request.workspace
    saved = OAuthApp.objects.filter(integration="slack", workspace=workspace).first()
    form = SlackEventsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with transaction.atomic():
            app = saved or OAuthApp(workspace=workspace, integration="slack", client_id="")
            if data["forget"]:
                app.signing_secret = app.app_token = ""
            if data["signing_secret"].strip():
                app.signing_secret = data["signing_secret"].strip()
            if data["app_token"]:
                app.app_token = data["app_token"]
            app.updated_by = request.user
            app.save()
        audit(
            workspace,
            request.user,
            "slack_events.changed",
            "Slack",
            signing_secret_set=bool(app.signing_secret),
            app_token_set=bool(app.app_token),
        )
        messages.success(request, _("Saved."))
        return redirect("slack_events_setup")
    return render(
        request,
        "integrations/slack/events_setup.html",
        {
            "form": form,
            "request_url": settings.HUB_BASE_URL + reverse("slack_events"),
            "public": app_events.hub_is_public(),
            "signing_from_env": bool(settings.SLACK_SIGNING_SECRET),
            "token_from_env": bool(settings.SLACK_APP_TOKEN),
            "signing_saved": bool(saved and saved.signing_secret),
            "token_saved": bool(saved and saved.app_token),
            "ready": app_events.slack_events_ready(),
        },
    )
