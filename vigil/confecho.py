"""echo_supervisord_conf: print vigil's sample configuration file."""

from __future__ import annotations

import sys
from importlib.resources import files


def sample() -> str:
    return files("vigil").joinpath("skel/sample.conf").read_text(encoding="utf-8")


def main() -> None:
    # Supervisor's prints the sample whatever the arguments; --version is vigil's addition
    if sys.argv[1:] == ["--version"]:
        from vigil import version_text

        sys.stdout.write(version_text() + "\n")
        return
    sys.stdout.write(sample())


if __name__ == "__main__":
    main()
