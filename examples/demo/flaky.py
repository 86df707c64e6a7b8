"""Runs for a while, then crashes with exit status 1 (a demo program for autorestart)."""

import random
import sys
import time

time.sleep(random.uniform(5, 15))
print("flaky: giving up", file=sys.stderr, flush=True)
sys.exit(1)
