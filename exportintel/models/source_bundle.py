"""The source bundle of a SageMaker job: `sourcedir.tar.gz` for the XGBoost framework container.

Script mode downloads the archive named by `sagemaker_submit_directory`, unpacks it into
`/opt/ml/code`, runs `pip install -r requirements.txt` there if the file exists, then runs
`sagemaker_program` from that folder. The container (XGBoost `3.2-0`: Python 3.12, xgboost,
scikit-learn, pandas, pyarrow, scipy) has neither the core package nor `implicit`, and a job in
a private VPC cannot reach a package index. So the archive carries, at its root:

    train.py, score.py, ...      every script of `sagemaker_jobs/<model>/`
    exportintel/                 the core package: its modules and the data it reads at run time
    requirements.txt             `--no-index`, `--find-links wheels`, the pinned requirements
    wheels/*.whl                 manylinux x86_64 wheels for CPython 3.12

The archive is a pure function of its inputs (sorted members, mtime 0, owner 0, no gzip name or
time), so the CDK asset built from it keeps its hash until a script, the package or a wheel
changes. The CDK app builds it at synth (`infra.bundling.sagemaker_bundle`, cached); a notebook
or `exportintel train <model> --on sagemaker` builds it from the same source checkout.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath

PACKAGE_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = PACKAGE_DIR.parent
JOBS_DIR = REPO_ROOT / "sagemaker_jobs"
LOCK_FILE = REPO_ROOT / "requirements.lock"
PYPROJECT = REPO_ROOT / "pyproject.toml"
BUNDLE_NAME = "sourcedir.tar.gz"
WHEELS_FOLDER = "wheels"

# The SageMaker XGBoost framework container the jobs run in (see sagemaker_jobs/*/README.md).
XGBOOST_FRAMEWORK_VERSION = "3.2-0"
CONTAINER_PYTHON = "3.12"
PIP_TARGET = (
    "--platform=manylinux2014_x86_64",
    f"--python-version={CONTAINER_PYTHON}",
    "--implementation=cp",
    "--only-binary=:all:",
)

# What the scripts import, through the core package, that the container lacks. Found by
# following every import of `sagemaker_jobs/<model>/*.py` through `exportintel` (function-level
# ones too; tests/unit/test_source_bundle.py repeats the walk) and by importing what it
# reaches: `implicit` (matching's ALS), `pycountry` (the contracts' country and currency
# formats), `tzdata` (matching's Asia/Seoul at import time; the base image may lack the system
# zone files), and for the load step `orjson` (curation, imported by the lake staging) and
# `aws-lambda-powertools` (the serving package's API module, imported by the table loaders).
# One set for every model: the jobs share the core package, and the load step reaches every
# model's modules.
_REQUIRED = ("implicit", "pycountry", "tzdata", "orjson", "aws-lambda-powertools")
REQUIREMENTS: Mapping[str, tuple[str, ...]] = {
    "continuity": _REQUIRED,
    "matching": _REQUIRED,
    "markets": _REQUIRED,
}
# Dependencies of the requirements that the container may lack: shipped as wheels but not
# required by name, so pip keeps the container's own copy when it satisfies them.
_SUPPORT = ("tqdm", "threadpoolctl", "jmespath", "typing-extensions")
SUPPORT: Mapping[str, tuple[str, ...]] = {
    "continuity": _SUPPORT,
    "matching": _SUPPORT,
    "markets": _SUPPORT,
}
# Modules of the container's own environment that the scripts import (numpy, pandas, pyarrow,
# scipy, scikit-learn with joblib and threadpoolctl, xgboost; boto3 for the training toolkit).
CONTAINER_MODULES = frozenset(
    {"numpy", "pandas", "pyarrow", "scipy", "sklearn", "joblib", "threadpoolctl", "xgboost",
     "boto3", "botocore"}
)  # fmt: skip

_WHEEL = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)-")


class BundleError(RuntimeError):
    """The bundle cannot be built as asked: an unknown model, a missing wheel, pip failed."""


def normalise_name(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions(lock_file: Path = LOCK_FILE) -> dict[str, str]:
    """`requirements.lock` (the project's one pin list) as {normalised name: version}."""
    versions = {}
    for line in lock_file.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            versions[normalise_name(name)] = version.strip()
    return versions


def wheel_names(model: str) -> tuple[str, ...]:
    """The distributions whose wheels a model's bundle carries."""
    if model not in REQUIREMENTS:
        raise BundleError(f"no SageMaker model {model!r}; models: {', '.join(REQUIREMENTS)}")
    return (*REQUIREMENTS[model], *SUPPORT[model])


def fetch_wheels(model: str, dest: Path, *, lock_file: Path = LOCK_FILE) -> list[Path]:
    """Download the model's wheels for the container into `dest` (pip, versions from the lock).

    Only binary wheels of the container's platform: pip never builds anything, so the result
    installs in the container whatever machine ran this.
    """
    versions = locked_versions(lock_file)
    names = wheel_names(model)
    unpinned = [n for n in names if normalise_name(n) not in versions]
    if unpinned:
        raise BundleError(f"{', '.join(unpinned)}: not pinned in {lock_file.name}")
    specs = [f"{name}=={versions[normalise_name(name)]}" for name in names]
    dest.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet",
               "download", *PIP_TARGET, "--no-deps", "--dest", str(dest), *specs]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise BundleError(f"{' '.join(command)} failed:\n{completed.stderr[-4000:]}")
    return sorted(dest.glob("*.whl"))


