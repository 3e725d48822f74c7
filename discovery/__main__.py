import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from discovery.cli import main  # noqa: E402  (the environment must be set before any model import)

sys.exit(main())
