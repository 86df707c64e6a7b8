"""``from supervisor import confecho; confecho.main()``: vigil's echo_supervisord_conf."""

from vigil.confecho import main

__all__ = ["main"]
