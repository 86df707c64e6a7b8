"""A stand-in for the ``supervisor`` package that runs vigil's commands.

Supervisor's own end-to-end tests start ``python -m supervisor.supervisord`` (and
``supervisorctl``, ``pidproxy``, ``confecho``) while importing their helpers and fixtures from
the ``supervisor`` package. This package answers the command modules with vigil's and lends
everything else from the real Supervisor, whose directory ``VIGIL_REAL_SUPERVISOR`` names.
``VIGIL_SUPERVISOR_OVERLAY``, when set, is a directory searched before the real one: a copy
of Supervisor's ``tests`` there can carry a fixture its published package leaves out.
"""

import os

_overlay = os.environ.get("VIGIL_SUPERVISOR_OVERLAY")
if _overlay:
    __path__.append(_overlay)
__path__.append(os.environ["VIGIL_REAL_SUPERVISOR"])
