"""The README's code blocks run, and its set-up commands are the ones CI runs."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)
TEST_COMMAND = 'pip install -e ".[test]" && python -m pytest'


def test_readme_opens_with_the_two_set_up_commands():
    first_block = re.search(r"```bash\n(.*?)```", README, flags=re.S)
    assert first_block is not None and first_block.start() < README.index("```python")
    lines = [line for line in first_block.group(1).splitlines() if line.strip()]
    assert lines[0].startswith("pip install . && si-ref ")
    assert lines[1].startswith(TEST_COMMAND)


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "set -euo pipefail" in ci
    assert TEST_COMMAND in ci


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_readme_python_block_runs(index, capsys):
    namespace = {"__name__": f"readme_block_{index}"}
    exec(compile(PYTHON_BLOCKS[index], f"README.md block {index}", "exec"), namespace)
    # blocks that define hypothesis tests are run too
    for name, value in namespace.items():
        if name.startswith("test_") and callable(value):
            value()


def test_readme_example_prints_the_documented_values(capsys):
    exec(compile(PYTHON_BLOCKS[0], "README.md block 0", "exec"), {"__name__": "readme"})
    assert capsys.readouterr().out.split() == ["inf", "0.5"]
