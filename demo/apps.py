from django.apps import AppConfig


class DemoConfig(AppConfig):
    """`manage.py demo`: the product with demo data (make demo). Above every app: it uses them all."""

    name = "demo"
