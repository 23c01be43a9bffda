"""`make bench`: the production settings, served by the bench's own gunicorn on loopback.

Only the URLconf differs: ``tests/bench/urls.py`` is Klimop's URLconf plus the two baseline
views the measurements are compared with. Everything else (database, cache, broker, mail
server, secret key, hosts) comes from the environment the bench sets, as in production.
"""

from .production import *  # noqa: F403

ROOT_URLCONF = "tests.bench.urls"
