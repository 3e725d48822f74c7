from django.urls import path, re_path

from webapp.papers import views

urlpatterns = [
    path("", views.home, name="home"),
    path("papers/<int:paper_id>/", views.paper_detail, name="paper"),
    path("papers/<int:paper_id>/bibtex", views.paper_bibtex, name="paper-bibtex"),
    re_path(r"^map/points/(?P<space>paper|problem|method|findings)\.json$", views.map_points, name="map-points"),
]
