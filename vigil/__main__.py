"""The supervisord entry point (`python -m vigil`, and the `supervisord` command)."""

import sys


def main() -> None:
    # The daemon serves plain HTTP on a unix socket or TCP and never speaks TLS; without
    # this, asyncio and aiohttp load OpenSSL anyway (about 4 MiB of resident memory and
    # part of the start-up time of every daemon).
    sys.modules.setdefault("ssl", None)  # type: ignore[arg-type]
    from vigil.app import supervisord_main

    supervisord_main()


if __name__ == "__main__":
    main()
