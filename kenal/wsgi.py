"""WSGI entry point, served by waitress through ``kenal serve``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kenal.settings")

application = get_wsgi_application()
