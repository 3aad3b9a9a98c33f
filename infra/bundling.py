"""Code artefacts built at synth without Docker: the Lambda folders, the Glue wheels and the
SageMaker source bundles.

CDK's `PythonFunction` bundles in a container; these machines have no Docker. Instead pip is
asked for wheels of the target platform (`--platform manylinux2014_x86_64 --only-binary=:all:
--python-version 3.11 --implementation cp`), which it unpacks without building anything, so
the result runs on Lambda's and Glue's x86_64 Python 3.11 whatever machine synthesises.

Every artefact is cached under `build/` in a folder named by a hash of its inputs (the pinned
requirements, `requirements.lock`, the target platform, the core package sources), so repeated
synths and test sessions reuse it and pip runs once per change of inputs. A folder is built
under a temporary name and renamed when complete: an interrupted build is never taken for a
cached one.

Versions come from `requirements.lock` (the project's one pin list) and every transitive
dependency is constrained by it, so a bundle holds exactly the versions the tests ran with.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from exportintel.models import source_bundle
from exportintel.models.source_bundle import locked_versions
from exportintel.serving.functions import API_FUNCTIONS, COUNTERS_HANDLER

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = REPO_ROOT / "build"
PACKAGE_DIR = REPO_ROOT / "exportintel"
LOCK_FILE = REPO_ROOT / "requirements.lock"
PYPROJECT = REPO_ROOT / "pyproject.toml"
COLLECTOR_HANDLER = REPO_ROOT / "lambdas" / "collectors" / "handler.py"

# Lambda (python3.11, x86_64) and Glue 5.1 (Python 3.11, x86_64): one target for both.
PLATFORM = "manylinux2014_x86_64"
PYTHON_VERSION = "3.11"
IMPLEMENTATION = "cp"

# The collector's imports beyond the core package. boto3 is pinned in the bundle too (the
# runtime's copy changes under us, and aws-xray-sdk pulls botocore in anyway); tzdata backs
# zoneinfo (Asia/Seoul) wherever the runtime image lacks the system zone files.
COLLECTOR_REQUIREMENTS = ("aws-lambda-powertools[tracer]", "pycountry", "boto3", "tzdata")
# The serving functions' imports beyond the core package (the API functions and the live
# counters share them). `exportintel.serving` is pure Python over boto3: pandas and numpy stay
# out, so the functions stay small and start fast. pydantic backs Powertools' REST resolver
# (request validation, OpenAPI schema); pycountry the contracts' country and currency formats,
# which `exportintel.contracts.formats` imports when a record with such a field is validated;
# boto3 and tzdata as for the collector.
API_REQUIREMENTS = ("aws-lambda-powertools[tracer]", "pydantic", "pycountry", "boto3", "tzdata")
# What the curation job imports that Glue 5.x does not provide (pyarrow, pandas, numpy and
# boto3 are there): orjson to parse raw lines, pycountry for country-code formats, tzdata for
# zoneinfo.
GLUE_REQUIREMENTS = ("orjson", "pycountry", "tzdata")
# Modules of Glue 5.x's own Python environment that the curation job imports.
GLUE_PROVIDED_MODULES = frozenset(
    {"pyspark", "py4j", "pyarrow", "pandas", "numpy", "boto3", "botocore"}
)

_PIP_TARGET = (
    f"--platform={PLATFORM}",
    f"--python-version={PYTHON_VERSION}",
    f"--implementation={IMPLEMENTATION}",
    "--only-binary=:all:",
)
PRUNE_AFTER_SECONDS = 24 * 3600
_REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?P<extras>\[[^\]]+\])?$")


class BundlingError(RuntimeError):
    """pip failed, or what it produced is not what the bundle needs."""


@dataclass(frozen=True)
class Wheels:
    """Wheels for one Glue job environment: the core package first, then its dependencies."""

    folder: Path
    content_hash: str

    @property
    def files(self) -> list[Path]:
        core = sorted(self.folder.glob("exportintel-*.whl"))
        others = sorted(p for p in self.folder.glob("*.whl") if p not in core)
        return core + others


# The lock is read the same way by the SageMaker bundle, which the core package also builds.
_normalise = source_bundle.normalise_name


def pinned(requirements: Iterable[str], lock_file: Path = LOCK_FILE) -> list[str]:
    """Requirement names (extras allowed) pinned to their `requirements.lock` versions."""
    versions = locked_versions(lock_file)
    result = []
    for requirement in requirements:
        match = _REQUIREMENT.match(requirement)
        if match is None:
            raise ValueError(f"{requirement!r}: give a bare name (and extras); the lock pins it")
        name = _normalise(match["name"])
        if name not in versions:
            raise BundlingError(f"{requirement}: not pinned in {lock_file.name}")
        result.append(f"{match['name']}{match['extras'] or ''}=={versions[name]}")
    return result


def _package_files(package_dir: Path) -> list[Path]:
    """The core package's sources and data, without caches."""
    return sorted(
        p
        for p in package_dir.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in {".pyc", ".pyo"}
    )


