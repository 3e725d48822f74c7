from django.contrib import admin

from webapp.ideas.models import IdeaRun


@admin.register(IdeaRun)
class IdeaRunAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "status", "stage", "done", "total", "created_at", "finished_at")
    list_filter = ("status",)
    search_fields = ("owner__username", "problem")
    readonly_fields = ("inspirations", "ideas", "timings", "claim", "heartbeat", "attempts", "created_at",
                       "started_at", "finished_at", "index_version")
