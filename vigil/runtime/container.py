"""Container mode: vigil as a container's main process.

On with ``[supervisord] container = true``, and whenever vigil is PID 1 (a PID namespace's
init: what `docker run` makes of an image's command). PID 1 has duties a daemon does not:
every orphan of the namespace is re-parented to it and stays a zombie until it reaps it (the
one reaper collects every exit with ``waitpid(-1)``, known child or not); the kernel delivers
it no signal it has no handler for, so without handlers `docker stop` would wait out its
timeout and kill everything (the daemon catches SIGTERM, SIGINT, SIGQUIT and SIGHUP); when
it exits every other process of the namespace is killed, so it stops everything first (the
daemon's shutdown stops the programs in order, then signals every orphan left). And the
container's status is its exit status: the daemon stays in the foreground (it never
detaches) and exits with what ended it (see ``services/essential.py``).
"""

from __future__ import annotations

import os

from vigil.config.model import SupervisordConfig


def container_mode(settings: SupervisordConfig) -> bool:
    """Whether this daemon runs as a container's main process."""
    return settings.container or os.getpid() == 1
