"""Print a fresh VAPID key pair for browser push, ready to paste into .env."""

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management.base import BaseCommand


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def generate_vapid_keys() -> tuple[str, str]:
    """(public, private): the public key as the browser's applicationServerKey (an
    uncompressed P-256 point), the private key as its raw 32 bytes, both base64url."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64url(public), _b64url(key.private_numbers().private_value.to_bytes(32, "big"))


class Command(BaseCommand):
    help = "Print a new VAPID key pair for browser push (the WEBPUSH_VAPID_* settings)."

    def handle(self, *args, **options):
        public, private = generate_vapid_keys()
        self.stdout.write(f"WEBPUSH_VAPID_PUBLIC_KEY={public}")
        self.stdout.write(f"WEBPUSH_VAPID_PRIVATE_KEY={private}")
        self.stderr.write(
            "# Keep the private key secret. Browsers subscribed with an old pair stop getting "
            "pushes until their users turn push on again."
        )
