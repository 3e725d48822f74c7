from django.contrib import admin

from webapp.papers.models import Paper


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
    list_display = ("title", "year", "venue", "doi", "arxiv_id", "indexed_at")
    list_filter = ("year", "venue")
    search_fields = ("title", "doi", "arxiv_id", "fingerprint")
    readonly_fields = ("fingerprint", "created_at", "updated_at", "indexed_hash", "indexed_at", "segmentation")
