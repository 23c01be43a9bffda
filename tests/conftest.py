"""The fixed cast of the test suite: one school, two groups, named roles (docs/architecture.md).

school: group 5a (teacher + duo_teacher), group 6b (other_teacher).
child (5a): parent and divorced_parent (both gezag), step_parent (no consent → NONE),
            info_parent (without gezag, ON_REQUEST). barred_child (6b): barred_parent.
other_school: other_director, other_group.
"""

import datetime as dt
from io import StringIO

import pytest
from hypothesis import settings as hypothesis_settings

from klimop.models import GuardianRelation, StaffMember
from klimop.worktime import AMSTERDAM
from tests import factories as f

Kind = GuardianRelation.Kind
Access = GuardianRelation.Access

# Property tests (hypothesis) try the same examples on every run and keep no example
# database: a run is repeatable, and a red CI is never a new random draw.
hypothesis_settings.register_profile("klimop", derandomize=True, database=None, deadline=None)
hypothesis_settings.load_profile("klimop")


#: The test files that take longest on one worker (measured with --durations), longest first.
#: ``make test`` hands out whole files to its two workers in collection order
#: (``--dist loadfile --no-loadscope-reorder``, tests/run.py); starting these first keeps a
#: long file from being the last one left, with the other worker idle.
LONGEST_FILES = (
    "test_demo_school.py",
    "test_accessibility_browser.py",
    "test_url_policy.py",
    "test_url_policy_ids.py",
    "test_url_policy_posts.py",
    "test_admin_csp_browser.py",
    "test_mail_outbox.py",
    "test_faults_worker.py",
    "test_demo_school_build.py",
    "test_absences_browser.py",
    "test_browser.py",
    "test_quality.py",
    "test_posts_browser.py",
    "test_faults_beat.py",
    "test_celery.py",
    "test_chats_browser.py",
    "test_mail_faults.py",
    "test_login_ownership_browser.py",
    "test_security_headers.py",
)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """After pytest-randomly's shuffle: the longest files first, the rest in random order."""
    rank = {name: i for i, name in enumerate(LONGEST_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright launches Debian's Chromium (tests/browser.py)."""
    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def browser(request, browser, browser_type, browser_type_launch_args):
    """The session's browser (Chromium's headless build, tests/browser.py); for a test marked
    ``full_browser``, the full Chromium, launched for that test (push messages shown by a service
    worker exist only there)."""
    from tests.browser import FULL_CHROMIUM

    if (
        request.node.get_closest_marker("full_browser") is None
        or browser_type_launch_args.get("executable_path") == FULL_CHROMIUM
    ):
        yield browser
        return
    full = browser_type.launch(**{**browser_type_launch_args, "executable_path": FULL_CHROMIUM})
    try:
        yield full
    finally:
        full.close()


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """Pages are seen as a Dutch parent sees them: dates and times in the browser's own
    widgets (date and time inputs) in Dutch, on the Amsterdam clock."""
    return {**browser_context_args, "locale": "nl-NL", "timezone_id": "Europe/Amsterdam"}


@pytest.fixture(autouse=True)
def _no_content_security_policy_violations(request):
    """Every browser test also proves the Content-Security-Policy breaks nothing: a page that
    tries inline script or style (which the policy refuses) fails the test. Chromium reports
    each refusal on the page's console; every page the test opens is watched."""
    if "browser" not in request.fixturenames and "page" not in request.fixturenames:
        yield
        return
    browser = request.getfixturevalue("browser")
    violations = []

    def watch(page):
        page.on(
            "console",
            lambda message: (
                violations.append(f"{page.url}: {message.text}")
                if "Content Security Policy" in message.text
                else None
            ),
        )

    new_page, new_context = browser.new_page, browser.new_context

    def watched_page(*args, **kwargs):
        page = new_page(*args, **kwargs)
        watch(page)
        return page

    def watched_context(*args, **kwargs):
        context = new_context(*args, **kwargs)
        context.on("page", watch)
        return context

    browser.new_page, browser.new_context = watched_page, watched_context
    try:
        yield
    finally:
        del browser.new_page, browser.new_context
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """allauth keeps login rate limits in the cache: one test's failed logins from 127.0.0.1
    must not lock out the next test's user in the same worker process."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in Dutch, the default. Django's LocaleMiddleware activates a user's
    language for the thread and never deactivates it, so after a request by an English-speaking
    user, code rendered outside a request (e-mails, tasks) would otherwise speak English."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(scope="session", autouse=True)
def _flush_by_delete():
    """Empty the tables after a transactional test (the browser tests' live server, the real
    Celery worker, the concurrency tests) with DELETE instead of TRUNCATE.

    Django flushes with one TRUNCATE of every table: on PostgreSQL that gives each of some
    sixty tables new files and costs about two seconds, after every such test. A test leaves a
    handful of rows; deleting them takes some 30 ms. The foreign keys are checked at the end of
    the flush's transaction (Django declares them deferrable), when every table is empty. The
    result is the same empty database, sequences included (Django's flush does not reset them
    either); a flush that asks for more (``reset_sequences``, ``allow_cascade``) keeps Django's.
    Content types and permissions stay: they describe the models, not a test's data, and the
    flush's ``post_migrate`` would only write the same rows again (some 400 inserts)."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or allow_cascade or not tables:
            return truncate(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        emptied = [t for t in tables if t not in {"django_content_type", "auth_permission"}]
        deletes = [f"DELETE FROM {self.quote_name(t)}" for t in emptied]  # noqa: S608 - table names
        return ["SET CONSTRAINTS ALL DEFERRED", *deletes]

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = truncate


@pytest.fixture(autouse=True)
def _broker_breaker_closed():
    """The broker's circuit breaker (klimop/queue.py) lives in the process: a test that finds
    the broker down opens it for half a minute, and the next test in this worker process must
    not find its enqueues skipped."""
    from klimop import queue

    queue.breaker.reset()
    yield
    queue.breaker.reset()


@pytest.fixture(autouse=True)
def _celery_join_flag():
    """Eager tasks run inside Celery's ``denied_join_result()``, which saves and restores a
    *process-wide* flag. Two threads running eager tasks at once (the concurrency tests) can
    leave it stuck at True, and every later ``.get()`` in that worker process would fail with
    "Never call result.get() within a task". A real worker never shares that flag this way."""
    from celery._state import _set_task_join_will_block

    yield
    _set_task_join_will_block(False)


#: The demo school's day in the tests: a Monday in school year 2026/2027, during school hours.
#: The demo is built, and the tests that read it run, on this clock, never on the real one.
DEMO_DAY = dt.date(2026, 11, 23)
DEMO_BUILT_AT = dt.datetime(2026, 11, 23, 10, 0, tzinfo=AMSTERDAM)


@pytest.fixture(scope="module")
def demo_built(django_db_setup, django_db_blocker):
    """The whole demo school (``manage.py demo_school``), built once per test module that
    reads it; the value is the command's output.

    Building it takes seconds, and the modules that only read it (test_demo_school,
    test_security_headers, the cross-school tests) used to build it for every test. Here it is
    built inside a transaction that stays open for the module and is rolled back after the
    module's last test, so nothing of it reaches another module. Each test of the module
    still gets pytest-django's ``db`` atomic block, now a savepoint inside that transaction:
    whatever a test writes (a login, a booking, a rebuild) is rolled back before the next
    test, so tests cannot affect each other, in any order.

    Once per module rather than once per session: the open transaction must not outlive the
    module, because other modules count rows in an empty database, and the live-server
    (transactional) tests flush every table. With ``--dist loadfile`` a module runs whole on
    one xdist worker, each with its own database.

    The build's on-commit callbacks are dropped, as they always were (a test's transaction
    never commits). Its photos stay in the in-memory file storage of this process; a test
    that deletes demo files must build its own demo (tests/test_demo_school_build.py).
    """
    import time_machine
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import translation

    out = StringIO()
    with django_db_blocker.unblock():
        module_transaction = transaction.atomic()
        module_transaction.__enter__()
        try:
            with time_machine.travel(DEMO_BUILT_AT, tick=False), translation.override(settings.LANGUAGE_CODE):
                call_command("demo_school", date=DEMO_DAY, stdout=out)
            connection.run_on_commit.clear()
            # The build's foreign keys are checked here, once, as a commit would. Left pending,
            # they were checked again at the end of every test of the module (Django's test
            # teardown checks the deferred constraints inside the test's savepoint, whose
            # rollback hands them back): some 0.16 s per test, 10 s per module.
            connection.check_constraints()
        except BaseException:
            transaction.set_rollback(True)
            module_transaction.__exit__(None, None, None)
            raise
    try:
        yield out.getvalue()
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            module_transaction.__exit__(None, None, None)


@pytest.fixture
def school(db):
    return f.SchoolFactory(name="Basisschool Het Testveld", slug="testveld")


@pytest.fixture
def school_year(school):
    return f.SchoolYearFactory(school=school)


@pytest.fixture
def group(school_year):
    return f.GroupFactory(school_year=school_year, name="5a", year=5)


@pytest.fixture
def other_group(school_year):
    return f.GroupFactory(school_year=school_year, name="6b", year=6)


@pytest.fixture
def teacher(school, group):
    return f.StaffMemberFactory(
        school=school,
        groups=[group],
        user__email="teacher@example.test",
        works_thursday=False,
        works_friday=False,
    )


@pytest.fixture
def duo_teacher(school, group):
    return f.StaffMemberFactory(
        school=school,
        groups=[group],
        user__email="duo@example.test",
        works_monday=False,
        works_tuesday=False,
        works_wednesday=False,
    )


@pytest.fixture
def other_teacher(school, other_group):
    return f.StaffMemberFactory(school=school, groups=[other_group], user__email="other@example.test")


@pytest.fixture
def director(school):
    return f.StaffMemberFactory(
        school=school, role=StaffMember.Role.DIRECTOR, user__email="director@example.test"
    )


@pytest.fixture
def office(school):
    return f.StaffMemberFactory(
        school=school, role=StaffMember.Role.OFFICE, user__email="office@example.test"
    )


@pytest.fixture
def child(group):
    return f.PupilFactory(group=group, first_name="Noor", last_name="Testkind")


@pytest.fixture
def barred_child(other_group):
    return f.PupilFactory(group=other_group, first_name="Sem", last_name="Testkind")


def _guardian(pupil, email, kind=Kind.PARENT_WITH_AUTHORITY, access=Access.FULL):
    relation = f.GuardianRelationFactory(pupil=pupil, guardian__user__email=email, kind=kind, access=access)
    return relation.guardian


@pytest.fixture
def parent(child):
    return _guardian(child, "parent@example.test")


@pytest.fixture
def divorced_parent(child):
    return _guardian(child, "divorced@example.test")


@pytest.fixture
def step_parent(child):
    return _guardian(child, "step@example.test", Kind.STEP_PARENT, Access.NONE)


@pytest.fixture
def info_parent(child):
    return _guardian(child, "info@example.test", Kind.PARENT_WITHOUT_AUTHORITY, Access.ON_REQUEST)


@pytest.fixture
def barred_parent(barred_child):
    return _guardian(barred_child, "barred@example.test", Kind.PARENT_WITH_AUTHORITY, Access.BARRED)


@pytest.fixture
def other_school(db):
    return f.SchoolFactory(name="Basisschool Elders", slug="elders")


@pytest.fixture
def other_group_elsewhere(other_school):
    year = f.SchoolYearFactory(school=other_school)
    return f.GroupFactory(school_year=year, name="5a", year=5)


@pytest.fixture
def other_director(other_school):
    return f.StaffMemberFactory(
        school=other_school, role=StaffMember.Role.DIRECTOR, user__email="elders@example.test"
    )
