"""Agents for any environment of the grasp contract: the FCN value agent, baselines, training."""
