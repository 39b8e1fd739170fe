"""A small ASF/AMC (Acclaim) reader (vectorised forward kinematics) and the map of its bones to H36M-17.

ASF (skeleton): ``:units`` (``length L``: one file unit is 1/L inch; ``angle deg|rad``), ``:root`` (``order``:
the channels of the root's AMC line, e.g. ``TX TY TZ RX RY RZ``; ``axis``/``orientation``/``position``),
``:bonedata`` (per bone: ``name``, unit ``direction``, ``length``, ``axis a1 a2 a3 XYZ``, ``dof rx ry rz``)
and ``:hierarchy`` (``parent child child ...``).  AMC (motion): a few ``:`` header lines, then per frame
its number and one line ``bone v1 v2 ...`` per moving bone, values in the bone's ``dof`` order.

Forward kinematics (the Acclaim convention): a bone's ``axis`` gives the fixed rotation C; a frame's values
give M (rotations applied in the listed order: ``rx ry rz`` -> M = Rz @ Ry @ Rx); the bone's global rotation
is R = R_parent @ C @ M @ C^-1 and the joint at the **end** of the bone is its parent's end plus
R @ (direction * length).  The root sits at ``position`` + its translation channels; its rotation is
C_root @ M_root @ C_root^-1 with C_root from ``orientation`` in the root's ``axis`` order.

H36M-17 from bone ends (``ASF_TO_H36M``, as in ``shared/mocap/real/README.md``): hips, knees, ankles = ends of
``*hipjoint``, ``*femur``, ``*tibia``; Spine = ``lowerback``; Thorax = ``thorax`` (where the clavicles start,
as H36M's shoulders hang off its Thorax: pelvis-thorax 0.46-0.54 m for HDM05, H36M about 0.49 m); Neck/Nose =
``upperneck``; Head = ``head``; shoulders, elbows, wrists = ``*clavicle``, ``*humerus``, ``*radius``; pelvis =
midpoint of the hips.  The cgspeed BVH conversions of the same takes drop the ``thorax`` bone, so their neck,
head and arms sit one thorax length (about 0.12 m for CMU 01) lower than here, and their Thorax (``Neck1``) is
the end of ``lowerneck`` shifted down the same way (``tests/test_data_asf_amc.py`` pins both).

Text: files are decoded as UTF-8, or as Latin-1 when that fails (HDM05's AMC headers hold a Latin-1 path).
Malformed files raise ``ValueError`` naming the file and the line: ``:units`` or its ``length`` missing, a
bone with an unknown parent or child, a cycle, a bone with two parents, a truncated AMC (a frame with a
missing bone line), a bone line with the wrong number of values for its ``dof``, non-finite values.

Shapes: bone ends (T, B, 3) in metres (Y up, as in the file); H36M output (T, 17, 3) metres, Y up, the
same convention as ``bvh.bvh_to_h36m17`` so that ``cmu.resample`` / ``cmu.to_h36m_world`` apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mdtf_lite.data.synthetic.body import rot_x, rot_y, rot_z
from mdtf_lite.data.units import check_metres

__all__ = [
    "AsfBone",
    "Asf",
    "Amc",
    "read_asf",
    "read_amc",
    "asf_amc_positions",
    "ASF_TO_H36M",
    "INCH_M",
    "asf_amc_to_h36m17",
    "read_text",
]

INCH_M = 0.0254
_ROT = {"x": rot_x, "y": rot_y, "z": rot_z}

#: H36M joint -> ASF bone whose END is that joint (CMU and HDM05 bone names).
ASF_TO_H36M = {
    1: "rhipjoint",
    2: "rfemur",
    3: "rtibia",
    4: "lhipjoint",
    5: "lfemur",
    6: "ltibia",
    7: "lowerback",
    8: "thorax",
    9: "upperneck",
    10: "head",
    11: "lclavicle",
    12: "lhumerus",
    13: "lradius",
    14: "rclavicle",
    15: "rhumerus",
    16: "rradius",
}


@dataclass
class AsfBone:
    name: str
    direction: np.ndarray  # (3,) unit vector, rest pose, global frame
    length: float  # file units
    axis: np.ndarray  # (3,) angles (radians) in the order of axis_order
    axis_order: str  # e.g. "xyz"
    dof: list[str]  # e.g. ["rx", "ry", "rz"]; [] for a fixed bone
    line: int  # line of its ``name`` in the ASF
    parent: int = -1  # index into Asf.bones; -1 = the root


@dataclass
class Asf:
    path: Path
    length_unit_m: float  # metres per file length unit
    angle_scale: float  # radians per file angle unit
    root_order: list[str]  # e.g. ["tx", "ty", "tz", "rx", "ry", "rz"]
    root_axis_order: str  # e.g. "xyz"
    root_position: np.ndarray  # (3,) file units
    root_orientation: np.ndarray  # (3,) radians
    bones: list[AsfBone] = field(default_factory=list)  # in topological order (parents first)

    @property
    def names(self) -> list[str]:
        return [b.name for b in self.bones]


@dataclass
class Amc:
    path: Path
    frames: int
    values: dict[str, np.ndarray]  # bone name ("root" included) -> (T, dof) values, file units / degrees
    angle_scale: float  # radians per AMC angle unit (``:DEGREES`` or ``:RADIANS``)


def read_text(path) -> tuple[Path, list[str]]:
    """The file's lines; UTF-8, or Latin-1 when the bytes are not UTF-8 (any byte sequence is Latin-1)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return path, text.splitlines()


