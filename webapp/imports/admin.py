from django.contrib import admin

from webapp.imports.models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("id", "filename", "owner", "status", "done", "total", "created", "updated", "skipped",
                    "failed", "created_at")
    list_filter = ("status", "format")
    search_fields = ("filename", "owner__username")
    readonly_fields = ("failures", "claim", "heartbeat", "attempts", "created_at", "started_at", "finished_at")