def _digest(parts: Sequence[str | bytes], files: Iterable[tuple[str, Path]] = ()) -> str:
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    for name, path in files:
        digest.update(name.encode("utf-8") + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _sources(package_dir: Path) -> list[tuple[str, Path]]:
    return [(p.relative_to(package_dir.parent).as_posix(), p) for p in _package_files(package_dir)]


def _pip(*args: str) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet", *args]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise BundlingError(f"{' '.join(command)} failed:\n{completed.stderr[-4000:]}")


def build_once(target: Path, build: Callable[[Path], object]) -> Path:
    """Build `target` through a temporary sibling folder, unless it exists already."""
    if target.is_dir():
        os.utime(target)  # recently used: not pruned under a concurrent synth
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        build(work)
        try:
            work.rename(target)
        except OSError:
            if not target.is_dir():  # not a concurrent build that finished first
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def prune_builds(parent: Path, prefix: str, keep: Path) -> None:
    """Remove earlier builds of the same artefact (other hashes) so `build/` stays small.

    Only builds untouched for `PRUNE_AFTER_SECONDS`: another synth in the same work tree (a
    second test session, a colleague's `cdk synth`) may still be staging a recent one.
    """
    cutoff = time.time() - PRUNE_AFTER_SECONDS
    for old in parent.glob(f"{prefix}-*"):
        if old != keep and old.is_dir() and old.stat().st_mtime < cutoff:
            shutil.rmtree(old, ignore_errors=True)


def _copy_package(package_dir: Path, destination: Path) -> None:
    for path in _package_files(package_dir):
        target = destination / path.relative_to(package_dir.parent)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def _link_tree(source: Path, destination: Path) -> None:
    """Hard links where the file system allows them (no copy of the dependencies), else copies."""

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, destination, copy_function=link, dirs_exist_ok=True)


@dataclass(frozen=True)
class LambdaBundle:
    """A Lambda code folder (handler at its root) and the hash of everything that made it."""

    folder: Path
    content_hash: str


def lambda_bundle(
    name: str,
    *,
    handler: Path,
    requirements: Sequence[str],
    package_dir: Path = PACKAGE_DIR,
    lock_file: Path = LOCK_FILE,
    build_dir: Path = BUILD_DIR,
) -> LambdaBundle:
    """`build/lambda/<name>-<hash>/`: the dependencies, the core package and `handler.py`.

    The dependencies are installed once per requirements hash into `build/lambda/deps-<hash>/`
    and hard-linked into each bundle, so a change to the core package costs a copy of the
    sources, not a pip run.
    """
    specs = pinned(requirements, lock_file)
    lock = lock_file.read_bytes()
    deps_hash = _digest(["deps", *specs, *_PIP_TARGET, lock])
    root = build_dir / "lambda"

    def install(work: Path) -> None:
        _pip("install", *_PIP_TARGET, "--no-user", "--target", str(work),
             "--constraint", str(lock_file), *specs)  # fmt: skip

    deps = build_once(root / f"deps-{deps_hash[:16]}", install)
    content_hash = _digest(["bundle", deps_hash], [*_sources(package_dir), ("handler.py", handler)])

    def assemble(work: Path) -> None:
        _link_tree(deps, work)
        _copy_package(package_dir, work)
        shutil.copy2(handler, work / "handler.py")

    folder = build_once(root / f"{name}-{content_hash[:16]}", assemble)
    prune_builds(root, name, folder)
    prune_builds(root, "deps", deps)
    return LambdaBundle(folder=folder, content_hash=content_hash)


def collector_bundle(build_dir: Path = BUILD_DIR) -> LambdaBundle:
    """The collector Lambda's folder: one code asset for every feed's function."""
    return lambda_bundle(
        "collectors",
        handler=COLLECTOR_HANDLER,
        requirements=COLLECTOR_REQUIREMENTS,
        build_dir=build_dir,
    )


def api_bundle(
    unit: str, *, handler: Path | None = None, build_dir: Path = BUILD_DIR
) -> LambdaBundle:
    """The code folder of one API function (`exportintel.serving.functions.API_FUNCTIONS`).

    `handler` replaces the unit's `lambdas/api/<unit>/handler.py` (tests only).
    """
    specs = {spec.unit: spec for spec in API_FUNCTIONS}
    if unit not in specs:
        raise KeyError(f"no API function {unit!r}; functions: {', '.join(specs)}")
    return lambda_bundle(
        f"api-{unit}",
        handler=specs[unit].handler_file if handler is None else handler,
        requirements=API_REQUIREMENTS,
        build_dir=build_dir,
    )


