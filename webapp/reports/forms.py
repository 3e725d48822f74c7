"""Input parsing for the novelty-report form."""
from django import forms


class IdeaForm(forms.Form):
    text = forms.CharField(required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 4}),
                           label="Your idea in free text", help_text="Split it into the three fields below, then correct them.")
    problem = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    method = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    findings = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                               label="Expected findings")
    as_of = forms.IntegerField(required=False, min_value=1900, max_value=2100, label="As of year",
                               help_text="Only papers published up to this year count as prior work (backtesting).")

    def clean(self):
        data = super().clean()
        if self.data.get("action") == "split":
            if not data.get("text", "").strip():
                self.add_error("text", "Describe the idea to split it.")
        else:
            # A one-sentence idea splits into a problem only; the whole idea then stands for the
            # aspect the split could not tell apart, as the job does with unsplit free text.
            whole = (data.get("text") or data.get("problem") or data.get("method") or "").strip()
            if not whole:
                raise forms.ValidationError("Describe the idea: in free text, or as its problem and method.")
            data["problem"] = data.get("problem", "").strip() or whole
            data["method"] = data.get("method", "").strip() or whole
        return data
