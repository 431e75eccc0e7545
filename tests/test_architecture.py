"""The architecture, checked: the import-linter contracts (layers, no cycles), the size
limits that keep modules to one idea, and the commands that must start without torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "whydl"
MAX_LINES = 400  # every module, the claims' experiments included
MAX_LINES_OF = {"cli.py": 350, "api.py": 250}  # front ends only parse and delegate
HEAVY = ("torch", "matplotlib", "sklearn", "scipy", "dask", "mlflow", "fastapi")


def test_import_contracts_hold():
    exe = Path(sys.executable).parent / "lint-imports"
    if not exe.exists():
        pytest.fail("lint-imports is missing: pip install -e '.[test]' installs import-linter")
    ran = subprocess.run([str(exe)], cwd=ROOT, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr
    assert "2 kept, 0 broken" in ran.stdout


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=str)
def test_modules_stay_small(path):
    limit = MAX_LINES_OF.get(path.name if path.parent == SRC else "", MAX_LINES)
    n = len(path.read_text().splitlines())
    assert n <= limit, f"{path.relative_to(ROOT)} has {n} lines; the limit is {limit}"


def _imported_by(*argv) -> set[str]:
    code = (
        "import sys\nfrom whydl.cli import main\n"
        f"try:\n    main({list(argv)!r})\nexcept SystemExit:\n    pass\n"
        "print('MODULES:', *sorted({m.split('.')[0] for m in sys.modules}))"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    line = next(ln for ln in ran.stdout.splitlines() if ln.startswith("MODULES:"))
    return set(line.split()[1:])


@pytest.mark.parametrize("argv", [("--help",), ("train", "--help"), ("runs", "ls")])
def test_light_commands_import_no_heavy_library(tmp_path, argv):
    argv = (*argv, "--store", str(tmp_path / "none.db")) if argv == ("runs", "ls") else argv
    heavy = _imported_by(*argv) & set(HEAVY)
    assert not heavy, f"whydl {' '.join(argv)} imports {sorted(heavy)}"


@pytest.mark.parametrize(
    "script",
    [
        "bench_article.py",
        "bench_executor.py",
        "bench_grid.py",
        "bench_products.py",
        "bench_compile.py",
    ],
)
def test_benchmarks_still_import_and_parse(script):
    """A benchmark is run by hand, so a renamed module would otherwise go unnoticed."""
    pytest.importorskip("distributed")  # bench_executor imports the Dask executor
    ran = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert ran.returncode == 0 and ran.stdout.startswith("usage:"), ran.stderr[-2000:]
