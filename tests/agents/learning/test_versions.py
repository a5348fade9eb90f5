"""The pinned library versions: read from the constraints file, compared with the installed."""

from __future__ import annotations

import pytest

from agents.learning.versions import installed_versions, pinned_versions, version_differences


def test_the_packaged_constraints_pin_the_libraries_that_compute_a_run() -> None:
    assert {"numpy", "opencv-python-headless", "pybullet", "torch"} <= set(pinned_versions())


def test_comments_and_blank_lines_are_skipped() -> None:
    text = "# why\n\nnumpy==2.4.6  # the generators\ntorch==2.13.0\n"
    assert pinned_versions(text) == {"numpy": "2.4.6", "torch": "2.13.0"}


def test_a_line_that_is_not_an_exact_pin_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"expected 'name==version', got 'numpy>=2'"):
        pinned_versions("numpy>=2\n")


def test_a_local_label_is_not_a_difference() -> None:
    assert version_differences({"torch": "2.13.0+cpu"}, {"torch": "2.13.0"}) == []


def test_another_release_and_a_missing_library_are_named() -> None:
    pins = {"opencv-python-headless": "5.0.0.93", "pybullet": "3.2.7"}
    installed = {"opencv-python-headless": "5.1.0.95", "pybullet": None}
    assert version_differences(installed, pins) == [
        "opencv-python-headless 5.1.0.95 (the published runs used 5.0.0.93)",
        "pybullet not installed (the published runs used 3.2.7)",
    ]


def test_an_absent_distribution_reads_as_none() -> None:
    assert installed_versions(["no-such-distribution-here"]) == {"no-such-distribution-here": None}
