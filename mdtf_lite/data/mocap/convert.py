"""``python -m data_tools convert-mocap SRC... --out DIR``: folders of CMU / HDM05 mocap -> compact H36M-17 arrays.

    SRC (files or folders, searched recursively for *.bvh and *.amc)
      -> per file: database, person, clip (``find_sources``)
      -> (T, 17, 3) metres, Y up, 120 fps (``bvh.bvh_to_h36m17`` / ``asf_amc.asf_amc_to_h36m17``)
      -> glitches cut out: a joint faster than ``max_speed`` m/s between two frames splits the take; pieces
         shorter than ``min_seconds`` are dropped, so a glitchy head or tail is trimmed (``clean_segments``)
      -> each piece resampled to 50 fps and placed in the H36M world (``cmu.resample``, ``cmu.to_h36m_world``)
      -> DIR/<database>.npz (``store.write_database``), DIR/<database>.json (what was kept, trimmed and
         measured), DIR/LICENSE-<DATABASE>.txt

Who is who: HDM05 files are named ``HDM_<actor>_<motion>_..``: person = actor (bd, bk, dg, ...); every other file
is CMU, named ``<subject>_<take>`` (01_01): person = subject.  An AMC reads the skeleton ``HDM_<actor>.asf`` or
``<subject>.asf`` beside it.  Split by person: ``TEST_PEOPLE`` are test, everyone else trains.
Bone lengths are checked against ``BONE_RANGES_M`` (thigh, shin) and outliers reported (not dropped).
Output bytes depend only on the sources and the options.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mdtf_lite.data.mocap import MOCAP_FPS
from mdtf_lite.data.mocap.store import write_database
from mdtf_lite.data.readers.asf_amc import Asf, asf_amc_to_h36m17, read_asf
from mdtf_lite.data.readers.bvh import bvh_to_h36m17
from mdtf_lite.data.readers.cmu import resample, to_h36m_world

__all__ = [
    "Source",
    "find_sources",
    "clean_segments",
    "bone_lengths",
    "convert_mocap",
    "TEST_PEOPLE",
    "BONE_RANGES_M",
    "LICENCES",
    "MAX_SPEED",
    "MIN_SECONDS",
]

#: (database, person) pairs held out for testing (shared/mocap/real/README.md); all others train.
TEST_PEOPLE = frozenset({("cmu", "01"), ("hdm05", "dg")})
#: plausible adult bone lengths in metres (shared/mocap/real/README.md): thigh = hip-knee, shin = knee-ankle.
BONE_RANGES_M = {"thigh": (0.37, 0.44), "shin": (0.38, 0.49)}
MAX_SPEED = 15.0  # m/s: a joint faster than this between two 120 fps frames (12.5 cm) is a capture glitch
MIN_SECONDS = 0.4  # pieces shorter than this are dropped (the shortest clean HDM05 hop lasts 0.47 s)

_CMU_TERMS = (
    "CMU Graphics Lab Motion Capture Database (http://mocap.cs.cmu.edu)\n\n"
    "The arrays in cmu.npz are H36M-17 joint positions converted from the CMU motion capture takes of subjects\n"
    "01, 02, 03, 05 and 06 (cgspeed MotionBuilder-friendly BVH conversions) by `python -m data_tools\n"
    "convert-mocap` (see cmu.json for the takes and what was trimmed).\n\n"
    "Terms of use, as stated by CMU:\n"
    '"This data is free for use in research projects. You may include this data in commercially-sold products,\n'
    "but you may not resell this data directly, even in converted form. If you publish results obtained using\n"
    "this data, we would appreciate it if you would send the citation to your published paper to\n"
    "jkh+mocap@cs.cmu.edu, and also would add this text to your acknowledgments section: The data used in this\n"
    'project was obtained from mocap.cs.cmu.edu. The database was created with funding from NSF EIA-0196217."\n'
    'The current home page also says: "This dataset of motions is free for all uses."\n\n'
    "Acknowledgement: The data used in this project was obtained from mocap.cs.cmu.edu. The database was created\n"
    "with funding from NSF EIA-0196217.\n"
)
_HDM05_TERMS = (
    "Motion Capture Database HDM05 (http://resources.mpi-inf.mpg.de/HDM05)\n\n"
    "The arrays in hdm05.npz are H36M-17 joint positions converted from the HDM05 ASF/AMC files of actors bd, bk\n"
    'and dg (the "cut" clips of 11 motion classes) by `python -m data_tools convert-mocap` (see hdm05.json for\n'
    "the clips and what was trimmed).  They are an adaptation of HDM05 and are shared under the same licence.\n\n"
    '"Motion Capture Database HDM05 by Motion Capture Database HDM05 is licensed under a Creative Commons\n'
    'Attribution-ShareAlike 3.0 Unported License." (https://creativecommons.org/licenses/by-sa/3.0/)\n\n'
    "Citation: M. Mueller, T. Roeder, M. Clausen, B. Eberhardt, B. Krueger, A. Weber, Documentation Mocap Database\n"
    "HDM05, Technical Report CG-2007-2, Universitaet Bonn, 2007.\n\n"
    "Acknowledgement: The data used in this project was obtained from HDM05.\n\n"
    "Changes made: forward kinematics to 17 joint positions (H36M layout, pelvis = midpoint of the hips),\n"
    "converted to metres and a Z-up frame, resampled from 120 to 50 frames per second, capture glitches cut out,\n"
    "positions rounded to 0.1 mm.\n"
)
#: database -> (short licence tag, licence file name, its text)
LICENCES = {"cmu": ("CMU", "LICENSE-CMU.txt", _CMU_TERMS), "hdm05": ("CC-BY-SA-3.0", "LICENSE-HDM05.txt", _HDM05_TERMS)}

_HDM = re.compile(r"^HDM_([A-Za-z0-9]+)_")
_CMU = re.compile(r"^(\d+)_\d+$")


@dataclass(frozen=True)
class Source:
    database: str  # "cmu" | "hdm05"
    person: str
    clip: str  # the file stem
    path: Path
    asf: Path | None  # the skeleton of an AMC
    name: str  # path relative to the SRC it was found under (reported, never absolute)


def _asf_for(amc: Path, stem: str) -> Path:
    folder = amc.parent
    candidates = [folder / f"{stem}.asf", folder / f"{stem.upper()}.ASF"]
    for c in candidates:
        if c.is_file():
            return c
    found = sorted(folder.glob("*.asf")) + sorted(folder.glob("*.ASF"))
    if len(found) == 1:
        return found[0]
    raise FileNotFoundError(
        f"{amc}: no skeleton {stem}.asf beside it (found {[p.name for p in found]}); put the "
        "person's ASF in the same folder"
    )


def _source(path: Path, root: Path) -> Source:
    name = path.relative_to(root).as_posix() if path != root else path.name
    stem = path.stem
    m = _HDM.match(stem)
    if m:
        if path.suffix.lower() != ".amc":
            raise ValueError(f"{path}: HDM05 motion must be ASF/AMC; convert the .amc files")
        return Source("hdm05", m.group(1), stem, path, _asf_for(path, f"HDM_{m.group(1)}"), name)
    m = _CMU.match(stem)
    person = m.group(1) if m else path.parent.name
    if not person:
        raise ValueError(
            f"{path}: cannot tell the person: name CMU files <subject>_<take> (e.g. 02_01.bvh) or put "
            "them in a folder named after the subject"
        )
    asf = _asf_for(path, person) if path.suffix.lower() == ".amc" else None
    return Source("cmu", person, stem, path, asf, name)


def find_sources(srcs) -> list[Source]:
    """Files (*.bvh, *.amc) and folders searched recursively -> sorted sources; ValueError on a clip found twice."""
    out: list[Source] = []
    for src in srcs:
        src = Path(src)
        if src.is_dir():
            files = sorted(p for p in src.rglob("*") if p.is_file() and p.suffix.lower() in (".bvh", ".amc"))
            if not files:
                raise FileNotFoundError(f"{src}: no .bvh or .amc files under this folder")
            out += [_source(p, src) for p in files]
        elif src.is_file():
            if src.suffix.lower() not in (".bvh", ".amc"):
                raise ValueError(f"{src}: not a .bvh or .amc file (pass motion files or folders holding them)")
            out.append(_source(src, src))
        else:
            raise FileNotFoundError(f"{src} does not exist")
    seen: dict[tuple[str, str], Source] = {}
    for s in out:
        key = (s.database, s.clip)
        if key in seen:
            raise ValueError(
                f"clip {s.clip!r} ({s.database}) is found twice: {seen[key].path} and {s.path}; pass each take once"
            )
        seen[key] = s
    return sorted(out, key=lambda s: (s.database, s.person, s.clip))


def clean_segments(
    x: np.ndarray, fps: float, max_speed: float = MAX_SPEED, min_seconds: float = MIN_SECONDS
) -> tuple[list[tuple[int, int]], list[dict]]:
    """Pieces of ``x`` (T, 17, 3) metres without a glitch: [(start, stop)] and the glitches [{frame, joint, speed}].

    A glitch is a frame t where some joint moved faster than ``max_speed`` m/s since frame t - 1; the take is
    cut between t - 1 and t, and pieces shorter than ``min_seconds`` are dropped.
    """
    speed = np.linalg.norm(np.diff(x, axis=0), axis=-1) * fps  # (T - 1, 17)
    cuts = np.flatnonzero(speed.max(axis=1) > max_speed) + 1
    glitches = [
        {"frame": int(t), "joint": int(np.argmax(speed[t - 1])), "speed_m_s": round(float(speed[t - 1].max()), 2)}
        for t in cuts
    ]
    bounds = [0] + cuts.tolist() + [len(x)]
    keep = [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if (b - a) / fps >= min_seconds]
    return keep, glitches


def bone_lengths(x: np.ndarray) -> dict[str, list[float]]:
    """Median thigh and shin lengths (m), [right, left], of joints (T, 17, 3)."""
    med = lambda a, b: round(float(np.median(np.linalg.norm(x[:, a] - x[:, b], axis=-1))), 4)  # noqa: E731
    return {"thigh": [med(1, 2), med(4, 5)], "shin": [med(2, 3), med(5, 6)]}


def _read(src: Source, skeletons: dict[Path, Asf]) -> tuple[np.ndarray, float]:
    if src.asf is None:
        x, fps, _ = bvh_to_h36m17(src.path)
        return x, fps
    if src.asf not in skeletons:
        skeletons[src.asf] = read_asf(src.asf)
    return asf_amc_to_h36m17(src.asf, src.path, asf=skeletons[src.asf])


def convert_mocap(
    srcs, out, max_speed: float = MAX_SPEED, min_seconds: float = MIN_SECONDS, test_people=None, log=print
) -> list[Path]:
    """Convert every take under ``srcs``; write ``out``/<database>.npz, .json and its licence. Returns the npz paths.

    ``test_people``: (database, person) pairs of the test split, each of which must be among the sources;
    None: ``TEST_PEOPLE`` where present.
    """
    if not (max_speed > 0 and min_seconds > 0):
        raise ValueError(f"max_speed={max_speed} and min_seconds={min_seconds} must be positive")
    sources = find_sources(srcs)
    # test people named explicitly must all be there: a typo would silently train on a test person
    unknown = set(test_people or ()) - {(s.database, s.person) for s in sources}
    test_people = TEST_PEOPLE if test_people is None else frozenset(test_people)
    if unknown:
        raise ValueError(
            f"test people {sorted(unknown)} are not among the people found under {[str(p) for p in srcs]} "
            f"({sorted({(s.database, s.person) for s in sources})}); name test people as database:person"
        )
    out = Path(out)
    skeletons: dict[Path, Asf] = {}
    written = []
    for db in sorted({s.database for s in sources}):
        clips, report, people = [], [], {}
        for src in (s for s in sources if s.database == db):
            x, fps = _read(src, skeletons)
            keep, glitches = clean_segments(x, fps, max_speed, min_seconds)
            split = "test" if (db, src.person) in test_people else "train"
            lengths = bone_lengths(x)
            flags = [
                f"{bone} {side} {v:.3f} m outside {lo}-{hi} m"
                for bone, (lo, hi) in BONE_RANGES_M.items()
                for side, v in zip(("right", "left"), lengths[bone])
                if not lo <= v <= hi
            ]
            people.setdefault(src.person, {"split": split, "bone_lengths_m": lengths, "outliers": flags})
            names = [src.clip] if len(keep) == 1 else [f"{src.clip}_part{k + 1}" for k in range(len(keep))]
            for name, (a, b) in zip(names, keep):
                world = to_h36m_world(resample(x[a:b], fps, MOCAP_FPS))
                clips.append({"clip": name, "person": src.person, "split": split, "positions": world})
            kept_frames = sum(b - a for a, b in keep)
            report.append(
                {
                    "clip": src.clip,
                    "source": src.name,
                    "person": src.person,
                    "split": split,
                    "source_frames": len(x),
                    "source_fps": fps,
                    "kept": [list(k) for k in keep],
                    "parts": names if keep else [],
                    "trimmed_frames": len(x) - kept_frames,
                    "glitches": glitches,
                }
            )
            if glitches or kept_frames < len(x):
                log(
                    f"{db} {src.clip}: {len(glitches)} glitch(es) "
                    + ", ".join(f"frame {g['frame']} joint {g['joint']} {g['speed_m_s']} m/s" for g in glitches[:4])
                    + (" ..." if len(glitches) > 4 else "")
                    + f"; kept {keep} of {len(x)} frames ({len(x) - kept_frames} trimmed)"
                    + ("; DROPPED (nothing clean is long enough)" if not keep else "")
                )
        for person, info in sorted(people.items()):
            for flag in info["outliers"]:
                log(f"{db} person {person}: bone length {flag}")
        if not clips:
            raise ValueError(f"{db}: every take was dropped as glitchy; raise --max-speed or lower --min-seconds")
        tag, licence_file, text = LICENCES[db]
        path = write_database(out / f"{db}.npz", db, tag, clips, MOCAP_FPS)
        (out / licence_file).write_text(text, encoding="utf-8")
        meta = {
            "database": db,
            "licence": tag,
            "licence_file": licence_file,
            "fps": MOCAP_FPS,
            "max_speed_m_s": max_speed,
            "min_seconds": min_seconds,
            "bone_ranges_m": BONE_RANGES_M,
            "clips": len(clips),
            "frames": int(sum(len(c["positions"]) for c in clips)),
            "people": dict(sorted(people.items())),
            "takes": report,
        }
        (out / f"{db}.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        log(
            f"{db}: {len(clips)} clips, {meta['frames']} frames at {MOCAP_FPS:g} fps, "
            f"{len(people)} people -> {path} ({path.stat().st_size / 1e6:.2f} MB)"
        )
        written.append(path)
    return written
