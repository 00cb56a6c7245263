"""``python -m esca`` runs the command line, like the ``esca`` console script."""

import sys

from esca.cli.main import main

sys.exit(main())
