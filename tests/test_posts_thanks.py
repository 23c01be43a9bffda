"""Parents say thank you for a post (issue 14, point 4), and the photo viewer's markup (point 3):
who may thank, who sees the count (never a list of names), the school's switch, double
submits, HTMX and plain posts; photos as links with a sensible description."""

import datetime as dt
import io

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from PIL import Image

from communication.posts import selectors, services
from communication.posts.models import PostSettings, PostThanks
from klimop.worktime import AMSTERDAM

TUESDAY_MORNING = dt.datetime(2026, 11, 24, 10, 0, tzinfo=AMSTERDAM)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def at_work():
    with time_machine.travel(TUESDAY_MORNING, tick=False) as traveller:
        yield traveller


def _jpeg(color=(200, 120, 40)):
    out = io.BytesIO()
    Image.new("RGB", (640, 480), color).save(out, format="JPEG")
    return SimpleUploadedFile("foto.jpg", out.getvalue(), content_type="image/jpeg")


@pytest.fixture
def post(teacher, group):
    return services.post_create(actor=teacher.user, group=group, title="Herfstwandeling", body="In het bos.")


def _thank(client, post, thanked="1", **headers):
    return client.post(
        reverse("posts:post_thank", args=[post.pk]), {"thanked": thanked, "next": "/berichten/"}, **headers
    )


class TestWhoMayThank:
    def test_a_parent_thanks_once_however_often_they_tap(self, client, post, parent):
        client.force_login(parent.user)
        for _ in range(3):
            response = _thank(client, post)
            assert response.status_code == 302
            assert response["Location"] == f"/berichten/#post-{post.pk}"
        assert PostThanks.objects.filter(post=post).count() == 1
        # Taking it back is as idempotent.
        _thank(client, post, "0")
        _thank(client, post, "0")
        assert not PostThanks.objects.exists()

    def test_the_database_allows_one_thank_you_per_person(self, post, parent):
        PostThanks.objects.create(post=post, user=parent.user)
        with pytest.raises(IntegrityError), transaction.atomic():
            PostThanks.objects.create(post=post, user=parent.user)

    def test_people_who_may_not_read_the_post_cannot_thank_it(
        self, client, post, barred_parent, step_parent, other_director
    ):
        for who in (barred_parent, step_parent, other_director):
            client.force_login(who.user)
            assert _thank(client, post).status_code in (403, 404)
        assert not PostThanks.objects.exists()

    def test_staff_see_the_count_and_do_not_thank(self, post, teacher, duo_teacher, director):
        for who in (teacher, duo_teacher, director):
            assert services.may_see_statistics(who.user, post)
            with pytest.raises(PermissionDenied):
                services.post_thank(actor=who.user, post=post)

    def test_a_post_not_yet_published_cannot_be_thanked(self, teacher, group, parent, at_work):
        at_work.move_to(dt.datetime(2026, 11, 24, 21, 0, tzinfo=AMSTERDAM))
        held = services.post_create(actor=teacher.user, group=group, title="Later", body="Morgen")
        with pytest.raises(PermissionDenied):
            services.post_thank(actor=parent.user, post=held)

    def test_a_get_is_refused(self, client, post, parent):
        client.force_login(parent.user)
        assert client.get(reverse("posts:post_thank", args=[post.pk])).status_code == 405


