"""The compile cache (编译缓存): a policy compiled once is read back as its IR, not parsed again.

A fresh process spends most of a compile in Lark's pure-Python parser (the three files of
Xuancheng 2024, about 70 ms); reading the IR back as JSON takes a few milliseconds. An entry is
keyed by the sha256 of everything the compile reads — the compiler itself (every file of
`policy_dsl/`, the library modules included, and pydantic's version) and its folder, the path as
given (the IR's origins carry both) and the bytes of every `.policy` file of its folder (the
`extends` chain is chosen among them) — so an edited file, base or compiler, or another checkout,
is a new key.

An entry is one file, `<key>.json`: a first line with the key and the sha256 of the IR that
follows, then the IR as JSON, which pydantic validates on reading. Anything else — a file cut
short, edited, of another key or of an IR the models refuse — is ignored and written again; only
a policy that compiled clean is written (atomically, `engine.run.atomic`). Never pickle: nothing
read here can run code.

The folder is `DRGPOLICY_COMPILE_CACHE` (`off` turns the cache off), by default
`$XDG_CACHE_HOME/drgpolicy/compiled` (`~/.cache/drgpolicy/compiled`). It is made readable by its
owner only, and a folder that another user owns or can write is not used: nothing is read from
a folder another user could write (README, "Guarantees").
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from collections.abc import Callable
from functools import cache
from pathlib import Path

from policy_dsl import ir

ENV = "DRGPOLICY_COMPILE_CACHE"
FORMAT = 1
COMPILER = Path(ir.__file__).parent


def compile_cached(path: Path | str, compile_file: Callable[[Path | str], ir.Policy]) -> ir.Policy:
    """`compile_file(path)`, or the IR it gave before for the same files and compiler."""
    folder = cache_folder()
    if folder is None:
        return compile_file(path)
    try:
        key = entry_key(Path(path))
    except OSError:
        return compile_file(path)  # the compile says what cannot be read
    entry = folder / f"{key}.json"
    policy = read_entry(entry, key)
    if policy is None:
        policy = compile_file(path)
        _write_entry(entry, key, policy)
    return policy


def cache_folder() -> Path | None:
    """The cache's folder (made if missing), or None: turned off, not ours, or writable by
    others."""
    setting = os.environ.get(ENV)
    if setting is not None and setting.strip().lower() in {"", "off", "0", "no"}:
        return None
    if setting:
        folder = Path(setting)
    else:
        home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        folder = Path(home) / "drgpolicy" / "compiled"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.stat()
    except OSError:
        return None
    private = info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    return folder if private and stat.S_ISDIR(info.st_mode) else None


def entry_key(path: Path) -> str:
    """sha256 of the compiler and where it is (the library modules' origins carry their
    path: another checkout's entry would point `explain` at its files), the path as given and
    every `.policy` file of its folder. Each is read in pieces (a large file takes no memory);
    one that is no regular file — a pipe, which would never end, a device, a folder — raises
    `OSError`, and the compile says what it is."""
    digest = hashlib.sha256(compiler_version().encode())
    digest.update(f"\0{COMPILER.resolve()}\0{path}\0".encode())
    files = sorted({path, *path.parent.glob("*.policy")}, key=lambda p: p.name)
    for file in files:
        if not stat.S_ISREG(file.stat().st_mode):
            raise OSError(f"{file} is no regular file")
        digest.update(f"{file.name}\0".encode())
        with file.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


@cache
def compiler_version() -> str:
    """sha256 of the compiler's files (`policy_dsl/`: code, grammar, tables, library) and the
    pydantic version that reads the IR back: any change to either is a new compiler."""
    import pydantic

    digest = hashlib.sha256(f"{FORMAT}\0{pydantic.VERSION}\0".encode())
    for file in sorted(COMPILER.rglob("*")):
        if file.is_file() and "__pycache__" not in file.parts:
            digest.update(f"{file.relative_to(COMPILER).as_posix()}\0".encode())
            digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def read_entry(entry: Path, key: str) -> ir.Policy | None:
    """The IR an entry holds, or None where it is missing, damaged or not this key's."""
    try:
        header, _, body = entry.read_bytes().partition(b"\n")
        meta = json.loads(header)
        if meta != {"key": key, "ir_sha256": hashlib.sha256(body).hexdigest()}:
            return None
        return ir.Policy.model_validate_json(body)
    except (OSError, ValueError):  # pydantic's ValidationError is a ValueError
        return None


def _write_entry(entry: Path, key: str, policy: ir.Policy) -> None:
    from engine.run.atomic import write_file_atomically

    body = policy.model_dump_json().encode()
    header = json.dumps({"key": key, "ir_sha256": hashlib.sha256(body).hexdigest()})
    with contextlib.suppress(OSError):  # an entry not written costs the next compile its time
        write_file_atomically(entry, header.encode() + b"\n" + body)
