"""allauth adapter: Klimop is invitation-only; nobody signs up on their own.

Login rate limits (settings ACCOUNT_RATE_LIMITS["login_failed"]) are counted per real client
(allauth's ALLAUTH_TRUSTED_PROXY_COUNT, from TRUSTED_PROXY_COUNT) and per e-mail address. A
person whose address is limited is told when to try again and that a password reset works
(templates/account/login.html links to it).

allauth's e-mails (address verification, password reset, security notices) are never sent
inside the request: ``send_mail`` renders them and stores them in the outbox
(klimop.notifications.services.email_queue_message), which the e-mail sweep sends after
commit and retries, so a mail server that is down or hanging never turns a login or a
reset into an error.
"""

import math
import time

from allauth.account.adapter import DefaultAccountAdapter
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.translation import ngettext

LIMITED = "too_many_login_attempts"


class InvitationOnlyAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        from allauth.core import context as allauth_context
        from django.contrib.sites.shortcuts import get_current_site

        from klimop.notifications.services import email_queue_message

        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        email_queue_message(self.render_mail(template_prefix, email, ctx), purpose=template_prefix)

    def pre_authenticate(self, request, **credentials) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError as error:
            if getattr(error, "code", None) != LIMITED:
                raise
            minutes = max(1, math.ceil(self._seconds_until_login_allowed(request, **credentials) / 60))
            raise ValidationError(
                ngettext(
                    "Too many failed attempts. Try again in %(minutes)d minute, or choose a new "
                    "password via 'Forgot your password?'.",
                    "Too many failed attempts. Try again in %(minutes)d minutes, or choose a new "
                    "password via 'Forgot your password?'.",
                    minutes,
                )
                % {"minutes": minutes},
                code=LIMITED,
            ) from error

    def _seconds_until_login_allowed(self, request, **credentials) -> float:
        """When the oldest failure that keeps a limit full leaves its window (the longest wait
        over the per-IP and per-address limits that are full). Reads allauth's own cache entries;
        should their shape change, the whole window is the (safe) answer."""
        from allauth.core.internal import ratelimit

        key = self._get_login_attempts_cache_key(request, **credentials)
        now = time.time()
        waits = []
        for rate in ratelimit.get_rates(app="allauth.account", action="login_failed"):
            try:
                cache_key = ratelimit.get_cache_key(
                    request, app="allauth.account", action="login_failed", rate=rate, key=key
                )
                live = [ts for ts in cache.get(cache_key, []) if ts > now - rate.duration]
                if len(live) >= rate.amount:
                    waits.append(sorted(live, reverse=True)[rate.amount - 1] + rate.duration - now)
            except (TypeError, ValueError, AttributeError):
                waits.append(rate.duration)
        return max(waits, default=300)
