from django.urls import path, re_path

from webapp.maps import views

SPACE = r"(?P<space>paper|problem|method|findings)"

urlpatterns = [
    path("map/gaps/", views.gaps_page, name="gaps"),
    path("map/builds/<int:job_id>/progress", views.fieldmap_progress, name="fieldmap-progress"),
    re_path(rf"^map/clusters/{SPACE}\.json$", views.clusters_json, name="map-clusters"),
    re_path(rf"^map/clusters/{SPACE}/(?P<cluster_id>\d+(?:\.\d+)*)\.json$", views.cluster_json, name="map-cluster"),
]
