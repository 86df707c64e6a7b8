"""`python -m vigil` runs supervisord."""

from vigil.app import supervisord_main

if __name__ == "__main__":
    supervisord_main()
