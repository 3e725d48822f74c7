from django.contrib import admin
from django.urls import include, path

from webapp.api.api import api_urls

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("webapp.accounts.urls")),  # before Django's auth URLs: its password reset replaces theirs
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", api_urls()),
    path("", include("webapp.papers.urls")),
    path("", include("webapp.imports.urls")),
    path("", include("webapp.reports.urls")),
    path("", include("webapp.ideas.urls")),
    path("", include("webapp.maps.urls")),
    path("", include("webapp.library.urls")),
    path("", include("webapp.feeds.urls")),
    path("", include("webapp.site.urls")),
]
