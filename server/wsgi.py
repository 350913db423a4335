import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
application = get_wsgi_application()

# Web requests only: workers and migrations import settings, never this module.
from server.core.database import web_statement_timeout_install  # noqa: E402

web_statement_timeout_install()
