"""Input parsing for the browser: every view validates through one of these."""
from django import forms
from django.conf import settings
from django.contrib.auth.forms import UserCreationForm

from discovery.corpus import FORMATS

ASPECT_CHOICES = [("all", "All aspects"), ("problem", "Problem"), ("method", "Method"), ("findings", "Findings")]
SPACE_CHOICES = [("paper", "Whole paper"), ("problem", "Problem"), ("method", "Method"), ("findings", "Findings")]
FORMAT_CHOICES = [("", "Detect from the content")] + [(f, f) for f in FORMATS]


class SearchForm(forms.Form):
    """The search lives in the URL (`/?q=...&aspect=method`), so a search can be shared."""

    q = forms.CharField(required=False, max_length=500, label="Query", strip=True)
    aspect = forms.ChoiceField(choices=ASPECT_CHOICES, required=False, initial="all", widget=forms.RadioSelect)
    year_min = forms.IntegerField(required=False, min_value=1000, max_value=2100, label="From year")
    year_max = forms.IntegerField(required=False, min_value=1000, max_value=2100, label="To year")
    venue = forms.CharField(required=False, max_length=300, strip=True)
    page = forms.IntegerField(required=False, min_value=1, max_value=500)

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


class UploadForm(forms.Form):
    file = forms.FileField(help_text=f"JSON Lines, JSON, CSV, BibTeX, RIS, arXiv or OpenAlex JSON, or "
                                     f"title/abstract text; gzip, bzip2 or xz compressed is fine. "
                                     f"At most {settings.MAX_UPLOAD_MB} MB.")
    format = forms.ChoiceField(choices=FORMAT_CHOICES, required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(f"The file is larger than {settings.MAX_UPLOAD_MB} MB.")
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        return upload


class SignupForm(UserCreationForm):
    email = forms.EmailField(required=False, help_text="Optional; only used to reset a password.")

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")
