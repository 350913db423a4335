from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "server.accounts"
    label = "accounts"

    def ready(self) -> None:
        from server.accounts import schema  # noqa: F401  (registers the OpenAPI security scheme)