def _error(path, line: int | None, msg: str, fix: str) -> ValueError:
    where = f"{path}, line {line}" if line is not None else f"{path}"
    return ValueError(f"{where}: {msg}; {fix}")


_ASF_FIX = "check that the ASF file is a complete Acclaim skeleton (CMU / HDM05 style)"
_AMC_FIX = "check that the AMC file is complete and uncorrupted and belongs to this ASF skeleton"


def _floats(path, n: int, parts: list[str], count: int, what: str) -> np.ndarray:
    try:
        v = np.array([float(p) for p in parts[:count]])
    except ValueError:
        raise _error(path, n, f"{what} must be numbers, got {' '.join(parts)!r}", _ASF_FIX) from None
    if v.shape != (count,) or not np.isfinite(v).all():
        raise _error(path, n, f"{what} must be {count} finite numbers, got {' '.join(parts)!r}", _ASF_FIX)
    return v


def _order(path, n: int, token: str) -> str:
    o = token.lower()
    if sorted(o) != ["x", "y", "z"]:
        raise _error(path, n, f"rotation order {token!r} is not a permutation of XYZ", _ASF_FIX)
    return o


def read_asf(path) -> Asf:
    """Parse an ASF skeleton; bones come out parents first.  ValueError naming the line on malformed input."""
    path, lines = read_text(path)
    section = None
    units: dict[str, tuple[str, int]] = {}
    root = {
        "order": ["tx", "ty", "tz", "rx", "ry", "rz"],
        "axis": "xyz",
        "position": np.zeros(3),
        "orientation": np.zeros(3),
    }
    bones: list[dict] = []
    current: dict | None = None
    edges: list[tuple[str, str, int]] = []  # (parent, child, line)
    for n, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        key = parts[0].lower()
        if key.startswith(":"):
            section = key[1:]
            if section == "units":
                units["_present"] = ("", n)
            continue
        if section == "units":
            if len(parts) < 2:
                raise _error(path, n, f":units line {line!r} has no value", _ASF_FIX)
            units[key] = (parts[1], n)
        elif section == "root":
            if key == "order":
                order = [p.lower() for p in parts[1:]]
                bad = [p for p in order if p not in ("tx", "ty", "tz", "rx", "ry", "rz")]
                if bad or len(set(order)) != len(order):
                    raise _error(path, n, f"root order {line!r}: channels must be distinct TX TY TZ RX RY RZ", _ASF_FIX)
                root["order"] = order
            elif key == "axis":
                root["axis"] = _order(path, n, parts[1] if len(parts) > 1 else "")
            elif key in ("position", "orientation"):
                root[key] = _floats(path, n, parts[1:], 3, f"root {key}")
        elif section == "bonedata":
            if key == "begin":
                if current is not None:
                    raise _error(
                        path, n, f"'begin' inside bone {current.get('name')!r} (its 'end' is missing)", _ASF_FIX
                    )
                current = {"line": n, "dof": [], "axis": np.zeros(3), "axis_order": "xyz"}
            elif key == "end":
                if current is None:
                    raise _error(path, n, "'end' without 'begin'", _ASF_FIX)
                for need in ("name", "direction", "length"):
                    if need not in current:
                        raise _error(
                            path, current["line"], f"bone {current.get('name', '?')!r} has no {need}", _ASF_FIX
                        )
                bones.append(current)
                current = None
            elif current is None:
                raise _error(path, n, f"{line!r} outside a bone's begin/end", _ASF_FIX)
            elif key == "name":
                if len(parts) != 2:
                    raise _error(path, n, f"bone name line {line!r} must be 'name <bone>'", _ASF_FIX)
                current["name"], current["line"] = parts[1], n
            elif key == "direction":
                current["direction"] = _floats(path, n, parts[1:], 3, "direction")
            elif key == "length":
                current["length"] = float(_floats(path, n, parts[1:], 1, "length")[0])
            elif key == "axis":
                if len(parts) != 5:
                    raise _error(path, n, f"axis line {line!r} must be 'axis a1 a2 a3 XYZ'", _ASF_FIX)
                current["axis"] = _floats(path, n, parts[1:4], 3, "axis")
                current["axis_order"] = _order(path, n, parts[4])
            elif key == "dof":
                dof = [p.lower() for p in parts[1:]]
                bad = [d for d in dof if d not in ("rx", "ry", "rz")]
                if bad:
                    raise _error(
                        path,
                        n,
                        f"dof {bad} of bone {current.get('name')!r}: only rotations rx ry rz are "
                        "supported (translation/length dofs are not used by CMU or HDM05)",
                        _ASF_FIX,
                    )
                if len(set(dof)) != len(dof):
                    raise _error(path, n, f"dof {dof} repeats an axis", _ASF_FIX)
                current["dof"] = dof
            # id, limits, bodymass, cofmass and limit continuation lines are not needed
        elif section == "hierarchy":
            if key in ("begin", "end"):
                continue
            for child in parts[1:]:
                edges.append((parts[0], child, n))
    if current is not None:
        raise _error(path, current["line"], f"bone {current.get('name', '?')!r} is not closed with 'end'", _ASF_FIX)
    if "_present" not in units:
        raise _error(
            path,
            None,
            "no ':units' section (its 'length' gives the size of a file unit)",
            "add ':units' with 'length 0.45' (CMU and HDM05: one unit = 1/0.45 inch) and 'angle deg'",
        )
    if "length" not in units:
        raise _error(
            path,
            units["_present"][1],
            "':units' has no 'length' line (the size of a file unit)",
            "add 'length 0.45' (CMU and HDM05: one unit = 1/0.45 inch)",
        )
    try:
        length = float(units["length"][0])
    except ValueError:
        length = float("nan")
    if not (np.isfinite(length) and length > 0):
        raise _error(
            path, units["length"][1], f"units length {units['length'][0]!r} must be a positive number", _ASF_FIX
        )
    angle = units.get("angle", ("deg", None))
    if angle[0].lower() not in ("deg", "rad"):
        raise _error(path, angle[1], f"units angle {angle[0]!r} must be deg or rad", _ASF_FIX)
    angle_scale = np.pi / 180 if angle[0].lower() == "deg" else 1.0
    if not bones:
        raise _error(path, None, "no bones in ':bonedata'", _ASF_FIX)

    index: dict[str, int] = {}
    for b in bones:
        if b["name"] in index or b["name"] == "root":
            raise _error(path, b["line"], f"bone name {b['name']!r} is used twice (or is 'root')", _ASF_FIX)
        index[b["name"]] = len(index)
    parent = {name: None for name in index}
    for par, child, n in edges:
        if par != "root" and par not in index:
            raise _error(path, n, f"hierarchy names an unknown parent {par!r} (not a bone in :bonedata)", _ASF_FIX)
        if child not in index:
            raise _error(path, n, f"hierarchy names an unknown bone {child!r} under {par!r}", _ASF_FIX)
        if parent[child] is not None:
            raise _error(
                path,
                n,
                f"bone {child!r} gets a second parent {par!r} (it already hangs off "
                f"{parent[child][0]!r}, line {parent[child][1]})",
                _ASF_FIX,
            )
        parent[child] = (par, n)
    for name, p in parent.items():
        if p is None:
            raise _error(path, bones[index[name]]["line"], f"bone {name!r} is not in ':hierarchy'", _ASF_FIX)
    # order parents first; a bone that never reaches the root is on a cycle
    depth: dict[str, int] = {}
    for name in index:
        chain, cur = [], name
        while cur != "root" and cur not in depth:
            if cur in chain:
                loop = " -> ".join(chain[chain.index(cur) :] + [cur])
                raise _error(
                    path,
                    parent[cur][1],
                    f"the hierarchy has a cycle ({loop})",
                    "every bone must hang off 'root' through a chain of parents",
                )
            chain.append(cur)
            cur = parent[cur][0]
        d = 0 if cur == "root" else depth[cur] + 1
        for c in reversed(chain):
            depth[c] = d
            d += 1
    names = sorted(index, key=lambda s: (depth[s], index[s]))
    new = {name: k for k, name in enumerate(names)}
    out = Asf(
        path,
        INCH_M / length,
        angle_scale,
        root["order"],
        root["axis"],
        root["position"],
        root["orientation"] * angle_scale,
    )
    for name in names:
        b = bones[index[name]]
        par = parent[name][0]
        out.bones.append(
            AsfBone(
                name,
                b["direction"],
                b["length"],
                b["axis"] * angle_scale,
                b["axis_order"],
                b["dof"],
                b["line"],
                -1 if par == "root" else new[par],
            )
        )
    return out


