"""Artefacts built at synth without Docker: the collector bundle and the Glue wheels, cached."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import infra.bundling as bundling
from infra.bundling import (
    BUILD_DIR,
    COLLECTOR_HANDLER,
    GLUE_PROVIDED_MODULES,
    GLUE_REQUIREMENTS,
    PACKAGE_DIR,
    BundlingError,
    LambdaBundle,
    Wheels,
    collector_bundle,
    glue_wheels,
    lambda_bundle,
    pinned,
)
from infra.etl import SCRIPT, wheel_asset_name
from tests.imports import third_party_imports


@pytest.fixture(scope="module")
def bundle() -> LambdaBundle:
    return collector_bundle()


@pytest.fixture(scope="module")
def wheels() -> Wheels:
    return glue_wheels()


@pytest.fixture
def no_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any pip run fails the test: what follows must come from the cache."""

    def refuse(*args: str) -> None:
        raise AssertionError(f"pip ran: {args}")

    monkeypatch.setattr(bundling, "_pip", refuse)


def test_the_collector_bundle_holds_the_handler_the_core_package_and_its_dependencies(
    bundle: LambdaBundle,
) -> None:
    folder = bundle.folder
    assert folder.parent == BUILD_DIR / "lambda"
    assert (folder / "handler.py").read_bytes() == COLLECTOR_HANDLER.read_bytes()
    assert (folder / "exportintel" / "collectors" / "feeds.py").is_file()
    assert (folder / "exportintel" / "ingest" / "delivery.py").is_file()
    for package in ("aws_lambda_powertools", "aws_xray_sdk", "pycountry", "boto3", "tzdata"):
        assert (folder / package / "__init__.py").is_file(), package
    # Built for Lambda's platform: compiled wheels are manylinux x86_64 for CPython 3.11.
    compiled = [p.name for p in folder.rglob("*.so")]
    assert compiled
    assert all("cpython-311-x86_64-linux-gnu" in name or "abi3" in name for name in compiled)
    assert not list((folder / "exportintel").rglob("__pycache__"))


def test_the_bundle_pins_the_locked_versions(bundle: LambdaBundle) -> None:
    locked = bundling.locked_versions()
    for package in ("aws_lambda_powertools", "pycountry", "boto3", "botocore", "tzdata"):
        [dist_info] = bundle.folder.glob(f"{package}-*.dist-info")
        version = dist_info.name.removeprefix(f"{package}-").removesuffix(".dist-info")
        assert version == locked[package.replace("_", "-")], package


def test_the_handler_imports_with_nothing_but_the_bundle_and_the_standard_library(
    bundle: LambdaBundle,
) -> None:
    """`python -S` leaves site-packages out: every import must resolve inside the bundle
    (and `-B` writes no bytecode into the cached folder)."""
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); import handler, zoneinfo; "
        "zoneinfo.ZoneInfo('Asia/Seoul'); "
        "import boto3, aws_lambda_powertools, exportintel; "
        "assert all(m.__file__.startswith(sys.argv[1]) "
        "for m in (handler, boto3, aws_lambda_powertools, exportintel))"
    )
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "FEED": "ecb_fx",
        "AWS_DEFAULT_REGION": "ap-northeast-2",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    completed = subprocess.run(
        [sys.executable, "-S", "-B", "-c", probe, str(bundle.folder)],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        cwd=bundle.folder.parent,
    )
    assert completed.returncode == 0, completed.stderr


def test_a_second_build_is_a_cache_hit(bundle: LambdaBundle, no_pip: None) -> None:
    handler = bundle.folder / "handler.py"
    before = handler.stat().st_ino
    started = time.perf_counter()
    again = collector_bundle()
    assert time.perf_counter() - started < 2.0
    assert again == bundle
    assert handler.stat().st_ino == before  # the same folder, not rebuilt


