"""The README's own-RL-loop and vector-environment examples run as printed."""


def test_readme_python_example_runs(capsys, readme):
    exec(compile(readme(), "README.md", "exec"), {})
    rewards = [line.split()[0] for line in capsys.readouterr().out.splitlines() if line]
    assert len(rewards) == 10
    assert set(rewards) <= {"0.0", "1.0"}


def test_readme_vector_example_grasps_in_every_step(capsys, readme):
    exec(compile(readme("Vector environments"), "README.md", "exec"), {})
    lines = [line for line in capsys.readouterr().out.splitlines() if line]
    assert len(lines) == 3
    for line in lines:  # "[r0 r1] [t0 t1]": both sub-envs report a grasp's cycle time
        times = [float(v) for v in line.split("] [")[1].strip("[] ").split()]
        assert len(times) == 2
        assert all(t > 0 for t in times)
