"""`python -m simgov.cli`: the same as the `simgov` command."""
import sys

from . import main

sys.exit(main())
