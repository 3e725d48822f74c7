"""Start-up says nothing that is not news (issue 15, item 13): no whitenoise warning about a
missing static folder, no FAISS loader chatter about CPU builds it falls back from."""
import logging
import logging.config
import warnings

from django.conf import settings
from django.test import Client


def test_the_site_starts_without_a_missing_static_folder_warning(db):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Client().get("/healthz")
    assert not [w for w in caught if "No directory at" in str(w.message)]


def test_the_faiss_loader_is_quiet_below_warnings():
    level = settings.LOGGING.get("loggers", {}).get("faiss.loader", {}).get("level")
    assert level == "WARNING"
    logging.config.dictConfig(settings.LOGGING)
    assert not logging.getLogger("faiss.loader").isEnabledFor(logging.INFO)
