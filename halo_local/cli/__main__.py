"""`python -m halo_local.cli`: the command line without the console script."""

import sys

from halo_local.cli.entry import main

sys.exit(main())
