"""The WSGI application `pbc serve` runs (gunicorn, `pbc.web.server`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pbc.web.settings")
application = get_wsgi_application()
