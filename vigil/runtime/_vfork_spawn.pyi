from collections.abc import Sequence

def spawn(
    path: str,
    argv: Sequence[bytes],
    envp: Sequence[bytes],
    fds: tuple[int, int, int],
    death_signal: int,
    resets: Sequence[int],
) -> tuple[int, int, int]: ...
