from django.contrib.auth import get_user_model

from citadel.accounts.services import api_token_create
from citadel.core.commands import JsonCommand
from citadel.core.errors import NotFound


class Command(JsonCommand):
    help = "Create an API bearer token for a user. The token is printed once, alone on the last line."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="")

    def run(self, *, username, name, **_):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise NotFound(f"No active user named {username!r}.")
        token, secret = api_token_create(user=user, name=name)
        return {"id": token.pk, "username": username, "prefix": token.prefix, "token": secret}

    def render_text(self, result) -> str:
        return f"Token for {result['username']} (shown once, store it now):\n{result['token']}"
