from django.contrib import admin

from webapp.papers.models import ImportJob, Paper


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
    list_display = ("title", "year", "venue", "doi", "arxiv_id", "indexed_at")
    list_filter = ("year", "venue")
    search_fields = ("title", "doi", "arxiv_id", "fingerprint")
    readonly_fields = ("fingerprint", "created_at", "updated_at", "indexed_hash", "indexed_at", "segmentation")


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("id", "filename", "owner", "status", "done", "total", "created", "updated", "skipped",
                    "failed", "created_at")
    list_filter = ("status", "format")
    search_fields = ("filename", "owner__username")
    readonly_fields = ("failures", "claim", "heartbeat", "attempts", "created_at", "started_at", "finished_at")
