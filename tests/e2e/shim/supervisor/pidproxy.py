"""``python -m supervisor.pidproxy``: vigil's pidproxy."""

from vigil.pidproxy import main

if __name__ == "__main__":
    main()
