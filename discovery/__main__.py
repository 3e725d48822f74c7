import sys

from discovery import settings

settings.models_offline()

from discovery.cli import main  # noqa: E402  (the environment must be set before any model import)

sys.exit(main())
