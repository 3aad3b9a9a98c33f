"""The SageMaker source bundle: deterministic bytes, the scripts at the root, the core package,
a requirements.txt that never reaches for an index, and the wheels the container lacks."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

import infra.bundling as bundling
from exportintel.models import source_bundle
from exportintel.models.source_bundle import (
    BUNDLE_NAME,
    CONTAINER_MODULES,
    JOBS_DIR,
    PACKAGE_DIR,
    REQUIREMENTS,
    SUPPORT,
    BundleError,
    build_source_bundle,
    normalise_name,
    wheel_names,
)
from tests.imports import third_party_imports

MODELS = ("continuity", "matching", "markets")
# Functions of shared modules that only the Glue jobs call (Spark column expressions).
GLUE_ONLY = {"pyspark"}
FAKE_VERSIONS = {"implicit": "0.7.3", "pycountry": "26.2.16", "tzdata": "2026.6",
                 "orjson": "3.13.0", "aws-lambda-powertools": "3.37.0", "tqdm": "4.70.1",
                 "threadpoolctl": "3.8.0", "jmespath": "1.1.0",
                 "typing-extensions": "4.16.0"}  # fmt: skip


def fake_wheels(folder: Path, model: str) -> Path:
    """Empty files named like the real wheels: the bundle copies them without reading them."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in wheel_names(model):
        wheel = f"{name.replace('-', '_')}-{FAKE_VERSIONS[name]}-py3-none-any.whl"
        (folder / wheel).write_bytes(name.encode())
    return folder


def _distribution(member: str) -> str:
    return normalise_name(member.split("/")[1].split("-")[0])


