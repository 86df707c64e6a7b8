"""Pretends to work on numbered jobs (a demo program for the example config)."""

import os
import sys
import time

worker = sys.argv[1] if len(sys.argv) > 1 else "0"
delay = float(os.environ.get("WORK_DELAY", "2"))
job = 0
while True:
    job += 1
    print(f"worker {worker}: finished job {job}", flush=True)
    time.sleep(delay)
