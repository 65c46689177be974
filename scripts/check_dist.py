"""Check the built sdist and wheel: contents, metadata, and the wheel installed and imported.

    python scripts/check_dist.py dist/

Fails (exit status 1, one line per problem) when the wheel lacks ``py.typed``, when either
archive carries tests, caches, virtualenvs or bytecode, when the metadata does not state what
``pyproject.toml`` means it to, or when the wheel does not install into a clean virtualenv
(dependencies pinned by ``constraints.txt``) and import there.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tarfile
import tempfile
import venv
import zipfile
from email.parser import HeaderParser
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE = "langchain_hf_vlm"
FORBIDDEN = re.compile(
    r"(^|/)(tests?|\.venv[^/]*|__pycache__|\.cache|\.mypy_cache|\.ruff_cache|\.pytest_cache"
    r"|\.hypothesis|\.git)(/|$)|\.py[co]$"
)
EXPECTED_METADATA = {
    "Requires-Python": ">=3.11",
    "License-Expression": "MIT",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dist", type=Path, help="the folder `python -m build` wrote")
    args = parser.parse_args()
    wheel = _one(args.dist, "*.whl")
    sdist = _one(args.dist, "*.tar.gz")
    wheel_names = zipfile.ZipFile(wheel).namelist()
    with tarfile.open(sdist) as archive:
        # The sdist's names start with its own folder, <name>-<version>/.
        sdist_names = [name.partition("/")[2] for name in archive.getnames()]

    problems = [
        f"{path.name}: {name}"
        for path, names in ((wheel, wheel_names), (sdist, sdist_names))
        for name in names
        if FORBIDDEN.search(name)
    ]
    if f"{PACKAGE}/py.typed" not in wheel_names:
        problems.append(f"{wheel.name}: no {PACKAGE}/py.typed (type checkers would ignore it)")
    if "LICENSE" not in sdist_names:
        problems.append(f"{sdist.name}: no LICENSE")
    if not any(name.endswith(".dist-info/licenses/LICENSE") for name in wheel_names):
        problems.append(f"{wheel.name}: no LICENSE under .dist-info/licenses/")
    problems += _metadata_problems(wheel, wheel_names)
    if not problems:
        problems += _install_problems(wheel)
    for problem in problems:
        print(f"check_dist: {problem}", file=sys.stderr)
    if not problems:
        print(
            f"check_dist: {wheel.name} and {sdist.name} are complete and clean; "
            "the wheel installs and imports"
        )
    return 1 if problems else 0


def _one(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    if len(found) != 1:
        raise SystemExit(f"check_dist: expected one {pattern} in {folder}, found {len(found)}")
    return found[0]


def _metadata_problems(wheel: Path, names: list[str]) -> list[str]:
    metadata_name = next(name for name in names if name.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata_name).decode()
    metadata = HeaderParser().parsestr(text)
    problems = [
        f"{wheel.name}: {key} is {metadata.get(key)!r}, expected {value!r}"
        for key, value in EXPECTED_METADATA.items()
        if metadata.get(key) != value
    ]
    if "Typing :: Typed" not in metadata.get_all("Classifier", []):
        problems.append(f"{wheel.name}: no 'Typing :: Typed' classifier")
    return problems


def _install_problems(wheel: Path) -> list[str]:
    """Install the wheel alone into a fresh virtualenv and import the package from there."""
    with tempfile.TemporaryDirectory(prefix="check-dist-") as folder:
        venv.create(folder, with_pip=True)
        python = Path(folder) / "bin" / "python"
        pip = [str(python), "-m", "pip", "--disable-pip-version-check", "--no-input", "-q"]
        steps = [
            [*pip, "install", "-c", str(REPO / "constraints.txt"), str(wheel.resolve())],
            # From a neutral folder, so that the import cannot pick up the source tree.
            [
                str(python),
                "-c",
                f"import {PACKAGE}; from {PACKAGE} import ChatHuggingFaceVLM; "
                f"assert '{folder}' in {PACKAGE}.__file__, {PACKAGE}.__file__",
            ],
        ]
        for step in steps:
            done = subprocess.run(step, cwd=folder, capture_output=True, text=True, check=False)
            if done.returncode:
                return [f"{' '.join(step[:6])} ...: {done.stderr.strip()[-2000:]}"]
    return []


if __name__ == "__main__":
    sys.exit(main())
