from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "server.tracking"
    label = "tracking"