def read_amc(path, asf: Asf) -> Amc:
    """Parse an AMC against its skeleton: every frame must hold one line per moving bone and the root.

    Frames are numbered lines (1, 2, ...); each bone line holds exactly its ``dof`` count of values (the root:
    its ``order`` channels).  ValueError naming the line otherwise.
    """
    path, lines = read_text(path)
    dofs = {"root": len(asf.root_order)}
    dofs.update({b.name: len(b.dof) for b in asf.bones if b.dof})
    angle_scale = np.pi / 180
    rows: list[tuple[int, list[str]]] = []  # (line number, tokens) of the motion body
    frame_lines: list[int] = []  # index into rows of each frame-number line
    header = True
    for n, raw in enumerate(lines, start=1):
        s = raw.strip()
        if not s or s.startswith("#"):
            continue
        if header and s.startswith(":"):
            if s.upper() == ":RADIANS":
                angle_scale = 1.0
            continue
        header = False
        parts = s.split()
        if len(parts) == 1 and parts[0].isdigit():
            frame_lines.append(len(rows))
        rows.append((n, parts))
    if not frame_lines:
        raise _error(path, None, "no motion frames (a frame starts with a line holding its number)", _AMC_FIX)
    if frame_lines[0] != 0:
        n, parts = rows[0]
        raise _error(path, n, f"{' '.join(parts)!r} comes before the first frame number", _AMC_FIX)
    per = len(dofs)
    numbers = np.array([int(rows[i][1][0]) for i in frame_lines])
    steps = np.flatnonzero(np.diff(numbers) != 1)
    if steps.size:
        k = int(steps[0]) + 1
        raise _error(
            path,
            rows[frame_lines[k]][0],
            f"frame {numbers[k]} follows frame {numbers[k - 1]} (frames must be numbered consecutively)",
            _AMC_FIX,
        )
    T = len(frame_lines)
    bounds = frame_lines + [len(rows)]
    counts = np.diff(bounds) - 1
    wrong = np.flatnonzero(counts != per)
    if wrong.size:  # name the missing / extra bone and the line
        k = int(wrong[0])
        got = [rows[i][1][0] for i in range(bounds[k] + 1, bounds[k + 1])]
        missing = [b for b in dofs if b not in got]
        extra = sorted(set(b for b in got if b not in dofs or got.count(b) > 1))
        n = rows[frame_lines[k]][0]
        last = k == T - 1 and counts[k] < per
        raise _error(
            path,
            n,
            f"frame {numbers[k]} has {counts[k]} bone lines, expected {per} (missing "
            f"{missing or 'none'}, unexpected or repeated {extra or 'none'})"
            + ("; the file looks truncated" if last else ""),
            _AMC_FIX if not last else "download or export it again, or cut the last frame off",
        )
    body = [r for k in range(T) for r in rows[bounds[k] + 1 : bounds[k + 1]]]
    names = [r[1][0] for r in body]
    first = names[:per]
    unknown = [b for b in first if b not in dofs]
    if unknown or len(set(first)) != per:
        raise _error(
            path,
            rows[0][0],
            f"frame {numbers[0]} lists bones {first}; expected each of {sorted(dofs)} once "
            f"(unknown or without dof in the ASF: {unknown})",
            _AMC_FIX,
        )
    if names != first * T:  # the same bones in the same order in every frame? (fast path below relies on it)
        order = {b: i for i, b in enumerate(first)}
        for i, (n, parts) in enumerate(body):
            if order.get(parts[0]) != i % per:
                k = i // per
                got = [r[1][0] for r in body[k * per : (k + 1) * per]]
                missing = [b for b in dofs if b not in got]
                raise _error(
                    path,
                    n,
                    f"frame {numbers[k]}: bone line {parts[0]!r} where {first[i % per]!r} was "
                    f"expected (missing {missing or 'none'}); every frame must list the same bones",
                    _AMC_FIX,
                )
    values: dict[str, np.ndarray] = {}
    for j, bone in enumerate(first):
        mine = body[j::per]
        want = dofs[bone]
        bad = [r for r in mine if len(r[1]) != want + 1]
        if bad:
            n, parts = bad[0]
            raise _error(
                path,
                n,
                f"bone {bone!r} has {len(parts) - 1} values, expected {want} (its dof in the "
                "ASF); wrong skeleton for this motion, or a damaged line",
                _AMC_FIX,
            )
        try:
            v = np.array([r[1][1:] for r in mine], dtype=np.float64).reshape(T, want)
        except ValueError:
            for n, parts in mine:
                for tok in parts[1:]:
                    try:
                        float(tok)
                    except ValueError:
                        raise _error(path, n, f"bone {bone!r}: {tok!r} is not a number", _AMC_FIX) from None
            raise
        if not np.isfinite(v).all():
            t = int(np.argmax(~np.isfinite(v).all(axis=1)))
            raise _error(
                path,
                mine[t][0],
                f"bone {bone!r} in frame {numbers[t]} has a non-finite value ({' '.join(mine[t][1][1:])})",
                "fix or drop that frame",
            )
        values[bone] = v
    return Amc(path, T, values, angle_scale)


