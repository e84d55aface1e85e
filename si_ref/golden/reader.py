"""Reading a golden vector set back: :func:`load`, :func:`load_json` and :class:`GoldenSet`.

Both readers check the folder, the manifest's format version and every array's
shape and sha256 against ``manifest.json`` (the format is documented in
:mod:`si_ref.golden.format`), and name the first bad array with how to regenerate the set.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .format import FILES, FORMAT_VERSION, _REGENERATE, _digest, _from_json, _version


@dataclass(frozen=True)
class GoldenSet:
    """A loaded, hash-checked golden vector set.

    Attributes
    ----------
    directory : Path
    manifest : dict
        The parsed ``manifest.json``.
    arrays : dict
        ``{key: ndarray}`` (float64, read-only).
    """

    directory: Path
    manifest: dict = field(repr=False)
    arrays: dict = field(repr=False)

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self.arrays:
            raise KeyError(f"no golden array {key!r}; see manifest['arrays'] for the keys.")
        return self.arrays[key]

    @property
    def eps(self) -> float:
        return float(self.manifest["eps"])

    @property
    def quantities(self) -> tuple:
        """The quantities with stored vectors, sorted."""
        return tuple(sorted({e["quantity"] for e in self.manifest["entries"]}))

    def entries(self, quantity: str | None = None, reference: str | None = None) -> list:
        """The entries (dicts, see :mod:`si_ref.golden.format`), optionally of one quantity and one reference."""
        return [e for e in self.manifest["entries"]
                if (quantity is None or e["quantity"] == quantity)
                and (reference is None or e["reference"] == reference)]

    def references(self, quantity: str) -> tuple:
        """Names of the references with stored vectors for ``quantity``, in entry order."""
        return tuple(e["reference"] for e in self.entries(quantity))


def _directory(directory) -> Path:
    if isinstance(directory, (str, Path)) or hasattr(directory, "__fspath__"):
        path = Path(directory)
    else:
        raise TypeError(f"directory must be a path (str or path-like); received {directory!r} of type "
                        f"{type(directory).__name__}.")
    if not path.is_dir():
        raise ValueError(f"golden vector folder {str(path)!r} does not exist (or is not a folder); write one with "
                         f"`si-ref golden --out {path}` (or si_ref.golden.write(path)).")
    for name in FILES[:2]:
        if not (path / name).is_file():
            raise ValueError(f"{str(path)!r} is not a golden vector folder: {name} is missing; {_REGENERATE}.")
    return path


def _read_manifest(path: Path) -> dict:
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read {str(path / 'manifest.json')!r} ({exc}); {_REGENERATE}.") from None
    if not isinstance(manifest, dict) or "format_version" not in manifest:
        raise ValueError(f"{str(path / 'manifest.json')!r} has no format_version; it is not a golden vector "
                         f"manifest; {_REGENERATE}.")
    if manifest["format_version"] != FORMAT_VERSION:
        raise ValueError(f"the golden vectors in {str(path)!r} have format_version {manifest['format_version']!r}; "
                         f"this si_ref ({_version()}) reads format_version {FORMAT_VERSION}; {_REGENERATE}.")
    for required in ("arrays", "entries", "eps", "references"):
        if required not in manifest:
            raise ValueError(f"{str(path / 'manifest.json')!r} lacks {required!r}; {_REGENERATE}.")
    return manifest


def _checked(arrays: dict, manifest: dict, source: str) -> dict:
    """Compare keys, shapes and sha256 with the manifest; raise naming the first bad array."""
    records = {r["key"]: r for r in manifest["arrays"]}
    missing = sorted(set(records) - set(arrays))
    extra = sorted(set(arrays) - set(records))
    if missing or extra:
        raise ValueError(f"{source} does not match manifest.json: arrays missing {missing[:5]}, not in the manifest "
                         f"{extra[:5]}; {_REGENERATE}.")
    for key in sorted(records):
        record, array = records[key], arrays[key]
        if list(array.shape) != list(record["shape"]):
            raise ValueError(f"golden array {key!r} in {source} has shape {array.shape}; the manifest records "
                             f"{tuple(record['shape'])}: the file is corrupted; {_REGENERATE}.")
        digest = _digest(array)
        if digest != record["sha256"]:
            raise ValueError(f"golden array {key!r} in {source} is corrupted: its sha256 is {digest}, the manifest "
                             f"records {record['sha256']}; {_REGENERATE}.")
        array.setflags(write=False)
    return arrays


def load(directory) -> GoldenSet:
    """Read a golden vector set and check it against its manifest.

    Parameters
    ----------
    directory : str or path-like
        A folder written by :func:`write`.

    Returns
    -------
    GoldenSet

    Raises
    ------
    ValueError
        If the folder or a file is missing, the format version differs, or an
        array's shape or sha256 differs from the manifest (the message names the
        array and says how to regenerate the set).
    """
    path = _directory(directory)
    manifest = _read_manifest(path)
    arrays = {}
    try:
        with np.load(path / "vectors.npz", allow_pickle=False) as archive:
            for key in archive.files:
                array = archive[key]
                if array.dtype != np.dtype("<f8"):
                    raise ValueError(f"golden array {key!r} in vectors.npz has dtype {array.dtype}; expected "
                                     f"float64 (<f8); {_REGENERATE}.")
                arrays[key] = np.ascontiguousarray(array)
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(f"cannot read {str(path / 'vectors.npz')!r} ({exc}); {_REGENERATE}.") from None
    return GoldenSet(path, manifest, _checked(arrays, manifest, "vectors.npz"))


def load_json(directory) -> dict:
    """Read ``vectors.json`` (the NumPy-free variant) as ``{key: float64 ndarray}``, checked against the manifest.

    The strings ``"inf"``, ``"-inf"`` and ``"nan"`` are decoded to the floats; every
    array's sha256 must equal the manifest's (so the JSON holds exactly the bits of
    ``vectors.npz``). Raises ValueError like :func:`load`.
    """
    path = _directory(directory)
    manifest = _read_manifest(path)
    try:
        document = json.loads((path / "vectors.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read {str(path / 'vectors.json')!r} ({exc}); {_REGENERATE}.") from None
    if document.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"vectors.json has format_version {document.get('format_version')!r}; expected "
                         f"{FORMAT_VERSION}; {_REGENERATE}.")
    arrays = {key: _from_json(value) for key, value in document["arrays"].items()}
    for record in manifest["arrays"]:   # an empty dimension cannot be read back from nested lists
        if record["key"] in arrays and arrays[record["key"]].size == 0:
            arrays[record["key"]] = arrays[record["key"]].reshape(record["shape"])
    return _checked(arrays, manifest, "vectors.json")
