"""The README's "Other RL libraries" example runs as printed (when SB3 is installed)."""

import pytest


@pytest.fixture
def one_torch_thread():
    """One torch thread: on the shared 2-core machine two wait on each other (3x slower)."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_readme_other_rl_libraries_example_runs(capsys, one_torch_thread, readme):
    pytest.importorskip("stable_baselines3")
    exec(compile(readme("Other RL libraries"), "README.md", "exec"), {})
    lines = [line for line in capsys.readouterr().out.splitlines() if line]
    assert len(lines) == 1
    assert lines[0].split()[0] in {"0.0", "1.0"}
