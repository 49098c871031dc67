from django.apps import AppConfig


class Portal360Config(AppConfig):
    name = "portal360"
