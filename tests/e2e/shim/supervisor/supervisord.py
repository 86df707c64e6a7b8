"""``python -m supervisor.supervisord``: vigil's daemon."""

from vigil.__main__ import main

if __name__ == "__main__":
    main()
