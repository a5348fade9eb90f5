"""The core install and its edges: extras named in errors, packaged configs, YAML at the edge."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from grasp_env import factory
from grasp_env.errors import ConfigError, DependencyNotInstalled
from grasp_env.extras import OPTIONAL_MODULES, needs_extras
from grasp_env.real_env import RealBinGraspEnv

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _names(requirements: list[str]) -> set[str]:
    """Distribution names of requirement strings (``"torch>=2.2"`` -> ``"torch"``)."""
    names = set()
    for requirement in requirements:
        name = requirement.split(";")[0].split("[")[0]
        for mark in "<>=!~ ":
            name = name.split(mark)[0]
        names.add(name.strip().lower())
    return names


def _closure(extra: str) -> set[str]:
    """Every distribution ``extra`` installs, following ``grasp-toolkit[...]`` references."""
    extras = PYPROJECT["optional-dependencies"]
    found: set[str] = set()
    for requirement in extras[extra]:
        if requirement.startswith("grasp-toolkit["):
            for inner in requirement.split("[")[1].rstrip("]").split(","):
                found |= _closure(inner.strip())
        else:
            found |= _names([requirement])
    return found


def test_the_core_is_what_grasp_env_needs():
    assert _names(PYPROJECT["dependencies"]) == {"numpy", "gymnasium", "pyyaml"}


@pytest.mark.parametrize(
    ("module", "distribution", "extra"),
    [(module, distribution, extra) for module, (distribution, extra) in OPTIONAL_MODULES.items()],
)
def test_each_optional_module_comes_with_the_extra_its_error_names(module, distribution, extra):
    assert distribution in _names(PYPROJECT["optional-dependencies"][extra]), module
    # the camera's SDK is the real cell's, not the grasp command's; Ray (250 MB) a cluster's
    if extra not in ("ensenso", "ray"):
        assert distribution in _closure("all")
    assert _closure("all") <= _closure("dev")


def test_a_missing_optional_module_names_its_extra():
    with pytest.raises(DependencyNotInstalled, match=r"pip install grasp-toolkit\[sim\]") as info:
        with needs_extras("the twin"):
            raise ModuleNotFoundError("No module named 'pybullet'", name="pybullet")
    assert isinstance(info.value.__cause__, ModuleNotFoundError)
    with pytest.raises(ModuleNotFoundError) as other, needs_extras("the twin"):
        raise ModuleNotFoundError("No module named 'mine'", name="mine")
    assert not isinstance(other.value, DependencyNotInstalled)


def _run_without(module: str, code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter in which ``module`` cannot be imported."""
    hide = f"import sys; sys.modules[{module!r}] = None\n"
    return subprocess.run(
        [sys.executable, "-c", hide + code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_twin_without_pybullet_names_the_sim_extra():
    result = _run_without(
        "pybullet",
        "import gymnasium as gym, grasp_env\n"
        "from grasp_env.errors import DependencyNotInstalled\n"
        "try:\n    gym.make('SimBinGrasp-v0')\n"
        "except DependencyNotInstalled as exc:\n    print(exc)\n",
    )
    assert result.returncode == 0, result.stderr
    assert "pip install grasp-toolkit[sim]" in result.stdout


def test_the_grasp_command_without_torch_names_the_agents_extra():
    result = _run_without(
        "torch",
        "import sys\nfrom grasp_toolkit.scripts.cli import main\n"
        "sys.exit(main(['evaluate', '--agent', 'random']))\n",
    )
    assert result.returncode == 1
    assert "pip install grasp-toolkit[agents]" in result.stderr
    assert "Traceback" not in result.stderr


def test_packaged_configs_resolve_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    learn = factory.find_config("configs/learn.yaml")
    assert learn is not None
    assert learn.is_file()
    assert learn.name == "learn.yaml"
    assert factory.find_config("cell_emulated.yaml") is not None
    assert factory.find_config(tmp_path / "learn.yaml") is None  # a real path is not renamed
    mine = tmp_path / "configs" / "learn.yaml"
    mine.parent.mkdir()
    mine.write_text("name: mine\n")
    assert factory.find_config("configs/learn.yaml") == Path("configs/learn.yaml")


def test_the_env_takes_a_typed_config_and_the_edge_reads_the_yaml():
    with pytest.raises(ConfigError, match="load_cell_config"):
        RealBinGraspEnv("configs/cell_real.yaml")
    assert factory.load_cell_config({"robot": {"port": 1}}).robot.port == 1


def test_real_env_reads_no_yaml():
    source = (ROOT / "grasp_env" / "real_env.py").read_text()
    assert "import yaml" not in source
    assert "import configs" not in source


def test_every_package_of_the_tree_is_listed_for_installation():
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    for top in ("grasp_env", "sim", "agents"):
        for init in (ROOT / top).rglob("__init__.py"):
            package = ".".join(init.parent.relative_to(ROOT).parts)
            assert package in listed, f"{package} is missing from pyproject's packages"
