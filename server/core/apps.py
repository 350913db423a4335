from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "server.core"
    label = "core"

    def ready(self) -> None:
        # Load the Celery app with Django so @shared_task binds to it; done here rather than
        # in server/__init__.py so that importing server.analysis never imports Django.
        import workers.celery

        # Register the tasks in every process, so services can queue them by name (workers/queue.py).
        import workers.tasks  # noqa: F401
