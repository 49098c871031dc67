from django.apps import AppConfig


class BusinessDayConfig(AppConfig):
    """The business day: one run of every domain app's daily work, in order (daily.py). It sits above
    the domain apps, beside the faces: it calls their services; its own models only share the day among
    workers (models.py)."""

    name = "businessday"
