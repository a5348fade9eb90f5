"""YAML configurations, read once at the edge into typed dataclasses.

Installed as ``grasp_toolkit.configs`` (no top-level ``configs`` module in site-packages);
:func:`grasp_env.factory.find_config` resolves a name such as ``configs/learn.yaml`` or
``cell_emulated.yaml`` to the packaged file when no such path exists.
"""
