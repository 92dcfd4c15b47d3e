"""Entity paths like ``/robot/arm``: immutable, hashable, ordered by their parts.

Rerun lets a part contain special characters escaped with a backslash (``a\\ b``, ``a\\/b``).
We split only on unescaped slashes and keep escapes verbatim in the parts, so a path read
from a file prints back exactly as it was written.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache


def _split(text: str) -> tuple[str, ...]:
    if "\\" not in text:
        return tuple(p for p in text.split("/") if p)
    parts: list[str] = []
    current: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n:
            current.append(text[i : i + 2])  # keep the escape verbatim
            i += 2
            continue
        if ch == "/":
            if current:
                parts.append("".join(current))
                current = []
        else:
            current.append(ch)
        i += 1
    if current:
        parts.append("".join(current))
    return tuple(parts)


class EntityPath:
    """A path in the entity tree; the root is ``/`` (no parts)."""

    __slots__ = ("_hash", "_parts")

    _parts: tuple[str, ...]
    _hash: int

    def __init__(self, parts: Iterable[str] = ()) -> None:
        parts = tuple(parts)
        for part in parts:
            if not isinstance(part, str) or _split(part) != (part,):
                raise ValueError(f"invalid entity path part: {part!r}")
        object.__setattr__(self, "_parts", parts)
        object.__setattr__(self, "_hash", hash(parts))

    @classmethod
    def _trusted(cls, parts: tuple[str, ...]) -> EntityPath:
        """Build from parts already known to be valid (skips the per-part check)."""
        self = object.__new__(cls)
        object.__setattr__(self, "_parts", parts)
        object.__setattr__(self, "_hash", hash(parts))
        return self

    @staticmethod
    @lru_cache(maxsize=65536)
    def parse(text: str) -> EntityPath:
        """Parse ``/a/b`` or ``a/b`` (cached: chunks repeat the same few paths)."""
        if not isinstance(text, str):
            raise TypeError(f"entity path must be a str, got {type(text).__name__}")
        return EntityPath._trusted(_split(text))

    @classmethod
    def root(cls) -> EntityPath:
        return _ROOT

    @property
    def parts(self) -> tuple[str, ...]:
        return self._parts

    @property
    def is_root(self) -> bool:
        return not self._parts

    @property
    def name(self) -> str:
        """The last part; ``""`` for the root."""
        return self._parts[-1] if self._parts else ""

    @property
    def parent(self) -> EntityPath | None:
        if not self._parts:
            return None
        return EntityPath._trusted(self._parts[:-1])

    def ancestors(self) -> Iterator[EntityPath]:
        """Parents from the direct parent up to the root."""
        for i in range(len(self._parts) - 1, -1, -1):
            yield EntityPath._trusted(self._parts[:i])

    def join(self, *parts: str) -> EntityPath:
        return EntityPath._trusted(self._parts + tuple(p for part in parts for p in _split(part)))

    def is_descendant_of(self, other: EntityPath) -> bool:
        n = len(other._parts)
        return len(self._parts) > n and self._parts[:n] == other._parts

    def __len__(self) -> int:
        return len(self._parts)

    def __setattr__(self, key: str, value: object) -> None:
        raise AttributeError("EntityPath is immutable")

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, EntityPath):
            return self._hash == other._hash and self._parts == other._parts
        return NotImplemented

    def __lt__(self, other: EntityPath) -> bool:
        return self._parts < other._parts

    def __le__(self, other: EntityPath) -> bool:
        return self._parts <= other._parts

    def __gt__(self, other: EntityPath) -> bool:
        return self._parts > other._parts

    def __ge__(self, other: EntityPath) -> bool:
        return self._parts >= other._parts

    def __str__(self) -> str:
        return "/" + "/".join(self._parts)

    def __repr__(self) -> str:
        return f"EntityPath({str(self)!r})"

    def __reduce__(self) -> tuple[type[EntityPath], tuple[tuple[str, ...]]]:
        return (EntityPath, (self._parts,))


_ROOT = EntityPath._trusted(())
