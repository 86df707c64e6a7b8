from collections.abc import Sequence

def spawn(
    path: str,
    argv: Sequence[bytes],
    envp: Sequence[bytes],
    fds: tuple[int, int, int],
    death_signal: int,
    resets: Sequence[int],
    limits: Sequence[tuple[int, int, int]] = (),
    nice: int | None = None,
    oom_score_adj: int | None = None,
) -> tuple[int, int, int]: ...
