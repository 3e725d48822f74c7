from django.contrib import admin

from webapp.feeds.models import Feed, FeedFile, Harvest


@admin.register(Feed)
class FeedAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "owner", "kind", "query", "enabled", "interval_hours", "next_run_at", "last_run",
                    "last_status", "last_counts", "last_error")
    list_filter = ("kind", "enabled")
    search_fields = ("name", "query", "owner__username")
    readonly_fields = ("cursor", "failures", "created_at")

    @admin.display(description="last run")
    def last_run(self, feed):
        harvest = feed.last_harvest()
        return harvest.created_at if harvest else None

    @admin.display(description="status")
    def last_status(self, feed):
        harvest = feed.last_harvest()
        return harvest.get_status_display() if harvest else "never run"

    @admin.display(description="fetched / new / known / failed")
    def last_counts(self, feed):
        harvest = feed.last_harvest()
        if not harvest:
            return ""
        counts = harvest.import_counts()
        return f"{harvest.fetched} / {counts['created']} / {counts['skipped'] + counts['updated']} / {counts['failed']}"

    @admin.display(description="error")
    def last_error(self, feed):
        harvest = feed.last_harvest()
        return harvest.error[:200] if harvest else ""


@admin.register(Harvest)
class HarvestAdmin(admin.ModelAdmin):
    list_display = ("id", "feed", "status", "stage", "since", "pages", "fetched", "ignored", "files", "created_at",
                    "finished_at", "error")
    list_filter = ("status",)
    search_fields = ("feed__name",)
    readonly_fields = ("claim", "heartbeat", "attempts", "path", "file_bytes", "imports", "created_at", "started_at",
                       "finished_at")


@admin.register(FeedFile)
class FeedFileAdmin(admin.ModelAdmin):
    list_display = ("id", "feed", "relative", "size", "sha256", "import_job", "seen_at")
    search_fields = ("relative", "sha256")
