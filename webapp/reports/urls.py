from django.urls import path, re_path

from webapp.reports import views

urlpatterns = [
    path("reports/", views.report_list, name="reports"),
    path("reports/new", views.report_new, name="report-new"),
    path("reports/<int:report_id>/", views.report_detail, name="report-detail"),
    path("reports/<int:report_id>/progress", views.report_progress, name="report-progress"),
    re_path(r"^reports/(?P<report_id>\d+)/export\.(?P<fmt>md|json|bib)$", views.report_export, name="report-export"),
]
