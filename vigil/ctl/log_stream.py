"""Following a log as supervisord writes it (``tail -f``, ``maintail -f``, ``fg``): a GET of
``/logtail/<name>/<channel>`` or ``/mainlogtail`` whose body never ends, copied to stdout."""

from __future__ import annotations

from vigil.ctl.client import LogStream
from vigil.ctl.errors import BadResponse, displayed_class

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (slow)
if TYPE_CHECKING:
    from vigil.ctl.controller import Controller

PRESS_CTRL_C = "==> Press Ctrl-C to exit <=="


def warn_about_encoding(ctl: Controller) -> None:
    """Log text may be any Unicode; say so when the terminal's encoding cannot show it all."""
    encoding = getattr(ctl.stdout, "encoding", None) or ""
    if not encoding.lower().startswith("utf"):
        ctl.output(
            f"Warning: sys.stdout.encoding is set to {encoding or None}, so Unicode output "
            "may fail. Check your LANG and PYTHONIOENCODING environment settings."
        )


def logtail_path(name: str, channel: str) -> str:
    """The stream of one process's channel; the name goes unescaped, as Supervisor sends it."""
    return f"/logtail/{name}/{channel}"


def copy_stream(ctl: Controller, stream: LogStream) -> None:
    """Copy the stream to stdout until the server ends it. A failure is reported on stderr as
    ``<url> Cannot read, status code N`` or ``<url> Cannot connect, error: ...``."""
    try:
        status = stream.open()
        if status != 200:
            report(ctl, stream.url, f"Cannot read, status code {status}")
            return
        for chunk in stream.chunks():
            ctl.write_bytes(chunk)
    except (OSError, BadResponse) as error:
        report(ctl, stream.url, f"Cannot connect, error: {displayed_class(error)} ({error})")
    finally:
        stream.close()


def report(ctl: Controller, url: str, message: str) -> None:
    ctl.stderr.write(f"{url} {message}\n")
    ctl.stderr.flush()


def follow(ctl: Controller, path: str) -> None:
    """Show a log as it grows until the server closes it or the user presses Ctrl-C."""
    warn_about_encoding(ctl)
    ctl.output(PRESS_CTRL_C)
    ctl.stdout.flush()
    stream = LogStream(ctl.client, path)
    try:
        copy_stream(ctl, stream)
    except KeyboardInterrupt:
        stream.close()
        ctl.output("")
        ctl.stdout.flush()
