"""README's two commands are what CI runs and what a fresh machine needs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bash_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, flags=re.S)


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    test_command = next(line for block in _bash_blocks(readme) for line in block.splitlines()
                        if "pytest" in line)
    ci_lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
                if line and not line.startswith("#")]
    assert ci_lines[-1] == test_command
    assert "chromium" in test_command and "requirements-dev.txt" in test_command


def test_the_start_command_installs_and_starts_the_dashboard():
    readme = (ROOT / "README.md").read_text()
    start = _bash_blocks(readme)[0].strip()
    assert start == "pip install -r requirements.txt && streamlit run dashboard.py"
    assert (ROOT / "dashboard.py").is_file()
