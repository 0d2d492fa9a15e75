from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # People join through an admin's invite; open sign-up is an explicit choice.
        return settings.HUB_OPEN_SIGNUP
