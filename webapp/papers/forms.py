"""Input parsing for the search, paper and map pages: every view validates through one of these."""
from django import forms

ASPECT_CHOICES = [("all", "All aspects"), ("problem", "Problem"), ("method", "Method"), ("findings", "Findings")]
SORT_CHOICES = [("relevance", "Relevance"), ("newest", "Newest first")]
SPACE_CHOICES = [("paper", "Whole paper"), ("problem", "Problem"), ("method", "Method"), ("findings", "Findings")]


class SearchForm(forms.Form):
    """The search lives in the URL (`/?q=...&aspect=method`), so a search can be shared."""

    q = forms.CharField(required=False, max_length=500, label="Query", strip=True)
    aspect = forms.ChoiceField(choices=ASPECT_CHOICES, required=False, initial="all", widget=forms.RadioSelect)
    year_min = forms.IntegerField(required=False, min_value=1000, max_value=2100, label="From year")
    year_max = forms.IntegerField(required=False, min_value=1000, max_value=2100, label="To year")
    venue = forms.CharField(required=False, max_length=300, strip=True)
    page = forms.IntegerField(required=False, min_value=1, max_value=500)
    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False, initial="relevance")

    def __init__(self, data=None, **kwargs):
        if data is not None and not data.get("aspect"):
            data = data.copy()
            data["aspect"] = "all"  # a shared link with only ?q= still shows the aspect chosen
        super().__init__(data, **kwargs)

    def clean(self):
        data = super().clean()
        lo, hi = data.get("year_min"), data.get("year_max")
        if lo and hi and lo > hi:
            self.add_error("year_max", "must not be before the first year")
        return data


class MapForm(forms.Form):
    space = forms.ChoiceField(choices=SPACE_CHOICES, required=False)
    q = forms.CharField(required=False, max_length=500, strip=True)
    paper = forms.IntegerField(required=False, min_value=1)
    report = forms.IntegerField(required=False, min_value=1)  # place a novelty report's idea

    def clean_space(self):
        return self.cleaned_data["space"] or "paper"
