"""API authentication: a browser session (with its CSRF token on writes) or a bearer token
(read-only or read-and-write, with an expiry)."""
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth

from webapp.accounts import services


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        try:
            user = services.token_user(secret=token, method=request.method)
        except services.TokenRefused as exc:
            # A client that sent a token means token auth: falling through to the session check
            # would answer "CSRF check Failed" (403), which says nothing about the real fault.
            raise HttpError(exc.status, str(exc)) from None
        request.user = user  # so the rate limiter and ownership checks see who it is
        return user


AUTH = [TokenAuth(), SessionAuth()]