def counters_bundle(*, handler: Path | None = None, build_dir: Path = BUILD_DIR) -> LambdaBundle:
    """The code folder of the live counters (the clickstream stream's consumer)."""
    return lambda_bundle(
        "counters",
        handler=COUNTERS_HANDLER if handler is None else handler,
        requirements=API_REQUIREMENTS,
        build_dir=build_dir,
    )


def glue_wheels(
    *,
    requirements: Sequence[str] = GLUE_REQUIREMENTS,
    package_dir: Path = PACKAGE_DIR,
    pyproject: Path = PYPROJECT,
    lock_file: Path = LOCK_FILE,
    build_dir: Path = BUILD_DIR,
) -> Wheels:
    """`build/glue/wheels-<hash>/`: the core package's wheel and its dependencies' wheels.

    The core wheel is built (`pip wheel --no-deps`) from a clean copy of the package, never
    in the work tree, where setuptools' own `build/lib` could carry deleted modules along.
    """
    specs = pinned(requirements, lock_file)
    content_hash = _digest(
        ["glue", *specs, *_PIP_TARGET, lock_file.read_bytes()],
        [*_sources(package_dir), ("pyproject.toml", pyproject)],
    )
    root = build_dir / "glue"

    def build(work: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="exportintel-src-") as source:
            project = Path(source)
            shutil.copy2(pyproject, project / "pyproject.toml")
            # pyproject's `readme`; its text only fills the wheel's description.
            readme = pyproject.parent / "README.md"
            (project / "README.md").write_text(
                readme.read_text(encoding="utf-8") if readme.is_file() else "", encoding="utf-8"
            )
            _copy_package(package_dir, project)
            _pip("wheel", "--no-deps", "--wheel-dir", str(work), str(project))
        _pip("download", *_PIP_TARGET, "--no-deps", "--dest", str(work),
             "--constraint", str(lock_file), *specs)  # fmt: skip
        wheels = list(work.glob("*.whl"))
        if len(wheels) != len(specs) + 1 or not list(work.glob("exportintel-*.whl")):
            raise BundlingError(f"expected the core wheel and {specs} in {work}: {wheels}")

    folder = build_once(root / f"wheels-{content_hash[:16]}", build)
    prune_builds(root, "wheels", folder)
    return Wheels(folder=folder, content_hash=content_hash)


def sagemaker_wheels(
    model: str, *, lock_file: Path = LOCK_FILE, build_dir: Path = BUILD_DIR
) -> Path:
    """`build/sagemaker/wheels-<hash>/`: the wheels a model's jobs install in the SageMaker
    XGBoost container (CPython 3.12), one pip run per change of the pins (models that need the
    same wheels share the folder)."""
    specs = pinned(source_bundle.wheel_names(model), lock_file)
    content_hash = _digest(["sagemaker-wheels", *specs, *source_bundle.PIP_TARGET])
    root = build_dir / "sagemaker"

    def download(work: Path) -> None:
        _pip("download", *source_bundle.PIP_TARGET, "--no-deps", "--dest", str(work), *specs)
        if len(list(work.glob("*.whl"))) != len(specs):
            raise BundlingError(f"expected wheels of {specs} in {work}: {list(work.iterdir())}")

    folder = build_once(root / f"wheels-{content_hash[:16]}", download)
    prune_builds(root, "wheels", folder)
    return folder


def sagemaker_bundle(model: str, *, build_dir: Path = BUILD_DIR) -> Path:
    """`build/sagemaker/<model>-<hash>/sourcedir.tar.gz`: a model's scripts, the core package
    and the wheels (`exportintel.models.source_bundle`), for a CDK file asset
    (`aws_s3_assets.Asset(path=...)`). Cached per content like the other bundles; the archive
    is deterministic, so a rebuild after a prune keeps the asset hash."""
    wheels = sagemaker_wheels(model, build_dir=build_dir)
    wheel_files = [(f"wheels/{p.name}", p) for p in sorted(wheels.glob("*.whl"))]
    content_hash = _digest(
        ["sagemaker-bundle", model], [*source_bundle.source_files(model), *wheel_files]
    )
    root = build_dir / "sagemaker"

    def build(work: Path) -> None:
        source_bundle.build_source_bundle(model, work, wheels_dir=wheels)

    folder = build_once(root / f"{model}-{content_hash[:16]}", build)
    prune_builds(root, model, folder)
    return folder / source_bundle.BUNDLE_NAME
