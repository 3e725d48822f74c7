from django.urls import path, re_path

from webapp.ui import views

urlpatterns = [
    path("", views.home, name="home"),
    path("papers/<int:paper_id>/", views.paper_detail, name="paper"),
    path("papers/<int:paper_id>/bibtex", views.paper_bibtex, name="paper-bibtex"),
    path("map/", views.map_page, name="map"),
    re_path(r"^map/points/(?P<space>paper|problem|method|findings)\.json$", views.map_points, name="map-points"),
    path("imports/", views.import_list, name="imports"),
    path("imports/new", views.import_new, name="import-new"),
    path("imports/<int:job_id>/", views.import_detail, name="import-detail"),
    path("imports/<int:job_id>/progress", views.import_progress, name="import-progress"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/tokens/", views.token_list, name="tokens"),
    path("accounts/tokens/new", views.token_create, name="token-create"),
    path("accounts/tokens/<int:token_id>/revoke", views.token_revoke, name="token-revoke"),
    path("healthz", views.healthz, name="healthz"),
]
