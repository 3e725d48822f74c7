from django.contrib import admin

from webapp.reports.models import NoveltyReport


@admin.register(NoveltyReport)
class NoveltyReportAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "status", "stage", "verdict", "as_of", "created_at", "finished_at")
    list_filter = ("status", "verdict")
    search_fields = ("owner__username", "problem", "method", "text")
    readonly_fields = ("assessment", "rationale", "timings", "claim", "heartbeat", "attempts", "created_at",
                       "started_at", "finished_at", "index_version")