def members(bundle: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(bundle, "r:gz") as tar:
        return {info.name: info for info in tar.getmembers()}


def read_member(bundle: Path, name: str) -> str:
    with tarfile.open(bundle, "r:gz") as tar:
        extracted = tar.extractfile(name)
        assert extracted is not None
        return extracted.read().decode("utf-8")


@pytest.mark.parametrize("model", MODELS)
def test_the_same_sources_give_the_same_bytes(model: str, tmp_path: Path) -> None:
    wheels = fake_wheels(tmp_path / "wheels", model)
    first = build_source_bundle(model, tmp_path / "one", wheels_dir=wheels)
    second = build_source_bundle(model, tmp_path / "two", wheels_dir=wheels)
    assert first.name == BUNDLE_NAME
    assert first.read_bytes() == second.read_bytes()
    # No time or name in the gzip header, none in the members, which come sorted.
    assert first.read_bytes()[4:8] == b"\0\0\0\0"
    assert gzip.decompress(first.read_bytes())  # a valid gzip stream
    infos = list(members(first).values())
    assert [i.name for i in infos] == sorted(i.name for i in infos)
    assert {(i.mtime, i.uid, i.gid, i.uname, i.gname, i.mode) for i in infos} == {
        (0, 0, 0, "", "", 0o644)
    }


@pytest.mark.parametrize("model", MODELS)
def test_the_bundle_holds_the_scripts_the_package_its_data_and_the_wheels(
    model: str, tmp_path: Path
) -> None:
    bundle = build_source_bundle(
        model, tmp_path, wheels_dir=fake_wheels(tmp_path / "wheels", model)
    )
    names = set(members(bundle))
    scripts = {p.name for p in (JOBS_DIR / model).glob("*.py")}
    assert {"train.py", "score.py"} <= scripts <= names
    package = {
        f"exportintel/{p.relative_to(PACKAGE_DIR).as_posix()}"
        for p in PACKAGE_DIR.rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert package <= names
    assert "exportintel/etl/log4j2.properties" in names
    queries = {
        f"exportintel/queries/sql/{p.name}" for p in (PACKAGE_DIR / "queries/sql").glob("*.sql")
    }
    assert queries and queries <= names
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", "README.md"))]
    wheels = {n for n in names if n.startswith("wheels/")}
    assert {_distribution(w) for w in wheels} == {normalise_name(n) for n in wheel_names(model)}


@pytest.mark.parametrize("model", MODELS)
def test_requirements_install_from_the_bundled_wheels_only(model: str, tmp_path: Path) -> None:
    bundle = build_source_bundle(
        model, tmp_path, wheels_dir=fake_wheels(tmp_path / "wheels", model)
    )
    lines = [
        line
        for line in read_member(bundle, "requirements.txt").splitlines()
        if line and not line.startswith("#")
    ]
    assert lines[:2] == ["--no-index", "--find-links wheels"]
    assert lines[2:] == [f"{name}=={FAKE_VERSIONS[name]}" for name in REQUIREMENTS[model]]
    # The support wheels are there for pip to fall back on, not required by name.
    assert not [line for line in lines if line.split("==")[0] in SUPPORT[model]]


def test_every_script_of_the_job_folder_is_carried(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs"
    shutil.copytree(JOBS_DIR / "continuity", jobs / "continuity")
    (jobs / "continuity" / "load.py").write_text('"""A later step."""\n', encoding="utf-8")
    bundle = build_source_bundle(
        "continuity",
        tmp_path / "out",
        wheels_dir=fake_wheels(tmp_path / "wheels", "continuity"),
        jobs_dir=jobs,
    )
    assert {"train.py", "score.py", "load.py"} <= set(members(bundle))


def test_a_missing_wheel_or_an_unknown_model_is_refused(tmp_path: Path) -> None:
    wheels = fake_wheels(tmp_path / "wheels", "matching")
    (wheels / "implicit-0.7.3-py3-none-any.whl").unlink()
    with pytest.raises(BundleError, match="lacks a wheel for implicit"):
        build_source_bundle("matching", tmp_path / "out", wheels_dir=wheels)
    with pytest.raises(BundleError, match="no SageMaker model"):
        build_source_bundle("churn", tmp_path / "out", wheels_dir=wheels)


def _third_party_imports(model: str) -> dict[str, str]:
    """Every module the model's scripts import, followed through the core package (imports
    inside functions included), that is neither the standard library nor `exportintel`."""
    scripts = sorted((JOBS_DIR / model).glob("*.py"))
    return third_party_imports(scripts, lazy=True).third_party


@pytest.mark.parametrize("model", MODELS)
def test_the_container_or_the_bundle_provides_every_import_of_the_scripts(model: str) -> None:
    imports = _third_party_imports(model)
    shipped = {name.replace("-", "_") for name in wheel_names(model)}
    unexpected = {
        module: where
        for module, where in imports.items()
        if module not in CONTAINER_MODULES | shipped | GLUE_ONLY
    }
    assert unexpected == {}
    if model == "matching":
        assert "implicit" in imports


def test_the_scripts_import_the_bundled_package(tmp_path: Path) -> None:
    """Unpacked as SageMaker does, the scripts find the core package beside them."""
    bundle = build_source_bundle(
        "matching", tmp_path, wheels_dir=fake_wheels(tmp_path / "wheels", "matching")
    )
    code = tmp_path / "code"
    with tarfile.open(bundle, "r:gz") as tar:
        tar.extractall(code, filter="data")
    probe = (
        "import sys, train, score, exportintel; "
        "assert exportintel.__file__.startswith(sys.argv[1]), exportintel.__file__"
    )
    completed = subprocess.run(
        [sys.executable, "-B", "-c", probe, str(code)],
        cwd=code,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr


def test_the_synth_bundle_carries_the_locked_wheels_for_the_container() -> None:
    """The cached bundle of the CDK app: real wheels (pip, once per change of the pins)."""
    bundle = bundling.sagemaker_bundle("matching")
    assert bundle.name == BUNDLE_NAME and bundle.parent.parent == bundling.BUILD_DIR / "sagemaker"
    wheels = [n for n in members(bundle) if n.startswith("wheels/")]
    locked = source_bundle.locked_versions()
    for name in wheel_names("matching"):
        [wheel] = [w for w in wheels if _distribution(w) == normalise_name(name)]
        assert wheel.split("-")[1] == locked[normalise_name(name)], wheel
    [implicit] = [w for w in wheels if "implicit" in w]
    assert "cp312-cp312-manylinux" in implicit and implicit.endswith("_x86_64.whl")
    assert f"implicit=={locked['implicit']}" in read_member(bundle, "requirements.txt")


def test_a_second_synth_bundle_is_a_cache_hit(monkeypatch: pytest.MonkeyPatch) -> None:
    first = bundling.sagemaker_bundle("continuity")

    def refuse(*args: str) -> None:
        raise AssertionError(f"pip ran: {args}")

    monkeypatch.setattr(bundling, "_pip", refuse)
    assert bundling.sagemaker_bundle("continuity") == first
