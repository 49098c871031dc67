from django.apps import AppConfig


class BusinessDayConfig(AppConfig):
    """The business day: one run of every domain app's daily work, in order (daily.py). It sits above
    the domain apps, beside the faces: it calls their services and owns no models of its own."""

    name = "businessday"
