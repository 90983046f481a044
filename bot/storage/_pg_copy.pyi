from collections.abc import Callable, Iterator, Sequence

def fill(
    rows: Iterator[Sequence[object]],
    kinds: bytes,
    encoders: tuple[Callable[[object], bytes], ...],
    size: int,
    head: bytes,
    end: bytes,
    /,
) -> tuple[bytes, bool]: ...
