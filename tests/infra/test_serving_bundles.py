"""The serving functions' code folders: each handler, the core package, pinned dependencies, and
no pandas or numpy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import infra.bundling as bundling
from exportintel.serving.functions import API_FUNCTIONS, COUNTERS_HANDLER, STREAM_ENV
from exportintel.serving.tables import TABLES
from infra.bundling import (
    API_REQUIREMENTS,
    BUILD_DIR,
    LambdaBundle,
    api_bundle,
    counters_bundle,
)
from tests.imports import third_party_imports

HANDLERS = {spec.unit: spec.handler_file for spec in API_FUNCTIONS} | {"counters": COUNTERS_HANDLER}
# The scientific stack stays out of the serving functions (size, cold starts).
HEAVY_PACKAGES = ("pandas", "numpy", "pyarrow", "duckdb", "awswrangler", "scipy", "sklearn")


@pytest.fixture(scope="module")
def bundles() -> dict[str, LambdaBundle]:
    built = {spec.unit: api_bundle(spec.unit) for spec in API_FUNCTIONS}
    built["counters"] = counters_bundle()
    return built


@pytest.fixture
def no_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: str) -> None:
        raise AssertionError(f"pip ran: {args}")

    monkeypatch.setattr(bundling, "_pip", refuse)


def _top_level_modules(folder: Path) -> set[str]:
    """What `import <name>` finds at the root of a bundle."""
    names = set()
    for path in folder.iterdir():
        if path.is_dir() and (path / "__init__.py").is_file():
            names.add(path.name)
        elif path.suffix in {".py", ".so"}:
            names.add(path.name.split(".")[0])
    return names


def test_every_bundle_holds_its_handler_the_core_package_and_the_api_dependencies(
    bundles: dict[str, LambdaBundle],
) -> None:
    assert set(bundles) == set(HANDLERS)
    for unit, bundle in bundles.items():
        folder = bundle.folder
        assert folder.parent == BUILD_DIR / "lambda"
        assert (folder / "handler.py").read_bytes() == HANDLERS[unit].read_bytes(), unit
        assert (folder / "exportintel" / "serving" / "functions.py").is_file()
        modules = _top_level_modules(folder)
        for package in ("aws_lambda_powertools", "aws_xray_sdk", "pydantic", "pydantic_core",
                        "pycountry", "boto3", "botocore", "tzdata"):  # fmt: skip
            assert package in modules, (unit, package)
        compiled = [p.name for p in folder.rglob("*.so")]
        assert compiled  # pydantic_core
        assert all("cpython-311-x86_64-linux-gnu" in name or "abi3" in name for name in compiled)


def test_no_bundle_carries_pandas_or_numpy(bundles: dict[str, LambdaBundle]) -> None:
    for unit, bundle in bundles.items():
        present = [name for name in HEAVY_PACKAGES if (bundle.folder / name).exists()]
        assert present == [], unit
        assert not list(bundle.folder.glob("pandas-*.dist-info")), unit
        assert not list(bundle.folder.glob("numpy-*.dist-info")), unit


def test_the_bundles_pin_the_locked_versions(bundles: dict[str, LambdaBundle]) -> None:
    locked = bundling.locked_versions()
    bundle = bundles["matching"]
    for package in ("aws_lambda_powertools", "pydantic", "pydantic_core", "pycountry",
                    "boto3", "botocore", "tzdata"):  # fmt: skip
        [dist_info] = bundle.folder.glob(f"{package}-*.dist-info")
        version = dist_info.name.removeprefix(f"{package}-").removesuffix(".dist-info")
        assert version == locked[package.replace("_", "-")], package
    assert bundling.pinned(API_REQUIREMENTS)  # every requirement is in the lock


def test_all_serving_bundles_share_one_dependency_install(
    bundles: dict[str, LambdaBundle], no_pip: None
) -> None:
    shared = "pydantic_core/__init__.py"
    inodes = {(bundle.folder / shared).stat().st_ino for bundle in bundles.values()}
    assert len(inodes) == 1  # hard links of one install
    assert api_bundle("events") == bundles["events"]  # cached: pip would fail here


@pytest.mark.parametrize("unit", sorted(HANDLERS))
def test_every_module_a_handler_reaches_is_in_its_bundle(
    unit: str, bundles: dict[str, LambdaBundle]
) -> None:
    """Follow what importing the handler imports through the core package: each third-party
    module must be in the bundle, and none of them may be pandas, numpy or the like."""
    imports = third_party_imports([HANDLERS[unit]], lazy=False).third_party
    heavy = {name: where for name, where in imports.items() if name in HEAVY_PACKAGES}
    assert heavy == {}
    missing = {
        name: where
        for name, where in imports.items()
        if name not in _top_level_modules(bundles[unit].folder)
    }
    assert missing == {}


@pytest.mark.parametrize("unit", sorted(HANDLERS))
def test_each_handler_imports_with_nothing_but_its_bundle_and_the_standard_library(
    unit: str, bundles: dict[str, LambdaBundle]
) -> None:
    """`python -S` leaves site-packages out: every import must resolve inside the bundle
    (and `-B` writes no bytecode into the cached folder)."""
    folder = bundles[unit].folder
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); import handler; "
        "assert callable(handler.lambda_handler); "
        "assert handler.__file__.startswith(sys.argv[1]); "
        "assert not any(m in sys.modules for m in ('pandas', 'numpy'))"
    )
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_DEFAULT_REGION": "ap-northeast-2",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": unit,
        "EXPORTINTEL_ENVIRONMENT": "dev",
        STREAM_ENV: "probe-stream",
        "PSEUDONYMISATION_SECRET": "probe-secret",
        **{spec.env_var: f"probe-{spec.role}" for spec in TABLES},
    }
    completed = subprocess.run(
        [sys.executable, "-S", "-B", "-c", probe, str(folder)],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        cwd=folder.parent,
    )
    assert completed.returncode == 0, completed.stderr


@pytest.fixture
def probe_handler(tmp_path: Path) -> Iterator[Path]:
    handler = tmp_path / "handler.py"
    handler.write_text('"""A stand-in handler."""\n\n\ndef lambda_handler(event, context):\n'
                       "    return event\n")  # fmt: skip
    yield handler


def test_a_handler_can_be_given_and_reuses_the_installed_dependencies(
    bundles: dict[str, LambdaBundle], probe_handler: Path, no_pip: None
) -> None:
    bundle = api_bundle("matching", handler=probe_handler)
    try:
        assert bundle.content_hash != bundles["matching"].content_hash
        assert (bundle.folder / "handler.py").read_text() == probe_handler.read_text()
        assert (bundle.folder / "pydantic" / "__init__.py").is_file()
    finally:
        shutil.rmtree(bundle.folder)


def test_an_unknown_unit_has_no_bundle() -> None:
    with pytest.raises(KeyError, match="no API function 'billing'"):
        api_bundle("billing")
