from django.urls import path

from webapp.site import views

urlpatterns = [
    path("map/", views.map_page, name="map"),
    path("healthz", views.healthz, name="healthz"),
]