def _rotation(order: str, angles: np.ndarray) -> np.ndarray:
    """Rotations applied in ``order`` (first letter first): ``xyz`` -> Rz @ Ry @ Rx.  angles (..., 3) -> (..., 3, 3)."""
    R = _ROT[order[0]](angles[..., 0])
    for k in (1, 2):
        R = _ROT[order[k]](angles[..., k]) @ R
    return R


def asf_amc_positions(asf: Asf, amc: Amc) -> np.ndarray:
    """Global positions (T, B + 1, 3) in metres: the root first, then the END of every bone in ``asf.bones``."""
    T = amc.frames
    root_vals = amc.values["root"]
    trans = np.zeros((T, 3))
    rot_angles = np.zeros((T, 3))
    rot_order = ""
    for c, ch in enumerate(asf.root_order):
        if ch[0] == "t":
            trans[:, "xyz".index(ch[1])] = root_vals[:, c]
        else:
            rot_angles[:, len(rot_order)] = root_vals[:, c] * amc.angle_scale
            rot_order += ch[1]
    M = np.broadcast_to(np.eye(3), (T, 3, 3)).copy()
    for k, axis in enumerate(rot_order):
        M = _ROT[axis](rot_angles[:, k]) @ M
    C = _rotation(asf.root_axis_order, asf.root_orientation)
    root_R = C @ M @ C.T
    root_pos = asf.root_position + trans
    B = len(asf.bones)
    ends = np.zeros((T, B, 3))
    rots = np.zeros((T, B, 3, 3))
    for k, b in enumerate(asf.bones):
        C = _rotation(b.axis_order, b.axis)
        M = np.broadcast_to(np.eye(3), (T, 3, 3)).copy()
        if b.dof:
            v = amc.values[b.name] * amc.angle_scale
            for d, axis in enumerate(b.dof):
                M = _ROT[axis[1]](v[:, d]) @ M
        parent_R = root_R if b.parent < 0 else rots[:, b.parent]
        parent_end = root_pos if b.parent < 0 else ends[:, b.parent]
        rots[:, k] = parent_R @ (C @ M @ C.T)
        ends[:, k] = parent_end + rots[:, k] @ (b.direction * b.length)
    return np.concatenate([root_pos[:, None], ends], axis=1) * asf.length_unit_m


