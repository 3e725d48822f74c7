"""Input parsing for the feed form; the checks themselves are the service's (feed_check)."""
from django import forms

from webapp.feeds.models import Feed, FeedKind
from webapp.feeds.services import FeedRejected, feed_check

INTERVALS = [(6, "every 6 hours"), (24, "daily"), (168, "weekly")]


class FeedForm(forms.ModelForm):
    interval_hours = forms.TypedChoiceField(choices=INTERVALS, coerce=int, initial=24, label="How often")

    class Meta:
        model = Feed
        fields = ["name", "kind", "query", "openalex_filter", "date_filter", "interval_hours", "since", "enabled"]
        labels = {"query": "Categories, search words or folder", "since": "First harvest from",
                  "openalex_filter": "OpenAlex filter", "date_filter": "OpenAlex date"}
        widgets = {"since": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if not user.is_staff:
            self.fields["kind"].choices = [c for c in FeedKind.choices if c[0] != FeedKind.FOLDER]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        others = Feed.objects.filter(owner=self.instance.owner_id and self.instance.owner or self.user, name=name)
        if others.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("You have a feed of that name already.")
        return name

    def clean(self):
        data = super().clean()
        if {"kind", "query"} <= data.keys():
            try:
                feed_check(kind=data["kind"], query=data["query"], openalex_filter=data.get("openalex_filter", ""),
                           staff=self.user.is_staff)
            except FeedRejected as exc:
                self.add_error("query", str(exc))
        return data
