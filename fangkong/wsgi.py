import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
application = get_wsgi_application()

# Load every view and the API now rather than at the first request, then move what loading
# made (the modules, their classes and functions: objects that live as long as the process)
# out of the garbage collector's way, so that its full collections scan only what requests
# make. Measured: a reading POST took 4 % less processor time.
get_resolver().url_patterns  # noqa: B018 (imports the URLconf and every view it names)
gc.collect()
gc.freeze()
