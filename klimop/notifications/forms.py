"""Validates a browser's PushSubscription (its toJSON()) before it is stored."""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives.asymmetric import ec
from django import forms
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _


def _b64url_bytes(value: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None


class PushSubscriptionForm(forms.Form):
    """``endpoint`` (an https URL of the browser's push service) and its two keys."""

    endpoint = forms.CharField(max_length=1000, validators=[URLValidator(schemes=["https"])])
    p256dh = forms.CharField(max_length=200)
    auth = forms.CharField(max_length=100)

    @classmethod
    def from_json(cls, data) -> PushSubscriptionForm:
        keys = data.get("keys") if isinstance(data, dict) else None
        if not isinstance(keys, dict):
            keys = {}
        fields = {
            "endpoint": data.get("endpoint") if isinstance(data, dict) else None,
            "p256dh": keys.get("p256dh"),
            "auth": keys.get("auth"),
        }
        return cls(data={k: v for k, v in fields.items() if isinstance(v, str)})

    def clean_p256dh(self) -> str:
        value = self.cleaned_data["p256dh"]
        raw = _b64url_bytes(value)
        try:
            if raw is None or len(raw) != 65:
                raise ValueError
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        except ValueError:
            raise forms.ValidationError(_("This is not a browser's push key."), code="invalid") from None
        return value

    def clean_auth(self) -> str:
        value = self.cleaned_data["auth"]
        raw = _b64url_bytes(value)
        if raw is None or len(raw) != 16:
            raise forms.ValidationError(_("This is not a browser's push secret."), code="invalid")
        return value


class PushEndpointForm(forms.Form):
    endpoint = forms.CharField(max_length=1000)
