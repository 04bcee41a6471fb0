"""Seed the demo: organization "acme" (member, reviewer, admin) and "globex" (member), with
passwords "<username>-pass". Safe to run again: existing rows are kept."""

from django.db import transaction

from citadel.accounts.models import Organization
from citadel.accounts.services import organization_create, user_create_or_join
from citadel.core.commands import JsonCommand

DEMO_USERS = {
    "acme": [
        ("acme-member", "member", ["Support"]),
        ("acme-reviewer", "reviewer", ["Support"]),
        ("acme-admin", "admin", ["People Ops"]),
    ],
    "globex": [("globex-member", "member", [])],
}
DEMO_NAMES = {"acme": "Acme Corporation", "globex": "Globex Inc."}


class Command(JsonCommand):
    help = "Create the demo organizations and users (idempotent)."

    @transaction.atomic
    def run(self, **_):
        created = []
        for slug, users in DEMO_USERS.items():
            org = Organization.objects.filter(slug=slug).first() or organization_create(
                slug=slug, name=DEMO_NAMES[slug]
            )
            for username, role, teams in users:
                user_create_or_join(
                    username=username, organization=org, role=role, password=f"{username}-pass", teams=teams
                )
                created.append({"organization": slug, "username": username, "role": role})
        return {"users": created}

    def render_text(self, result) -> str:
        return "Demo users: " + ", ".join(f"{u['username']} ({u['role']}@{u['organization']})" for u in result["users"])
