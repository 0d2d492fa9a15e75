"""The workspace settings page (admins): the time zone the recipes' dates are read in."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from hub.accounts.timezones import is_zone, zone_names
from hub.recipes.zones import set_workspace_zone
from hub.web.decorators import admin_required


class TimeZoneForm(forms.Form):
    timezone = forms.CharField(
        label=_("Time zone"),
        max_length=64,
        help_text=_(
            "Dates people type in recipes (“due Friday 18:00”, “every weekday at 9:00”) mean "
            "this time zone, unless a recipe names its own. Type to search, e.g. Seoul."
        ),
        widget=forms.TextInput(attrs={"list": "zone-names", "autocomplete": "off"}),
    )

    def clean_timezone(self):
        name = self.cleaned_data["timezone"].strip()
        if not is_zone(name):
            raise forms.ValidationError(
                _("“%(zone)s” is not a time zone. Pick one from the list, such as Asia/Seoul."),
                params={"zone": name[:64]},
            )
        return name


@admin_required
def workspace_settings(request):
    workspace = request.workspace
    form = TimeZoneForm(initial={"timezone": workspace.timezone})
    status = 200
    if request.method == "POST":
        form = TimeZoneForm(request.POST)
        if form.is_valid():
            name = form.cleaned_data["timezone"]
            moved = set_workspace_zone(workspace, name, user=request.user)
            messages.success(
                request,
                _("The workspace's time zone is now %(zone)s; %(n)s schedules follow it.")
                % {"zone": name, "n": moved},
            )
            return redirect("workspace_settings")
        status = 400
    return render(
        request,
        "accounts/workspace_settings.html",
        {"form": form, "zone_names": zone_names(), "workspace": workspace},
        status=status,
    )
