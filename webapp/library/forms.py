"""Input parsing for the library's forms."""
from django import forms

from webapp.library.models import DigestSettings


class SaveForm(forms.Form):
    paper = forms.IntegerField(min_value=1)
    collection = forms.IntegerField(min_value=1, required=False)
    new_name = forms.CharField(max_length=100, required=False)


class ImportForm(forms.Form):
    file = forms.FileField(help_text="BibTeX (.bib) or RIS (.ris)")
    name = forms.CharField(max_length=100, required=False, help_text="default: the file's name")


class IdeaForm(forms.Form):
    title = forms.CharField(max_length=200, required=False, help_text="default: the problem's first words")
    problem = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    method = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    findings = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Expected findings")


class FrequencyForm(forms.ModelForm):
    class Meta:
        model = DigestSettings
        fields = ["frequency"]
        widgets = {"frequency": forms.RadioSelect}
