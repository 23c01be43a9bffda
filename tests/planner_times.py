"""Times of the planner tests (fixtures are in tests/planner_cast.py).

Tuesday 9 February 2027 is the first conversation day; booking opens 14 days earlier
(Tuesday 26 January, 08:00), a day earlier (Monday 25 January) for families with children
in both groups.
"""

import datetime as dt

from klimop.worktime import AMSTERDAM

FIRST_DAY = dt.date(2027, 2, 9)
OPENS = dt.datetime(2027, 1, 26, 8, 0, tzinfo=AMSTERDAM)
SIBLINGS_OPEN = dt.datetime(2027, 1, 25, 8, 0, tzinfo=AMSTERDAM)
WHILE_OPEN = dt.datetime(2027, 1, 27, 10, 0, tzinfo=AMSTERDAM)


def at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm), tzinfo=AMSTERDAM)
