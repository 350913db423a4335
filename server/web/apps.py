from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "server.web"
    label = "web"

    def ready(self) -> None:
        # Altair's debug mode validates every schema object against the Vega-Lite schema as it is
        # built: about 10 ms of a run page's 20. Each chart builder's whole spec is validated by
        # its unit tests (tests/web_charts/specs.py) instead, so the server builds without it.
        from altair.utils.schemapi import disable_debug_mode

        disable_debug_mode()
