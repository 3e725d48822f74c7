from django import forms


class ProblemForm(forms.Form):
    problem = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), label="Research problem")
    constraints = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}),
                                  help_text="Optional: data, budget or methods to use or avoid.")
    n = forms.IntegerField(min_value=1, max_value=10, initial=5, label="Ideas")
