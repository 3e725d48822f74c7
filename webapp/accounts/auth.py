"""API authentication: a browser session (with its CSRF token on writes) or a bearer token."""
from ninja.security import HttpBearer, SessionAuth

from webapp.accounts import services


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        user = services.token_user(secret=token)
        if user is not None:
            request.user = user  # so the rate limiter and ownership checks see who it is
        return user


AUTH = [TokenAuth(), SessionAuth()]