@pytest.fixture
def changed_package(tmp_path: Path) -> Iterator[Path]:
    package = tmp_path / "exportintel"
    shutil.copytree(PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    (package / "collectors" / "new_feed.py").write_text('"""A feed added since."""\n')
    yield package
    for folder in (BUILD_DIR / "lambda").glob("test-collectors-*"):
        shutil.rmtree(folder)


def test_a_change_to_the_core_package_is_a_new_bundle_without_a_pip_run(
    bundle: LambdaBundle, changed_package: Path, no_pip: None
) -> None:
    changed = lambda_bundle(
        "test-collectors",
        handler=COLLECTOR_HANDLER,
        requirements=bundling.COLLECTOR_REQUIREMENTS,
        package_dir=changed_package,
    )
    assert changed.content_hash != bundle.content_hash
    assert (changed.folder / "exportintel" / "collectors" / "new_feed.py").is_file()
    assert not (bundle.folder / "exportintel" / "collectors" / "new_feed.py").exists()
    # The dependencies are shared with the cached install, not installed again.
    shared = "aws_lambda_powertools/__init__.py"
    assert (changed.folder / shared).stat().st_size == (bundle.folder / shared).stat().st_size


def test_versions_come_from_the_lock_and_unpinned_names_are_refused() -> None:
    assert pinned(["pycountry", "aws-lambda-powertools[tracer]"]) == [
        "pycountry==26.2.16",
        "aws-lambda-powertools[tracer]==3.37.0",
    ]
    with pytest.raises(BundlingError, match="not pinned"):
        pinned(["left-pad"])
    with pytest.raises(ValueError, match="bare name"):
        pinned(["pycountry==1.0"])


def test_glue_wheels_are_the_core_package_then_its_missing_dependencies(
    wheels: Wheels, no_pip: None
) -> None:
    names = [p.name for p in wheels.files]
    assert names[0] == "exportintel-0.1.0-py3-none-any.whl"
    assert {n.split("-")[0] for n in names[1:]} == set(GLUE_REQUIREMENTS)
    with zipfile.ZipFile(wheels.files[0]) as core:
        members = set(core.namelist())
    assert "exportintel/etl/curate.py" in members
    assert "exportintel/contracts/registry.py" in members
    assert not [m for m in members if "__pycache__" in m]
    assert glue_wheels() == wheels  # cached: pip would fail here


def test_the_curation_job_imports_only_what_glue_or_the_shipped_wheels_provide() -> None:
    """Follow the Glue entry point's imports through the core package (lazy ones included)."""
    shipped = set(GLUE_REQUIREMENTS)
    allowed = set(sys.stdlib_module_names) | GLUE_PROVIDED_MODULES | shipped | {"exportintel"}
    imports = third_party_imports([SCRIPT], lazy=True)
    assert any("exportintel/etl/curate.py" in str(p) for p in imports.visited)
    unexpected = {m: where for m, where in imports.third_party.items() if m not in allowed}
    assert unexpected == {}


BUILD_TAG = "1abcdef0123456789"


@pytest.mark.parametrize(
    ("wheel", "expected"),
    [
        ("exportintel-0.1.0-py3-none-any.whl", f"exportintel-0.1.0-{BUILD_TAG}-py3-none-any.whl"),
        ("tzdata-2026.6-py2.py3-none-any.whl", f"tzdata-2026.6-{BUILD_TAG}-py2.py3-none-any.whl"),
        (
            "pkg-1.0-7-cp311-cp311-manylinux2014_x86_64.whl",
            f"pkg-1.0-{BUILD_TAG}-cp311-cp311-manylinux2014_x86_64.whl",
        ),
    ],
)
def test_wheel_asset_names_stay_valid_wheel_names_with_the_hash_as_build_tag(
    wheel: str, expected: str
) -> None:
    from packaging.utils import parse_wheel_filename

    named = wheel_asset_name(Path(wheel), "abcdef0123456789ffff")
    assert named == expected
    name, version, build, _tags = parse_wheel_filename(named)
    assert (str(name), str(version)) == tuple(wheel.split("-")[:2])
    assert build == (1, "abcdef0123456789")
