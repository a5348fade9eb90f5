"""The README's own-RL-loop example runs as printed."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs(capsys):
    block = re.search(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    assert block is not None, "README.md has no python example"
    exec(compile(block.group(1), "README.md", "exec"), {})
    rewards = [line.split()[0] for line in capsys.readouterr().out.splitlines() if line]
    assert len(rewards) == 10
    assert set(rewards) <= {"0.0", "1.0"}
