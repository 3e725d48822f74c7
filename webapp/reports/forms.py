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
        elif not (data.get("problem", "").strip() and data.get("method", "").strip()):
            raise forms.ValidationError("Give at least the problem and the method (split your free text first).")
        return data
