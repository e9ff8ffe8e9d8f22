"""`python -m tests.fuzz decode|diff|reduce ...`: see the package docstring."""

import sys

from .runs import main

sys.exit(main())
