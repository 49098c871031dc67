from django.apps import AppConfig


class CusinConfig(AppConfig):
    name = "cusin"
