"""Reading and writing ``.npz`` files safely and reproducibly.

* :func:`save_npz` writes a pickle-free npz whose bytes depend only on the arrays (fixed zip
  timestamps, sorted keys), so "same seed -> same bytes" can be tested.
* :func:`load_npz` reads a pickle-free npz and turns the usual failures (missing, truncated,
  corrupted, pickled) into errors that name the file and the fix.
* :func:`load_pickled` opens the *original* npz/pkl files of VideoPose3D / MotionBERT / 3DHP, which
  hold pickles: loading a pickle can execute code, so it refuses unless ``trust_pickle=True``.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["save_npz", "load_npz", "load_pickled", "PickleRefused", "MAX_NPZ_BYTES"]

_EPOCH = (1980, 1, 1, 0, 0, 0)

#: the most an npz may expand to in memory (the sum of its members' declared uncompressed sizes).
MAX_NPZ_BYTES = 16 * 2**30
#: a compressed member larger than ``_BOMB_MIN_BYTES`` that expands more than ``MAX_COMPRESSION_RATIO``
#: times is a zip bomb: pose arrays compress 2-10x, and only constant arrays reach deflate's ~1000x.
MAX_COMPRESSION_RATIO = 200
_BOMB_MIN_BYTES = 64 * 2**20


class PickleRefused(ValueError):
    """Raised when a file holds a pickle and the caller did not opt in with ``trust_pickle=True``."""


def save_npz(path, arrays: dict[str, np.ndarray], compress: bool = False) -> Path:
    """Write ``arrays`` (name -> array, no object dtypes) to ``path`` deterministically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(tmp, "w", compression=method, allowZip64=True) as zf:
        for key in sorted(arrays):
            arr = np.asarray(arrays[key])
            if arr.dtype == object:
                raise ValueError(
                    f"array {key!r} has dtype object, which would need pickle; store plain "
                    "numeric or fixed-width string arrays"
                )
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=_EPOCH)
            info.compress_type = method
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())
    tmp.replace(path)  # atomic: a crash never leaves a half-written file under the real name
    return path


def _open_error(path: Path, exc: Exception) -> ValueError:
    return ValueError(
        f"{path} is not a readable .npz ({type(exc).__name__}: {exc}); the file is truncated or "
        "corrupted: delete it and download/convert it again (for data/default: "
        "`python -m data_tools make-default`)"
    )


