"""`make bench`: Klimop served as in production (gunicorn, PostgreSQL, Redis, Celery), measured.

Not collected by pytest (no ``test_*`` files). ``python -m tests.bench --help`` lists the
options; ``run.py`` is the order of things, ``school.py`` what the bench adds to the demo school,
``client.py`` the bounded load client, ``smtp_sink.py`` the mail server that counts, and
``stats.py`` the percentiles, ratios and verdicts. ``tests/test_bench_tools.py`` checks the tools.
"""
