"""The value network as an ONNX file, and the grasp-space scorer that runs it without torch.

:func:`export_onnx` writes the fused network (batch norms folded into the convolutions,
dropout gone) as a plain ONNX graph, built node by node with ``onnx.helper`` (no torch
exporter involved)::

    turned  float32 (rotations, H, W, C)   the encoded image turned by each grid angle (NHWC)
      -> Transpose -> Conv -> Relu -> ... -> Conv -> Transpose
    logits  float32 (rotations, rows, cols, widths)

The file's metadata holds the model card (``grasp_value_model_card``, JSON: the image and grid
geometry, normalisation, interpolation, input channels, model shape and training facts, as in
a checkpoint) and, readable at a glance, ``image_shape`` and ``grid_shape``.

:class:`OnnxScorer` runs such a file with onnxruntime. It imports neither torch nor the rest
of the training code, so a robot PC needs only numpy, OpenCV and onnxruntime. It refuses, on
loading and before anything runs, a file whose card or input/output shapes do not fit the
grid it is asked to serve, naming what was expected and what came.

Both need the ``onnx`` extra: ``pip install grasp-toolkit[onnx]`` (onnxruntime and onnx;
running a file needs only onnxruntime); without it they raise
:class:`grasp_env.errors.DependencyNotInstalled` naming the extra.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from agents.fcn.card import check_geometry
from agents.fcn.model_config import ModelConfig
from agents.fcn.scoring import InferenceConfig, Scorer, check_config_fits_grid
from grasp_env.errors import ConfigError, DependencyNotInstalled
from grasp_env.extras import install_hint
from grasp_env.grasp_grid import GraspGrid

if TYPE_CHECKING:
    from agents.fcn.model import ValueModel

CARD_KEY = "grasp_value_model_card"
INPUT_NAME = "turned"
OUTPUT_NAME = "logits"
OPSET = 17  # onnxruntime 1.12 and later run opset 17
IR_VERSION = 8  # not the newest IR, so that older runtimes on a robot PC load the file


def _require(module: str) -> Any:
    """``module`` imported, or an error naming the ``onnx`` extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise DependencyNotInstalled(
            f"ONNX models need the '{module}' package, which is not installed:"
            f" {install_hint('onnx')}"
        ) from exc


def onnx_bytes(model: ValueModel, grid: GraspGrid, card: dict | None = None) -> bytes:
    """The serialized ONNX model of ``model`` serving ``grid`` (see the module docstring).

    Args:
        model: the value model (its fused, eval-mode function is exported).
        grid: the grasp space it serves, recorded in the card and the shapes.
        card: the model card to store (default: :func:`agents.fcn.checkpoint.model_card`).

    Raises:
        ConfigError: the model does not fit the grid, or onnx is missing.
    """
    onnx = _require("onnx")
    from onnx import TensorProto, helper, numpy_helper

    from agents.fcn.checkpoint import model_card
    from agents.fcn.model import fuse_for_inference

    check_config_fits_grid(model.config, grid)
    card = card if card is not None else model_card(model, grid)
    g = grid.image
    channels = model.config.in_channels
    nodes, initializers = _graph_nodes(fuse_for_inference(model).cpu(), helper, numpy_helper)
    _, rows, cols, widths = grid.shape
    graph = helper.make_graph(
        nodes,
        "grasp_value_fcn",
        [
            helper.make_tensor_value_info(
                INPUT_NAME, TensorProto.FLOAT, ["rotations", g.rows, g.cols, channels]
            )
        ],
        [
            helper.make_tensor_value_info(
                OUTPUT_NAME, TensorProto.FLOAT, ["rotations", rows, cols, widths]
            )
        ],
        initializers,
    )
    proto = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="grasp-toolkit",
        doc_string="Grasp success logits of every grasp of the grid; sigmoid gives the value.",
    )
    proto.ir_version = IR_VERSION
    helper.set_model_props(
        proto,
        {
            CARD_KEY: json.dumps(card),
            "image_shape": json.dumps([g.rows, g.cols, channels]),
            "grid_shape": json.dumps(list(grid.shape)),
        },
    )
    onnx.checker.check_model(proto)
    return proto.SerializeToString()


