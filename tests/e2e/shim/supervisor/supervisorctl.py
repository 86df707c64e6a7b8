"""``python -m supervisor.supervisorctl``: vigil's supervisorctl, or Supervisor's own when
``VIGIL_E2E_CTL`` is ``supervisor`` (vigil's daemon must serve both).

Supervisor's supervisorctl imports its built-in actions by name from
``supervisor.supervisorctl``, so in that case this module is its code: the real file runs in
this module's namespace (and starts the program when this is ``__main__``).
"""

import os

if os.environ.get("VIGIL_E2E_CTL") == "supervisor":
    _real = os.path.join(os.environ["VIGIL_REAL_SUPERVISOR"], "supervisorctl.py")
    with open(_real, encoding="utf-8") as _file:
        exec(compile(_file.read(), _real, "exec"))
elif __name__ == "__main__":
    from vigil.ctl.main import main

    main()
