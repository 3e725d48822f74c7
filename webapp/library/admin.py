from django.contrib import admin

from webapp.library.models import Collection, Digest, SavedIdea, WatchAlert


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "created_at")
    search_fields = ("name", "owner__username")


@admin.register(SavedIdea)
class SavedIdeaAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "watch", "created_at")
    search_fields = ("title", "owner__username")


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    list_display = ("user", "since", "until", "status", "error", "sent_at")
    list_filter = ("status",)


@admin.register(WatchAlert)
class WatchAlertAdmin(admin.ModelAdmin):
    list_display = ("idea", "aspect", "kind", "before", "after", "index_version", "created_at")