def _graph_nodes(fused: Any, helper: Any, numpy_helper: Any) -> tuple[list[Any], list[Any]]:
    """The ONNX nodes and weights of the fused network, NHWC in and out."""
    nodes = [helper.make_node("Transpose", [INPUT_NAME], ["x0"], perm=[0, 3, 1, 2])]
    initializers = []
    current = "x0"
    for k, layer in enumerate(fused):
        name = f"layer{k}"
        if type(layer).__name__ == "Conv2d":
            for part in ("weight", "bias"):
                values = getattr(layer, part).detach().float().numpy()
                initializers.append(
                    numpy_helper.from_array(np.ascontiguousarray(values), f"{name}.{part}")
                )
            nodes.append(
                helper.make_node(
                    "Conv",
                    [current, f"{name}.weight", f"{name}.bias"],
                    [name],
                    kernel_shape=list(layer.kernel_size),
                    strides=list(layer.stride),
                    pads=[0, 0, 0, 0],
                )
            )
        elif type(layer).__name__ == "ReLU":
            nodes.append(helper.make_node("Relu", [current], [name]))
        else:
            raise ConfigError(f"cannot export a layer of type {type(layer).__name__} to ONNX")
        current = name
    nodes.append(helper.make_node("Transpose", [current], [OUTPUT_NAME], perm=[0, 2, 3, 1]))
    return nodes, initializers


def export_onnx(
    path: str | os.PathLike, model: ValueModel, grid: GraspGrid, card: dict | None = None
) -> Path:
    """Write ``model`` for ``grid`` as an ONNX file at ``path`` (atomically); returns it."""
    path = Path(path)
    data = onnx_bytes(model, grid, card)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _dim(value: Any) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


