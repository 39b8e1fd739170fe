"""Replacing a folder of files that this package wrote, without ever touching a file it did not write.

Checkpoints (``mdtf_lite.train.checkpoint``) and dataset folders (``mdtf_lite.data.layout``) are written
the same way: into a fresh temporary sibling folder (``tempfile.mkdtemp``, so its name is new), then
renamed into place.  The rules, in order:

* the target does not exist: the temporary folder is renamed to it;
* the target is a file (or a symlink to one): refused, nothing is renamed;
* the target is a folder holding only names in ``own`` (the writer's own files): it is renamed aside
  to a fresh name, the new folder renamed in, and the old one deleted -- it held only our files;
* the target holds any other name (a user's file, a sub-folder, another checkpoint): refused unless
  ``merge=True``; then each of our files is moved in with ``os.replace`` (``last`` is moved last,
  e.g. ``manifest.json``), and the other names stay exactly as they were.

No standard-library dependency beyond ``os``/``shutil``/``tempfile``, no package imports (no cycles).
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable

__all__ = ["FolderRefused", "foreign_names", "fresh_sibling", "swap_in", "check_writable"]


class FolderRefused(ValueError):
    """The target of a write holds files that the writer does not own (or is a file)."""


def _is_own(name: str, own: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in own)


def foreign_names(folder: Path, own: Iterable[str]) -> list[str]:
    """Names directly inside ``folder`` that do not match any pattern of ``own`` (sorted; [] if absent).

    Sub-folders are always foreign (our writers never create any inside their folder).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    own = tuple(own)
    return sorted(p.name for p in folder.iterdir() if p.is_dir() or not _is_own(p.name, own))


def fresh_sibling(folder: Path, tag: str) -> Path:
    """A new empty folder next to ``folder`` named ``.<name>.<tag>-XXXXXXXX`` (never an existing name)."""
    folder = Path(folder)
    return Path(tempfile.mkdtemp(prefix=f".{folder.name}.{tag}-", dir=folder.parent))


def check_writable(folder: Path, what: str) -> None:
    """Create ``folder``'s parent if needed and prove that files can be created there (and in ``folder``
    itself when it exists); raises ``PermissionError``/``OSError`` subclasses as :class:`FolderRefused`."""
    folder = Path(folder)
    places = [folder.parent] + ([folder] if folder.is_dir() else [])
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        for place in places:
            probe = tempfile.mkdtemp(prefix=".write-probe-", dir=place)
            os.rmdir(probe)
    except OSError as exc:
        raise FolderRefused(
            f"cannot write the {what} at {folder}: {type(exc).__name__}: {exc}. Choose a writable "
            "location (out_dir=... / --out ...) or fix the folder's permissions"
        ) from None


def swap_in(
    tmp: Path,
    target: Path,
    own: Iterable[str],
    what: str,
    merge: bool = False,
    last: str | None = None,
    aside: Path | None = None,
) -> Path:
    """Move the freshly written folder ``tmp`` to ``target`` following the rules of the module docstring.

    ``aside``: the name the old folder is renamed to during the swap (default: a fresh hidden name);
    the checkpoint writer uses ``<name>.old`` so a crash between the two renames can be recovered.
    It must be absent or hold only ``own`` names (then it is an earlier leftover of ours).
    ``tmp`` is removed in every case (it is ours).  Returns ``target``.
    Raises: FolderRefused (target is a file, or holds foreign names and ``merge`` is False).
    """
    tmp, target = Path(tmp), Path(target)
    own = tuple(own)
    try:
        if target.is_symlink() or (target.exists() and not target.is_dir()):
            raise FolderRefused(
                f"{target} exists and is not a folder; the {what} is a folder. Choose another path "
                "(nothing was changed)"
            )
        if not target.exists():
            tmp.rename(target)
            return target
        foreign = foreign_names(target, own)
        if not foreign:
            if aside is None:
                aside = fresh_sibling(target, "replaced")
                os.rmdir(aside)  # a fresh unused name for the rename
            elif aside.is_symlink() or (aside.exists() and (not aside.is_dir() or foreign_names(aside, own))):
                raise FolderRefused(
                    f"{aside} exists and is not a leftover {what} (it holds other files); move it "
                    f"away so that {target} can be replaced safely (nothing was changed)"
                )
            else:
                shutil.rmtree(aside, ignore_errors=True)  # a leftover of ours from an interrupted swap
            target.rename(aside)
            tmp.rename(target)
            shutil.rmtree(aside, ignore_errors=True)  # held only our own files
            return target
        if not merge:
            shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
            raise FolderRefused(
                f"{target} already holds files that are not part of a {what} ({shown}); they are "
                "never deleted. Choose an empty or new folder, or move those files away"
            )
        names = sorted(p.name for p in tmp.iterdir())
        if last in names:
            names.remove(last)
            names.append(last)
        for name in names:
            os.replace(tmp / name, target / name)
        return target
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
