import os

from django.core.wsgi import get_wsgi_application
from django.urls import reverse

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()

# Import the URLconf, and with it every view, while the worker boots rather than on its first request
# (about 2 s on a loaded 2-core machine): a gunicorn worker just started or recycled (--max-requests)
# answers its first request, /healthz included, at once.
reverse("healthz")
