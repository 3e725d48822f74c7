"""Input parsing for the upload page."""
from django import forms
from django.conf import settings

from discovery.corpus import FORMATS

FORMAT_CHOICES = [("", "Detect from the content")] + [(f, f) for f in FORMATS]


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