class OnnxScorer(Scorer):
    """Values of every grasp of the grid for one observation, with onnxruntime.

    Build it with :meth:`from_file` (an exported file) or :meth:`from_model` (a torch model,
    exported in memory). It shares the image check, encoding, turning and sigmoid with the
    torch scorer (:class:`agents.fcn.scoring.Scorer`).

    Args:
        data: the ONNX model, serialized.
        grid: the grasp space to serve.
        config: threads (``num_threads`` or the process default; None: onnxruntime's own).
        source: what to call the model in messages (its path).

    Raises:
        ConfigError: onnxruntime is missing, the file is not a grasp value model, or its card
            or shapes do not fit ``grid``.
    """

    backend = "onnx"

    def __init__(
        self,
        data: bytes,
        grid: GraspGrid,
        config: InferenceConfig | None = None,
        source: str = "ONNX model",
    ) -> None:
        self.config = config if config is not None else InferenceConfig(backend="onnx")
        self.source = source
        self._session, self.card = self._open(data, grid)
        in_channels = self.card["model_config"]["in_channels"]
        super().__init__(grid, in_channels)

    @classmethod
    def from_file(
        cls, path: str | os.PathLike, grid: GraspGrid, config: InferenceConfig | None = None
    ) -> OnnxScorer:
        """The scorer of the ONNX file at ``path`` (see :func:`export_onnx`)."""
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise ConfigError(f"cannot read the ONNX model {path}: {exc}") from exc
        return cls(data, grid, config, source=str(path))

    @classmethod
    def from_model(
        cls, model: ValueModel, grid: GraspGrid, config: InferenceConfig | None = None
    ) -> OnnxScorer:
        """The scorer of a torch ``model``, exported in memory."""
        return cls(onnx_bytes(model, grid), grid, config, source="the model")

    def set_model(self, model: ValueModel) -> None:
        """Score with ``model`` (a torch value model, exported in memory) from now on."""
        self._session, self.card = self._open(onnx_bytes(model, self.grid), self.grid)
        self.channels = self.card["model_config"]["in_channels"]

    def _open(self, data: bytes, grid: GraspGrid) -> tuple[Any, dict]:
        ort = _require("onnxruntime")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only: no shape-merge warnings on stderr
        threads = self.config.threads
        if threads is not None:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        try:
            session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ConfigError(f"{self.source}: expected an ONNX model, got {exc}") from exc
        card = self._card(session)
        check_geometry(card, grid, self.source)
        self._check_shapes(session, card, grid)
        return session, card

    def _card(self, session: Any) -> dict:
        meta = session.get_modelmeta().custom_metadata_map
        if CARD_KEY not in meta:
            raise ConfigError(
                f"{self.source}: expected an ONNX file written by grasp export (metadata"
                f" {CARD_KEY!r}), got metadata keys {sorted(meta)}"
            )
        try:
            card = json.loads(meta[CARD_KEY])
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{self.source}: unreadable model card: {exc}") from exc
        if not isinstance(card, dict) or not isinstance(card.get("model_config"), dict):
            raise ConfigError(f"{self.source}: expected a model card with a model_config")
        return card

    def _check_shapes(self, session: Any, card: dict, grid: GraspGrid) -> None:
        g = grid.image
        channels = card["model_config"]["in_channels"]
        fields = card["model_config"].items()
        try:
            config = ModelConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields})
        except (TypeError, ConfigError) as exc:
            raise ConfigError(f"{self.source}: unusable model_config in the card: {exc}") from exc
        check_config_fits_grid(config, grid, self.source)
        inputs, outputs = session.get_inputs(), session.get_outputs()
        if [i.name for i in inputs] != [INPUT_NAME] or [o.name for o in outputs] != [OUTPUT_NAME]:
            raise ConfigError(
                f"{self.source}: expected one input {INPUT_NAME!r} and one output"
                f" {OUTPUT_NAME!r}, got inputs {[i.name for i in inputs]} and outputs"
                f" {[o.name for o in outputs]}"
            )
        want_in = [g.rows, g.cols, channels]
        got_in = [_dim(d) for d in inputs[0].shape[1:]]
        if len(inputs[0].shape) != 4 or got_in != want_in:
            raise ConfigError(
                f"{self.source}: expected input shape (rotations, {g.rows}, {g.cols},"
                f" {channels}) for this grid's image, got {tuple(inputs[0].shape)}"
            )
        want_out = list(grid.shape[1:])
        got_out = [_dim(d) for d in outputs[0].shape[1:]]
        if len(outputs[0].shape) != 4 or got_out != want_out:
            raise ConfigError(
                f"{self.source}: expected output shape (rotations, {', '.join(map(str, want_out))})"
                f" for this grid, got {tuple(outputs[0].shape)}"
            )
        if inputs[0].type != "tensor(float)":
            raise ConfigError(f"{self.source}: expected a float32 input, got {inputs[0].type}")

    def forward(self, turned: np.ndarray) -> np.ndarray:
        """Logits of the turned images (rotations, H, W, C): (rotations, rows, cols, widths)."""
        return self._session.run([OUTPUT_NAME], {INPUT_NAME: turned})[0]


def read_onnx_card(path: str | os.PathLike) -> dict:
    """The model card stored in the ONNX file at ``path`` (needs the ``onnx`` package)."""
    onnx = _require("onnx")
    try:
        proto = onnx.load(os.fspath(path), load_external_data=False)
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise ConfigError(f"{path}: expected an ONNX model, got {exc}") from exc
    meta = {p.key: p.value for p in proto.metadata_props}
    if CARD_KEY not in meta:
        raise ConfigError(f"{path}: expected metadata {CARD_KEY!r}, got keys {sorted(meta)}")
    return json.loads(meta[CARD_KEY])


__all__ = [
    "CARD_KEY",
    "INPUT_NAME",
    "OUTPUT_NAME",
    "OnnxScorer",
    "export_onnx",
    "onnx_bytes",
    "read_onnx_card",
]
