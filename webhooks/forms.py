from __future__ import annotations

from django import forms

from .actions import choosable_kinds


class EndpointForm(forms.Form):
    """Registering an endpoint: the URL, the kinds of event, and optionally a secret of the
    program's own (else one is generated). The service checks the URL (https, public
    addresses) and the kinds; the form checks their shape."""

    url = forms.CharField(label="URL", max_length=2000)
    kinds = forms.MultipleChoiceField(label="Events", choices=())
    secret = forms.CharField(label="Secret (optional)", max_length=120, required=False)
    description = forms.CharField(label="Description", max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = self.fields["kinds"]
        assert isinstance(kinds, forms.MultipleChoiceField)
        kinds.choices = [(k, k) for k in choosable_kinds()]
