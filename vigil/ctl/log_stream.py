"""Following a log as supervisord writes it (``tail -f``, ``maintail -f``, ``fg``): a GET of
``/logtail/<name>/<channel>`` or ``/mainlogtail`` whose body never ends, copied to stdout."""

from __future__ import annotations

from vigil.ctl.client import LogStream
from vigil.ctl.errors import BadResponse, displayed_class

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (slow)
if TYPE_CHECKING:
    import queue

    from vigil.ctl.controller import Controller

    # (which log, its complete lines or None once it has ended, a problem to report)
    _Event = tuple[int, list[bytes] | None, str | None]

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


# Colours of the name column when several logs are followed, one per log in turn (as
# ``docker compose logs`` gives each service its own): cyan, yellow, green, magenta, blue,
# then their bright forms.
NAME_COLOURS = ("36", "33", "32", "35", "34", "96", "93", "92", "95", "94")
_SEPARATOR = " | "


class FollowedLog:
    """One log followed among several: its name as shown, the URL path of its stream, and
    the fields of each line's object when lines are printed as JSON."""

    def __init__(self, name: str, path: str, fields: dict[str, str]) -> None:
        self.name = name
        self.path = path
        self.fields = fields


def name_prefixes(names: list[str], colour: bool) -> list[bytes]:
    """What starts each line of each log: its name padded to the longest and `` | ``, the
    name and bar coloured when asked (the log's own text never is)."""
    width = max(map(len, names), default=0)
    prefixes = []
    for index, name in enumerate(names):
        label = name.ljust(width) + _SEPARATOR
        if colour:
            code = NAME_COLOURS[index % len(NAME_COLOURS)]
            label = f"\x1b[{code}m{label.rstrip()}\x1b[0m "
        prefixes.append(label.encode("utf-8", "replace"))
    return prefixes


def follow_many(ctl: Controller, logs: list[FollowedLog], *, colour: bool, as_json: bool) -> None:
    """Show several logs as they grow, line by line, each line after its log's name (or as a
    JSON object per line), until every stream has ended or the user presses Ctrl-C.

    Each stream is read by a thread of its own into one queue; this thread alone writes, so
    lines never mix. A line is shown whole: what follows its last newline is held until the
    rest comes, or shown (with a newline) when its stream ends."""
    import queue
    import threading

    if not as_json:
        warn_about_encoding(ctl)
    ctl.output(PRESS_CTRL_C)
    ctl.stdout.flush()
    prefixes = name_prefixes([log.name for log in logs], colour)
    events: queue.SimpleQueue[_Event] = queue.SimpleQueue()
    readers = [_LineReader(ctl, log, index, events) for index, log in enumerate(logs)]
    threads = [threading.Thread(target=reader.run, daemon=True) for reader in readers]
    for thread in threads:
        thread.start()
    try:
        running = len(threads)
        while running:
            index, lines, problem = events.get()
            if problem is not None:
                report(ctl, readers[index].stream.url, problem)
            elif lines is None:
                running -= 1
            elif as_json:
                ctl.write_bytes(_json_lines(logs[index].fields, lines))
            else:
                prefix = prefixes[index]
                ctl.write_bytes(b"".join(prefix + line for line in lines))
    except KeyboardInterrupt:
        for reader in readers:
            reader.stop()
        for thread in threads:
            thread.join(timeout=5)
        ctl.output("")
        ctl.stdout.flush()
    finally:
        for reader in readers:
            reader.stream.close()


def _json_lines(fields: dict[str, str], lines: list[bytes]) -> bytes:
    import json

    return b"".join(
        json.dumps({**fields, "data": line[:-1].decode("utf-8", "replace")}).encode() + b"\n"
        for line in lines
    )


class _LineReader:
    """Reads one log's stream in a thread and queues its complete lines."""

    def __init__(
        self, ctl: Controller, log: FollowedLog, index: int, events: queue.SimpleQueue[_Event]
    ) -> None:
        self.stream = LogStream(ctl.client, log.path)
        self._index = index
        self._events = events
        self._stopping = False

    def stop(self) -> None:
        self._stopping = True
        self.stream.interrupt()

    def run(self) -> None:
        held = b""
        try:
            status = self.stream.open()
            if status != 200:
                self._problem(f"Cannot read, status code {status}")
                return
            for chunk in self.stream.chunks():
                *lines, held = (held + chunk).split(b"\n")
                if lines:
                    self._events.put((self._index, [line + b"\n" for line in lines], None))
        except (OSError, BadResponse) as error:
            if not self._stopping:
                self._problem(f"Cannot connect, error: {displayed_class(error)} ({error})")
        finally:
            if held and not self._stopping:
                self._events.put((self._index, [held + b"\n"], None))
            self._events.put((self._index, None, None))

    def _problem(self, message: str) -> None:
        self._events.put((self._index, None, message))
