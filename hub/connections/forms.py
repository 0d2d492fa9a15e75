from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hub.accounts.models import User
from hub.connections.models import Connection


class OAuthAppForm(forms.Form):
    client_id = forms.CharField(label=_("Client ID"), max_length=255)
    client_secret = forms.CharField(
        label=_("Client secret"),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        required=False,
        help_text=_("Leave empty to keep the secret already saved."),
    )

    def __init__(self, *args, has_secret: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_secret = has_secret
        if not has_secret:
            self.fields["client_secret"].help_text = ""

    def clean(self):
        data = super().clean()
        if not self.has_secret and not data.get("client_secret"):
            self.add_error("client_secret", _("Enter the client secret."))
        return data


class ConnectionSettingsForm(forms.ModelForm):
    allowed_users = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Members who may use it"),
    )

    class Meta:
        model = Connection
        fields = ["label", "shared_with_all", "allowed_users"]
        labels = {
            "label": _("Name"),
            "shared_with_all": _("Every member of the workspace may use it"),
        }
        help_texts = {
            "label": _("Recipes refer to the connection by this name."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["allowed_users"].queryset = User.objects.filter(
            memberships__workspace=self.instance.workspace
        ).order_by("email")

    def clean_label(self):
        label = self.cleaned_data["label"].strip()
        taken = (
            Connection.objects.for_workspace(self.instance.workspace)
            .filter(label=label)
            .exclude(pk=self.instance.pk)
            .exists()
        )
        if taken:
            raise forms.ValidationError(_("Another connection already has this name."))
        return label
