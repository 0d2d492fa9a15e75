from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.mail import send_mail
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub.accounts.models import Invite, Membership, User, audit
from hub.web.decorators import admin_required, member_required, require_admin
from hub.web.forms import AcceptInviteForm, InviteForm, RoleForm
from hub.web.middleware import SESSION_KEY


def _members_page(request, form: InviteForm, status: int = 200):
    workspace = request.workspace
    return render(
        request,
        "accounts/members.html",
        {
            "memberships": Membership.objects.filter(workspace=workspace).select_related("user"),
            # Someone who joined meanwhile (another link, another way) is no longer waited for.
            "invites": Invite.objects.filter(workspace=workspace)
            .pending()
            .exclude(
                email__in=Membership.objects.filter(workspace=workspace).values("user__email")
            ),
            "form": form,
            "roles": Membership.Role.choices,
        },
        status=status,
    )


@member_required
def members(request):
    return _members_page(request, InviteForm(workspace=request.workspace))


@admin_required
@require_POST
def invite(request):
    workspace = request.workspace
    form = InviteForm(request.POST, workspace=workspace)
    if not form.is_valid():
        return _members_page(request, form, status=400)
    email, role = form.cleaned_data["email"], form.cleaned_data["role"]
    replaces = Invite.objects.filter(workspace=workspace, email=email).pending().exists()
    invite, token = Invite.issue(workspace, email, role, request.user)
    link = settings.HUB_BASE_URL + reverse("accept_invite", args=[token])
    send_mail(
        _("You're invited to %(workspace)s on Toolstack Hub") % {"workspace": workspace.name},
        _(
            "%(who)s invited you to join %(workspace)s as %(role)s.\n\n"
            "Open this link within %(days)s days to accept:\n%(link)s\n"
        )
        % {
            "who": request.user,
            "workspace": workspace.name,
            "role": invite.get_role_display(),
            "days": settings.INVITE_VALID_DAYS,
            "link": link,
        },
        None,
        [email],
    )
    audit(workspace, request.user, "member.invited", email, role=role)
    if replaces:
        messages.success(
            request,
            _("A new invitation was sent to %(email)s; the earlier link no longer works.")
            % {"email": email},
        )
    else:
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": email})
    return redirect("members")


@member_required
@require_POST
def revoke_invite(request, invite_id: int):
    invite = get_object_or_404(Invite.objects.pending(), pk=invite_id, workspace=request.workspace)
    require_admin(request)
    invite.revoked_at = timezone.now()
    invite.save(update_fields=["revoked_at"])
    audit(request.workspace, request.user, "member.invite_revoked", invite.email)
    messages.success(
        request, _("The invitation to %(email)s was withdrawn.") % {"email": invite.email}
    )
    return redirect("members")


def _last_admin(membership: Membership) -> bool:
    return (
        membership.is_admin
        and Membership.objects.filter(
            workspace=membership.workspace, role=Membership.Role.ADMIN
        ).count()
        == 1
    )


@member_required
@require_POST
def change_role(request, membership_id: int):
    membership = get_object_or_404(Membership, pk=membership_id, workspace=request.workspace)
    require_admin(request)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose admin or member."))
        return redirect("members")
    role = form.cleaned_data["role"]
    if role != Membership.Role.ADMIN and _last_admin(membership):
        messages.error(
            request, _("A workspace needs at least one admin. Make someone else admin first.")
        )
        return redirect("members")
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit(
        request.workspace,
        request.user,
        "member.role_changed",
        membership.user.email,
        old=old,
        new=role,
    )
    messages.success(
        request,
        _("%(who)s is now %(role)s.")
        % {"who": membership.user, "role": membership.get_role_display()},
    )
    return redirect("members")


@member_required
@require_POST
def remove_member(request, membership_id: int):
    membership = get_object_or_404(Membership, pk=membership_id, workspace=request.workspace)
    require_admin(request)
    if _last_admin(membership):
        messages.error(
            request, _("A workspace needs at least one admin. Make someone else admin first.")
        )
        return redirect("members")
    membership.delete()
    audit(request.workspace, request.user, "member.removed", membership.user.email)
    messages.success(
        request, _("%(who)s was removed from the workspace.") % {"who": membership.user}
    )
    return redirect("members")


@member_required
@require_POST
def switch_workspace(request):
    membership = Membership.objects.filter(
        user=request.user, workspace_id=request.POST.get("workspace")
    ).first()
    if membership is None:
        raise Http404
    request.session[SESSION_KEY] = membership.workspace_id
    return redirect("home")


@transaction.atomic
def accept_invite(request, token: str):
    invite = Invite.find(token)
    if invite is None or not invite.usable:
        return render(
            request,
            "accounts/invite_invalid.html",
            {"invite": invite},
            status=410 if invite else 404,
        )
    existing = User.objects.filter(email__iexact=invite.email).first()
    if request.user.is_authenticated:
        if request.user.email.lower() != invite.email:
            return render(
                request, "accounts/invite_wrong_user.html", {"invite": invite}, status=403
            )
        invite.accept(request.user)
        request.session[SESSION_KEY] = invite.workspace_id
        messages.success(request, _("Welcome to %(workspace)s.") % {"workspace": invite.workspace})
        return redirect("home")
    if existing is not None:
        # They already have an account: sign in first, then this link finishes the job.
        messages.info(
            request, _("Sign in as %(email)s to accept the invitation.") % {"email": invite.email}
        )
        return redirect(f"{settings.LOGIN_URL}?next={request.path}")
    form = AcceptInviteForm(request.POST or None, email=invite.email)
    if request.method == "POST" and form.is_valid():
        user = User.objects.create_user(
            invite.email, form.cleaned_data["password1"], first_name=form.cleaned_data["first_name"]
        )
        invite.accept(user)
        audit(invite.workspace, user, "member.joined", user.email, role=invite.role)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        request.session[SESSION_KEY] = invite.workspace_id
        messages.success(request, _("Welcome to %(workspace)s.") % {"workspace": invite.workspace})
        return redirect("home")
    return render(request, "accounts/accept_invite.html", {"invite": invite, "form": form})
