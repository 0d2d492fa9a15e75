"""The forms of the members and connection pages."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from hub.accounts.models import Membership, User
from hub.connections.models import Connection


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(
        label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.MEMBER
    )

    def __init__(self, *args, workspace=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if Membership.objects.filter(workspace=self.workspace, user__email=email).exists():
            raise forms.ValidationError(
                _("%(email)s is already a member."), params={"email": email}
            )
        return email


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)


class AcceptInviteForm(forms.Form):
    """For someone who has no account yet: a name and a password complete it."""

    first_name = forms.CharField(label=_("Your name"), max_length=150)
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=_("Password again"), widget=forms.PasswordInput, strip=False)

    def __init__(self, *args, email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        if p1:
            try:
                password_validation.validate_password(p1, User(email=self.email))
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


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
