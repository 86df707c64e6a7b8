"""vigil: a process control system for UNIX, a drop-in for Supervisor 4.x."""

__version__ = "0.1.0"
# The name on the package index: "vigil" there is an unrelated project, so `pip install vigil`
# would install the wrong thing. The import package and the commands keep the short name.
DISTRIBUTION = "vigil-supervisor"

# The Supervisor release whose wire contract vigil implements. Clients (supervisorctl,
# dashboards) read it through getSupervisorVersion (`supervisorctl version`).
SUPERVISOR_COMPAT_VERSION = "4.3.0"
API_VERSION = "3.0"


def version_text() -> str:
    """What ``--version`` of each command says: the distribution to install and upgrade, and
    the Supervisor release whose interface it speaks."""
    return f"{DISTRIBUTION} {__version__} (Supervisor {SUPERVISOR_COMPAT_VERSION} compatible)"