def asf_amc_to_h36m17(asf_path, amc_path, asf: Asf | None = None) -> tuple[np.ndarray, float]:
    """ASF + AMC -> (joints (T, 17, 3) metres in the file's Y-up frame, fps = 120).

    Acclaim files carry no frame rate; CMU and HDM05 capture at 120 fps.  ``asf``: an already parsed skeleton
    (saves re-reading it for every take of one person).
    """
    asf = asf if asf is not None else read_asf(asf_path)
    missing = sorted(set(ASF_TO_H36M.values()) - set(asf.names))
    if missing:
        raise ValueError(
            f"{asf.path}: the skeleton lacks bones needed for H36M-17: {missing}; only CMU / HDM05 "
            "style Acclaim skeletons (lhipjoint, lfemur, ltibia, lowerback, ...) are mapped"
        )
    amc = read_amc(amc_path, asf)
    pos = asf_amc_positions(asf, amc)
    index = {name: k + 1 for k, name in enumerate(asf.names)}
    out = np.zeros((amc.frames, 17, 3))
    for j, name in ASF_TO_H36M.items():
        out[:, j] = pos[:, index[name]]
    out[:, 0] = (out[:, 1] + out[:, 4]) / 2
    if len(out) < 2:
        raise ValueError(f"{amc.path}: only {len(out)} frame(s) of motion")
    check_metres(out, amc.path, "the Acclaim skeleton (converted with :units length)")
    return out, 120.0
