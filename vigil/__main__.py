"""The supervisord entry point (`python -m vigil`, and the `supervisord` command)."""

import sys


def main() -> None:
    # The daemon serves plain HTTP on a unix socket or TCP and never speaks TLS; without
    # this, asyncio loads OpenSSL anyway (about 4 MiB of resident memory and part of the
    # start-up time of every daemon). hashlib then uses Python's own digests (the daemon's
    # one digest is SHA-1, for {SHA} passwords): no libcrypto at all, which an import of
    # hashlib would otherwise map (about 3 MiB resident at rest).
    sys.modules.setdefault("ssl", None)  # type: ignore[arg-type]
    sys.modules.setdefault("_hashlib", None)  # type: ignore[arg-type]
    from vigil.app import supervisord_main

    supervisord_main()


if __name__ == "__main__":
    main()