def _check_sizes(path: Path, max_bytes: int) -> None:
    """Refuse, before anything is decompressed or allocated, an npz whose zip directory declares more than
    ``max_bytes`` in all, a member that expands like a zip bomb, or an array header that declares more data
    than its member holds (numpy would allocate the header's size first)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            if total > max_bytes:
                raise ValueError(
                    f"{path} would expand to {total / 2**30:.1f} GiB in memory (its members' declared "
                    f"sizes), more than the {max_bytes / 2**30:.1f} GiB allowed; a zip bomb or the wrong "
                    "file. Pass max_bytes= if the file is genuine"
                )
            for info in infos:
                if info.file_size > _BOMB_MIN_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(
                    info.compress_size, 1
                ):
                    raise ValueError(
                        f"{path}: member {info.filename!r} expands {info.file_size / max(info.compress_size, 1):.0f}"
                        f" times ({info.compress_size} -> {info.file_size} bytes), like a zip bomb; real "
                        "arrays compress at most a few times. Recreate the file with save_npz"
                    )
                if not info.filename.endswith(".npy"):
                    continue
                with zf.open(info) as fh:
                    version = np.lib.format.read_magic(fh)
                    shape, _, dtype = (
                        np.lib.format.read_array_header_1_0(fh)
                        if version == (1, 0)
                        else np.lib.format.read_array_header_2_0(fh)
                    )
                    declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
                if not dtype.hasobject and declared > info.file_size:
                    raise ValueError(
                        f"{path}: member {info.filename!r} declares a {shape} {dtype} array "
                        f"({declared} bytes) but holds {info.file_size} bytes; the file is corrupted or "
                        "crafted: recreate it"
                    )
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise _open_error(path, exc) from None
    except ValueError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise _open_error(path, exc) from None
    except Exception as exc:  # a damaged .npy header: numpy's parser raises SyntaxError, TypeError, ...
        raise _open_error(path, exc) from None


def load_npz(path, keys: tuple[str, ...] | None = None, max_bytes: int = MAX_NPZ_BYTES) -> dict[str, np.ndarray]:
    """Read a pickle-free npz fully into memory: name -> array.

    Sizes are checked before anything is read: at most ``max_bytes`` in all (the zip directory's declared
    sizes), no member expanding like a zip bomb, no array header larger than its member.

    Raises ``FileNotFoundError`` if absent, ``ValueError`` if truncated/corrupted (any damaged byte, header
    or zip entry), if it is a bare ``.npy``, if a key in ``keys`` is missing, or if an array is a pickle
    (``PickleRefused``, a ``ValueError``: convert the original file with ``data_tools`` first).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as fh:
            head = fh.read(6)
        if head == b"\x93NUMPY":
            raise ValueError(
                f"{path} is a single .npy array saved under an .npz name, not an npz (a zip of named "
                "arrays); save it with mdtf_lite.data.npz_io.save_npz(path, {name: array}) or "
                "numpy.savez, or convert the original again"
            )
        raise _open_error(path, ValueError("not a zip archive"))
    _check_sizes(path, max_bytes)
    try:
        with np.load(path, allow_pickle=False) as z:
            names = list(z.files)
            if keys is not None:
                missing = [k for k in keys if k not in names]
                if missing:
                    raise KeyError(missing)
            out = {}
            for k in names:
                out[k] = z[k]
                if not isinstance(out[k], np.ndarray):  # numpy returns a non-.npy member's raw bytes
                    raise ValueError(f"member {k!r} is not a .npy array")
    except KeyError as exc:
        raise ValueError(f"{path} lacks the key(s) {exc.args[0]}; it has {names}. Is it the right file?") from None
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise PickleRefused(
                f"{path} holds a pickled object; pickle-free files are expected here. Convert "
                "the original once with `python -m data_tools convert-... --trust-pickle`"
            ) from None
        raise _open_error(path, exc) from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise _open_error(path, exc) from None
    except Exception as exc:  # a damaged .npy header inside the zip: numpy's parser raises SyntaxError,
        raise _open_error(path, exc) from None  # tokenize.TokenError, TypeError, ... -- all mean "corrupted"
    return out


def load_pickled(path, key: str | None = None, trust_pickle: bool = False):
    """Load a pickled object: ``key`` of an npz (``.item()`` of a 0-d object array), or a whole ``.pkl``.

    Unpickling executes code from the file, so this refuses unless ``trust_pickle=True``: only pass it for
    files you obtained from the dataset authors (or made yourself).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    if not trust_pickle:
        raise PickleRefused(
            f"{path} stores Python pickles, and unpickling a file can execute arbitrary code. If you trust this "
            "file (e.g. you downloaded it from the dataset authors), pass trust_pickle=True (CLI: --trust-pickle) "
            "to convert it once into the pickle-free layout that mdtf-lite reads."
        )
    if key is None:
        try:
            with open(path, "rb") as fh:
                return pickle.load(fh)
        except (pickle.UnpicklingError, EOFError, AttributeError, ValueError) as exc:
            raise ValueError(
                f"{path} is not a readable pickle ({type(exc).__name__}: {exc}); it is truncated or "
                "corrupted: download it again"
            ) from None
    try:
        with np.load(path, allow_pickle=True) as z:
            if key not in z.files:
                raise ValueError(f"{path} has no key {key!r} (it has {list(z.files)}); is it the right file?")
            value = z[key]
    except (zipfile.BadZipFile, OSError, EOFError, pickle.UnpicklingError) as exc:
        raise _open_error(path, exc) from None
    return value.item() if value.dtype == object and value.shape == () else value
