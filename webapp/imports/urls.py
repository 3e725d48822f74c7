from django.urls import path

from webapp.imports import views

urlpatterns = [
    path("imports/", views.import_list, name="imports"),
    path("imports/new", views.import_new, name="import-new"),
    path("imports/<int:job_id>/", views.import_detail, name="import-detail"),
    path("imports/<int:job_id>/progress", views.import_progress, name="import-progress"),
    path("imports/activity", views.site_activity, name="site-activity"),
]
