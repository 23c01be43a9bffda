"""Browser push in a real browser (Debian's Chromium via Playwright): the card on the
notifications page, the service worker's scope, and a pushed message shown by it."""

import json

import pytest

from klimop.notifications.management.commands.webpush_keys import generate_vapid_keys
from tests.browser import HAS_CHROMIUM, PHONE, log_in, shot, verified

pytestmark = [pytest.mark.browser, pytest.mark.full_browser, pytest.mark.django_db(transaction=True)]

if not HAS_CHROMIUM:  # pragma: no cover - depends on the machine
    pytest.skip("Debian's Chromium is not installed (apt-get install chromium)", allow_module_level=True)


#: The service worker's scope and state, once it has finished activating (checked every 50 ms,
#: for at most 20 s).
ACTIVATED = """async () => {
    const registration = await navigator.serviceWorker.ready;
    for (let i = 0; i < 400 && registration.active.state !== "activated"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return [registration.scope, registration.active.state];
}"""

#: The notifications the service worker shows, once there is one (checked every 50 ms, for at
#: most 20 s; an empty list after that).
SHOWN_NOTIFICATIONS = """async () => {
    const registration = await navigator.serviceWorker.ready;
    for (let i = 0; i < 400; i++) {
        const shown = await registration.getNotifications();
        if (shown.length > 0) {
            return shown.map((n) => ({title: n.title, body: n.body, url: n.data.url}));
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return [];
}"""


@pytest.fixture
def vapid(settings):
    public, private = generate_vapid_keys()
    settings.WEBPUSH_VAPID_PUBLIC_KEY, settings.WEBPUSH_VAPID_PRIVATE_KEY = public, private


def test_a_parent_sees_the_push_card_and_a_pushed_message_is_shown(page, context, live_server, parent, vapid):
    context.grant_permissions(["notifications"], origin=live_server.url)
    page.set_viewport_size(PHONE)
    log_in(page, live_server, verified(parent.user))
    cdp = context.new_cdp_session(page)
    registrations = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"])
    )
    cdp.send("ServiceWorker.enable")
    page.goto(f"{live_server.url}/meldingen/")
    card = page.locator("#push-card")
    card.get_by_text("Meldingen staan uit op dit apparaat.").wait_for()
    assert card.get_by_role("heading", name="Meldingen op dit apparaat").is_visible()
    assert card.get_by_role("button", name="Aanzetten").is_enabled()
    shot(page, "push-card-phone")
    # The service worker at /sw.js covers the whole site, not only /static/. The push goes to a
    # worker that has finished activating: ``ready`` answers while it still activates (its
    # clients.claim()). Twice in full runs on a busy machine the pushed message was never shown
    # (20 s of waiting); a push delivered to a worker still activating is the likely cause, and
    # what a real push service would only send to an activated one anyway.
    scope, state = page.evaluate(ACTIVATED)
    assert scope == f"{live_server.url}/"
    assert state == "activated"

    for _ in range(200):  # the registration events arrive asynchronously (at most 20 s)
        if registrations:
            break
        page.wait_for_timeout(100)
    registration_id = next(
        r["registrationId"] for r in registrations if r["scopeURL"] == scope and not r["isDeleted"]
    )
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": live_server.url,
            "registrationId": registration_id,
            "data": json.dumps(
                {
                    "title": "Nieuw bericht in groep 5a",
                    "body": "Morgen gym",
                    "url": "/berichten/",
                    "tag": "klimop-1",
                }
            ),
        },
    )
    # The service worker shows it when its push event has run: wait in the page until it is
    # there. (Not page.wait_for_function: it takes a returned Promise as a truthy answer at once,
    # without waiting for it, so on a busy machine it went on before the message was shown.)
    shown = page.evaluate(SHOWN_NOTIFICATIONS)
    # Should it ever fail again, the message says what the browser reported of the worker.
    assert shown == [{"title": "Nieuw bericht in groep 5a", "body": "Morgen gym", "url": "/berichten/"}], (
        f"registrations seen: {registrations}; pushed to {registration_id}"
    )
