from django.urls import path

from webapp.accounts import views

urlpatterns = [
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/password_reset/", views.PasswordReset.as_view(), name="password_reset"),
    path("accounts/tokens/", views.token_list, name="tokens"),
    path("accounts/tokens/new", views.token_create, name="token-create"),
    path("accounts/tokens/<int:token_id>/revoke", views.token_revoke, name="token-revoke"),
]