class TestWhatPeopleSee:
    def test_the_parent_sees_the_toggle_and_their_own_state_but_no_count(
        self, client, post, parent, divorced_parent
    ):
        services.post_thank(actor=divorced_parent.user, post=post)
        client.force_login(parent.user)
        html = client.get(reverse("posts:timeline")).content.decode()
        assert 'aria-pressed="false"' in html
        assert ">Bedankt<" in html
        assert "zei bedankt" not in html
        assert "zeiden bedankt" not in html
        _thank(client, post)
        html = client.get(reverse("posts:post_detail", args=[post.pk])).content.decode()
        assert 'aria-pressed="true"' in html
        assert "U hebt bedankt" in html
        assert "divorced" not in html

    def test_the_author_and_the_groups_staff_see_how_many_parents_not_who(
        self, client, post, parent, divorced_parent, teacher, duo_teacher
    ):
        services.post_thank(actor=parent.user, post=post)
        services.post_thank(actor=divorced_parent.user, post=post)
        client.force_login(teacher.user)
        mine = client.get(reverse("posts:my_posts")).content.decode()
        assert "2 ouders zeiden bedankt" in mine
        client.force_login(duo_teacher.user)
        detail = client.get(reverse("posts:post_detail", args=[post.pk])).content.decode()
        assert "2 ouders zeiden bedankt" in detail
        assert parent.user.email not in detail
        assert parent.user.first_name not in detail
        assert 'name="thanked"' not in detail

    def test_htmx_gets_the_button_alone(self, client, post, parent):
        client.force_login(parent.user)
        response = _thank(client, post, HTTP_HX_REQUEST="true")
        html = response.content.decode()
        assert response.status_code == 200
        assert html.lstrip().startswith('<form class="thanks"')
        assert 'aria-pressed="true"' in html
        assert 'name="thanked" value="0"' in html
        assert "<html" not in html

    def test_a_foreign_next_address_is_not_followed(self, client, post, parent):
        client.force_login(parent.user)
        response = client.post(
            reverse("posts:post_thank", args=[post.pk]), {"thanked": "1", "next": "https://evil.example/"}
        )
        assert response["Location"] == reverse("posts:post_detail", args=[post.pk]) + f"#post-{post.pk}"


class TestTheSchoolsSwitch:
    def test_off_means_no_button_and_a_refused_post(self, client, post, parent, school, teacher):
        PostSettings.objects.create(school=school, parents_may_thank=False)
        client.force_login(parent.user)
        html = client.get(reverse("posts:timeline")).content.decode()
        assert 'name="thanked"' not in html
        assert _thank(client, post).status_code == 403
        assert not PostThanks.objects.exists()
        client.force_login(teacher.user)
        assert "bedankt" not in client.get(reverse("posts:my_posts")).content.decode()

    def test_the_default_is_on_without_a_row(self, school, post, parent):
        assert not PostSettings.objects.filter(school=school).exists()
        assert services.post_settings_for(school).parents_may_thank
        assert services.may_thank(parent.user, post)

    def test_the_switch_is_on_the_schools_admin_page(self, client, director, school):
        client.force_login(director.user)
        html = client.get(reverse("admin:klimop_school_change", args=[school.pk])).content.decode()
        assert "parents_may_thank" in html

    def test_the_timeline_query_count_does_not_grow_with_thanks(
        self, client, teacher, group, parent, divorced_parent, django_assert_max_num_queries
    ):
        client.force_login(parent.user)
        services.post_create(actor=teacher.user, group=group, title="Een", body="b")
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as small:
            client.get(reverse("posts:timeline"))
        for i in range(5):
            p = services.post_create(actor=teacher.user, group=group, title=f"Bericht {i}", body="b")
            services.post_thank(actor=divorced_parent.user, post=p)
        with CaptureQueriesContext(connection) as large:
            client.get(reverse("posts:timeline"))
        assert len(small) == len(large)


class TestPhotoViewerMarkup:
    def test_photos_are_links_to_the_checked_photo_with_a_description(self, client, teacher, group, parent):
        post = services.post_create(
            actor=teacher.user,
            group=group,
            title="Herfstwandeling",
            body="b",
            photos=[_jpeg(), _jpeg((10, 10, 200))],
            consent_confirmed=True,
        )
        first, second = post.photos.order_by("position")
        second.alt_text = "Twee kinderen met een blad"
        second.save()
        client.force_login(parent.user)
        html = client.get(reverse("posts:timeline")).content.decode()
        assert f'href="{reverse("posts:post_photo", args=[first.pk])}"' in html
        assert 'alt="Foto 1 bij ‘Herfstwandeling’"' in html
        assert 'alt="Twee kinderen met een blad"' in html
        assert "<dialog" in html
        assert 'aria-label="Volgende foto"' in html
        assert "photo-viewer.js" in html
        assert 'target="_blank"' not in html.split('class="post__photos')[1].split("</ul>")[0]

    def test_the_viewer_is_on_the_parents_home_too(self, client, post, parent):
        client.force_login(parent.user)
        assert "photo-viewer.js" in client.get(reverse("home")).content.decode()

    def test_selectors_give_parents_no_names(self, post, parent, divorced_parent):
        services.post_thank(actor=divorced_parent.user, post=post)
        row = selectors.timeline_for(viewer=parent.user).get(pk=post.pk)
        assert row.may_thank
        assert not row.sees_thanks
        assert not row.is_thanked
