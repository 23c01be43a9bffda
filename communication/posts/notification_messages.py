"""The posts' notifications (klimop.notifications.messages): rendered in the reader's language."""

from django.utils.translation import gettext_lazy as _

from klimop.notifications.messages import register_message

register_message(
    "post.published_group",
    title=_("New post for group %(group)s"),
    body="%(title)s",
    example={"group": "5a", "title": "Our trip to the zoo"},
)
register_message(
    "post.published_school",
    title=_("New post from %(school)s"),
    body="%(title)s",
    example={"school": "De Klimop", "title": "Sports day"},
)
register_message(
    "post.rhythm",
    title=_("A gentle reminder: this week's atmosphere post"),
    body=_(
        "Group %(group)s has had %(count)s of %(quota)s atmosphere posts this week. "
        "A short post with a photo or two is enough."
    ),
    example={"group": "5a", "count": 0, "quota": 1},
)
