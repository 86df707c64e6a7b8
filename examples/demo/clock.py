"""Prints the time every few seconds (a demo program for the example config)."""

import time

while True:
    print(time.strftime("%H:%M:%S"), flush=True)
    time.sleep(3)
