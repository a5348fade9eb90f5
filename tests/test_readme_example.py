"""The README's own-RL-loop and vector-environment examples run as printed."""

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


def test_readme_vector_example_grasps_in_every_step(capsys):
    section = README.read_text().partition("## Vector environments")[2]
    block = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert block is not None, "README.md's 'Vector environments' section has no python example"
    exec(compile(block.group(1), "README.md", "exec"), {})
    lines = [line for line in capsys.readouterr().out.splitlines() if line]
    assert len(lines) == 3
    for line in lines:  # "[r0 r1] [t0 t1]": both sub-envs report a grasp's cycle time
        times = [float(v) for v in line.split("] [")[1].strip("[] ").split()]
        assert len(times) == 2
        assert all(t > 0 for t in times)
