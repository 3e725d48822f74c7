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


def test_the_private_redis_starts_without_its_overcommit_warning_and_the_fix_is_told_once(tmp_path, capfd,
                                                                                          monkeypatch):
    from webapp import launcher

    monkeypatch.setattr(launcher, "overcommit_enabled", lambda: False)  # as on this kind of machine
    said = []
    for _ in range(2):
        proc, url = launcher.start_redis(tmp_path)
        proc.terminate()
        proc.wait(timeout=10)
        said.append(capfd.readouterr())
    assert "Memory overcommit" not in "".join(out.out + out.err for out in said)  # the server's own banner
    assert "vm.overcommit_memory=1" in said[0].out and "vm.overcommit_memory" not in said[1].out
    assert "--stop-writes-on-bgsave-error" in launcher.redis_command(1, tmp_path)
