"""The fictional demo school (``manage.py demo_school``), on top of every feature it fills.

Its own app above the features, so the core never imports a feature.
"""
