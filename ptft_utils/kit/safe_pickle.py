"""Reading a pickle without running what it names: an unpickler that resolves only an allow-list.

A pickle is a small program: its ``GLOBAL`` opcodes name any importable ``module.name`` and its
``REDUCE`` opcodes call it, so unpickling a file from elsewhere with the standard loader can run ``os.system``.
:class:`RestrictedUnpickler` resolves a global only through an explicit mapping from
``(module, name)`` to the object to use, which may be a stand-in (a plain class in place of a
library's), and refuses everything else with a :class:`pickle.UnpicklingError` that names the
refused ``module.name``. Names are matched as the pickle spells them (a Python 2 pickle says
``copy_reg`` and ``__builtin__``), before any renaming.

Inspect a pickle before choosing its allow-list with :func:`globals_named`, which reads the opcodes
(``pickletools.genops``) and runs nothing.
"""

from __future__ import annotations

import io
import pickle
import pickletools
from collections.abc import Mapping
from typing import Any

__all__ = ["RestrictedUnpickler", "globals_named", "restricted_loads"]


class RestrictedUnpickler(pickle.Unpickler):
    """A ``pickle.Unpickler`` whose ``find_class`` returns only ``allowed[(module, name)]``."""

    def __init__(self, file: io.BufferedIOBase, allowed: Mapping[tuple[str, str], Any], **kwargs: Any) -> None:
        super().__init__(file, **kwargs)
        self.allowed = dict(allowed)

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self.allowed[(module, name)]
        except KeyError:
            known = ", ".join(f"{m}.{n}" for m, n in sorted(self.allowed))
            allowed = f"the allow-list holds only {known}" if known else "the allow-list is empty"
            raise pickle.UnpicklingError(f"refused to load global {module}.{name}: {allowed}") from None


def restricted_loads(
    data: bytes, allowed: Mapping[tuple[str, str], Any], *, encoding: str = "ASCII", errors: str = "strict"
) -> Any:
    """Unpickle ``data`` with :class:`RestrictedUnpickler` (``encoding="latin1"`` for Python 2 pickles).

    Taught in: 08 §3
    """
    return RestrictedUnpickler(io.BytesIO(data), allowed, encoding=encoding, errors=errors).load()


def globals_named(data: bytes) -> list[tuple[str, str]]:
    """Every ``(module, name)`` a pickle's ``GLOBAL`` or ``STACK_GLOBAL`` opcodes name, in order, running nothing.

    ``STACK_GLOBAL`` (protocol 4 and up) takes its two names from the stack; they are traced
    through the memo (``MEMOIZE``/``PUT``, ``GET``), which is how ``pickle.dumps`` writes them.
    A ``STACK_GLOBAL`` whose names cannot be traced that way is reported as ``("?", "?")``.
    """
    found: list[tuple[str, str]] = []
    pushed: list[str | None] = []  # what each opcode left on top, as far as strings go
    memo: dict[int, str | None] = {}
    for opcode, argument, _ in pickletools.genops(data):
        top = pushed[-1] if pushed else None
        if opcode.name == "GLOBAL":
            module, _, name = str(argument).partition(" ")
            found.append((module, name))
        elif opcode.name == "STACK_GLOBAL":
            first, second = (pushed[-2], pushed[-1]) if len(pushed) >= 2 else (None, None)
            found.append((first or "?", second or "?"))
        if opcode.name == "MEMOIZE":
            memo[len(memo)] = top
        elif opcode.name.endswith("PUT") and isinstance(argument, int):
            memo[argument] = top
        elif opcode.name.endswith("GET") and isinstance(argument, int):
            pushed.append(memo.get(argument))
        elif opcode.name.endswith(("UNICODE", "UNICODE8", "STRING")) and isinstance(argument, str):
            pushed.append(argument)
        elif opcode.stack_after:
            pushed.append(None)
    return found