def _wheels_by_name(wheels_dir: Path) -> dict[str, tuple[str, Path]]:
    found = {}
    for wheel in sorted(wheels_dir.glob("*.whl")):
        match = _WHEEL.match(wheel.name)
        if match is None:
            raise BundleError(f"{wheel.name}: not a wheel file name")
        found[normalise_name(match["name"])] = (match["version"], wheel)
    return found


def requirements_text(model: str, wheels_dir: Path) -> str:
    """`requirements.txt`: the bundled wheels only, each requirement pinned to its wheel."""
    wheels = _wheels_by_name(wheels_dir)
    missing = [n for n in wheel_names(model) if normalise_name(n) not in wheels]
    if missing:
        raise BundleError(f"{wheels_dir} lacks a wheel for {', '.join(missing)}")
    lines = [
        "# Installed by the SageMaker training toolkit before the script runs. The job may have",
        "# no route to a package index: every wheel comes with this bundle.",
        "--no-index",
        f"--find-links {WHEELS_FOLDER}",
        *(f"{name}=={wheels[normalise_name(name)][0]}" for name in REQUIREMENTS[model]),
    ]
    return "\n".join(lines) + "\n"


def package_data_patterns(pyproject: Path = PYPROJECT) -> tuple[str, ...]:
    """The core package's data files (pyproject's `package-data`), which modules read at run
    time (the SQL of the named queries, Spark's log configuration)."""
    with pyproject.open("rb") as handle:
        config = tomllib.load(handle)
    data = config.get("tool", {}).get("setuptools", {}).get("package-data", {})
    return tuple(data.get(PACKAGE_DIR.name, ()))


def package_files(package_dir: Path, patterns: Iterable[str]) -> list[Path]:
    """The package's modules and data files, without caches."""
    files = set(package_dir.rglob("*.py"))
    for pattern in patterns:
        files.update(package_dir.glob(pattern))
    return sorted(p for p in files if p.is_file() and "__pycache__" not in p.parts)


def bundle_members(
    model: str,
    *,
    wheels_dir: Path,
    jobs_dir: Path = JOBS_DIR,
    package_dir: Path = PACKAGE_DIR,
    pyproject: Path = PYPROJECT,
) -> dict[str, bytes]:
    """{archive path: content} of a model's bundle."""
    wheel_names(model)  # an unknown model fails here, before any file is read
    scripts = sorted((jobs_dir / model).glob("*.py"))
    if not scripts:
        raise BundleError(f"no scripts in {jobs_dir / model}")
    members = {script.name: script.read_bytes() for script in scripts}
    for path in package_files(package_dir, package_data_patterns(pyproject)):
        name = PurePosixPath(package_dir.name, *path.relative_to(package_dir).parts)
        members[str(name)] = path.read_bytes()
    members["requirements.txt"] = requirements_text(model, wheels_dir).encode("utf-8")
    for _version, wheel in _wheels_by_name(wheels_dir).values():
        members[f"{WHEELS_FOLDER}/{wheel.name}"] = wheel.read_bytes()
    return members


def write_archive(members: Mapping[str, bytes], target: Path) -> Path:
    """A gzipped tar of `members`, byte for byte the same for the same members."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(members):
            data = members[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed: a reader never sees half an archive.
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}-", dir=target.parent)
    try:
        with (
            os.fdopen(handle, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as compressed,
        ):
            compressed.write(buffer.getvalue())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def build_source_bundle(
    model: str,
    out_dir: Path,
    *,
    wheels_dir: Path,
    jobs_dir: Path = JOBS_DIR,
    package_dir: Path = PACKAGE_DIR,
    pyproject: Path = PYPROJECT,
) -> Path:
    """`<out_dir>/sourcedir.tar.gz` for `model`, with the wheels of `wheels_dir`
    (`fetch_wheels`, or `infra.bundling.sagemaker_wheels` for the cached copy)."""
    members = bundle_members(
        model, wheels_dir=wheels_dir, jobs_dir=jobs_dir, package_dir=package_dir,
        pyproject=pyproject,
    )  # fmt: skip
    return write_archive(members, out_dir / BUNDLE_NAME)


def file_digest(path: Path) -> str:
    """SHA-256 of a file, hex: names an uploaded bundle by its content."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_files(model: str, *, jobs_dir: Path = JOBS_DIR, package_dir: Path = PACKAGE_DIR,
                 pyproject: Path = PYPROJECT) -> list[tuple[str, Path]]:  # fmt: skip
    """(name, path) of every source file that goes into a model's bundle: what a cache keys on."""
    scripts = [(f"script/{p.name}", p) for p in sorted((jobs_dir / model).glob("*.py"))]
    package = [
        (p.relative_to(package_dir.parent).as_posix(), p)
        for p in package_files(package_dir, package_data_patterns(pyproject))
    ]
    return [*scripts, *package, ("pyproject.toml", pyproject)]
