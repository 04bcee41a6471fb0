"""Sessions in the database, as Django keeps them, with their keys checked before any lookup.

A session key comes from a cookie, and a cookie can carry any text: a quoted one may even spell
a NUL byte (`sessionid="abcdefgh\\000"`), which PostgreSQL refuses as a 500 on every page, before
any view or guard could answer. A key that Django could not have made is no session at all."""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key):
        # Django makes keys of lowercase ASCII letters and digits.
        return super()._validate_session_key(key) and key.isascii() and key.isalnum()
