"""The findings ledger: every framework defect the harness has found, as data, recognised on anyone's record.

Why a ledger: each defect used to live as a declaration on one built-in pair and a paragraph
in the README. A user whose correct port hits the same defect got a bare ``fail`` and was left
to suspect their port; nothing said, after an upgrade, which defects a release fixed. Here each
defect is one :class:`Defect`: the framework and the versions it was seen in, one sentence, a
standalone reproducer (``examples/findings/<id>.py``: exit 1 while present, 0 when fixed, 77
where it cannot run), the command that found it, expected against actual, and a
:class:`Signature` that a failing record can match.

How a match shows, and why it never hides anything: a record that fails (or errors) and
matches an entry *stays* ``fail`` (``error``), with the entry attached (``Record.findings``:
its id, sentence and reproducer) and named in the message. The user can then tell "the
framework is wrong here" from "my port is", and declares the defect on their pair
(:func:`declared`) if they accept it: a declaration is strict, so it fails once a release fixes
the defect. A signature only labels; a loose one can mislabel a divergence, never turn it green.
Signatures are narrow anyway: a float32-sized difference for the defects that are float32
rounding inside a float64 run, the layer or op that has the defect, the check, dtype and device.

``conform findings`` lists the ledger; ``--check`` runs every reproducer against the installed
versions; ``--report ID`` prints an upstream bug report. The gate compares two runs' checks.
"""

from __future__ import annotations

import contextlib
import math
import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from harness.results import Record
from harness.spec import DTYPES, MODES, KnownDivergence

__all__ = ["DEFECTS", "FINDINGS_FILE", "NOT_RUNNABLE", "Defect", "Evidence", "Signature", "check", "declared", "entry",
           "match", "report"]

NOT_RUNNABLE = 77  # a reproducer's exit status where it cannot run here (the test harnesses' "skipped")
FINDINGS_FILE = "findings.json"  # `conform findings --check --out DIR` writes it; the gate compares two
_VERDICT_LINES = ("bug present:", "fixed:", "not runnable here:")  # how a reproducer's last word begins
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Evidence:
    """What a failing record shows beyond its fields: the classes in both layers, the TF graph of a float64 call.

    Class names include every base class (a keras_hub ``CachedMultiHeadAttention`` is a
    ``MultiHeadAttention``); ``graph`` holds the op types and node names of the TF side's
    float64 trace where a signature asks for it.
    """

    torch_classes: frozenset[str] = frozenset()
    keras_classes: frozenset[str] = frozenset()
    modules: tuple[Any, ...] = ()
    graph: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Signature:
    """What a record must show to be this defect; every field given must hold.

    ``classes``: one of these torch module or Keras layer classes is in the pair. ``graph``: one
    of these op types or name scopes is in the TF side's float64 trace. ``float32_sized``: every
    failing tensor of the float64 record would pass the float32 tolerance (rounding, not a
    semantic slip), and ``float32_side`` names the side the harness's probe found computing in
    float32. ``sides``: a failing tensor compared these two (``("tf.function", "tf eager")``).
    ``message``: a regular expression the record's message matches. ``where``: anything
    further, on the built layers and modules. ``patch``: a context in which the framework runs
    without the defect; a match is *confirmed* when the record's case agrees inside it, and a
    case that still disagrees there is not this defect, whatever else the signature says (a
    user's own 1e-8 slip beside a defect of the same size is not labelled as the defect).
    """

    checks: tuple[str, ...]
    dtypes: tuple[str, ...] = DTYPES
    modes: tuple[str, ...] = MODES
    devices: tuple[str, ...] = ("cpu", "cuda")
    verdicts: tuple[str, ...] = ("fail",)
    classes: tuple[str, ...] = ()
    graph: tuple[str, ...] = ()
    float32_sized: bool = False
    float32_side: str | None = None
    sides: tuple[str, str] | None = None
    message: str | None = None
    where: Callable[[Evidence], bool] | None = None
    patch: Callable[[], contextlib.AbstractContextManager[None]] | None = None

    def admits(self, record: Record) -> bool:
        """What the record alone can tell: check, dtype, mode, device, verdict, message, the float64 probe."""
        oracle = record.oracle or {}
        failing = [m for m in record.metrics.values() if isinstance(m, dict) and not m.get("ok", True)]
        return (record.check in self.checks and record.dtype in self.dtypes and record.mode in self.modes
                and record.device.split(":", 1)[0] in self.devices and record.verdict in self.verdicts
                and (not self.float32_sized or bool(oracle.get("float32_sized")))
                and (self.float32_side is None or oracle.get("side") == self.float32_side)
                and (self.sides is None or any(tuple(m.get("sides") or ()) == self.sides for m in failing))
                and (self.message is None or re.search(self.message, record.message or "") is not None))

    def holds(self, found: Evidence) -> bool:
        return ((not self.classes or bool(set(self.classes) & (found.torch_classes | found.keras_classes)))
                and (not self.graph or any(g in node for g in self.graph for node in found.graph))
                and (self.where is None or bool(self.where(found))))


@dataclass(frozen=True)
class Defect:
    """One framework defect: what, where seen, how to reproduce it, and how to recognise it on a record."""

    id: str
    framework: str
    package: str
    seen: tuple[str, ...]
    summary: str
    found_by: str
    expected: str
    actual: str
    signature: Signature
    fixed_in: str | None = None
    upstream: str = "no report found"
    script: str | None = None
    args: tuple[str, ...] = ()

    @property
    def reproducer(self) -> str:
        """The script that reproduces it: its own under examples/findings/, or a shared one given ``args``."""
        return self.script or f"examples/findings/{self.id.replace('-', '_')}.py"

    @property
    def command(self) -> str:
        return " ".join(("python", self.reproducer, *self.args))

    @property
    def reason(self) -> str:
        """What a declaration or a skip says of it: the sentence, the entry and how to reproduce it."""
        return f"{self.summary} [ledger: {self.id}; reproduce: {self.command}]"

    def to_json(self, declared: bool = False, confirmed: bool | None = None) -> dict[str, Any]:
        """As a record lists it: ``declared`` by the pair, or matched (``confirmed`` where a patch removed it)."""
        return {"id": self.id, "framework": self.framework, "summary": self.summary, "reproducer": self.command,
                "declared": declared, "confirmed": confirmed}


@contextlib.contextmanager
def _replaced(owner: Any, name: str, make: Callable[[Any], Any]) -> Iterator[None]:
    original = getattr(owner, name)
    setattr(owner, name, make(original))
    try:
        yield
    finally:
        setattr(owner, name, original)


def _float64_only(exact: Callable[..., Any]) -> Callable[[Any], Any]:
    """Wrap a TF function so that its float64 calls compute ``exact`` and every other call is left alone."""
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def call(x: Any, *args: Any, **kwargs: Any) -> Any:
            return exact(x, *args, **kwargs) if getattr(x, "dtype", None) == "float64" else \
                original(x, *args, **kwargs)
        return call
    return make


def _gelu_in_float64() -> contextlib.AbstractContextManager[None]:
    """tf.nn.gelu with its constants in float64 (both forms): what it computes without the float32 casts."""
    import tensorflow as tf

    def gelu(x: Any, approximate: bool = False, name: Any = None) -> Any:
        if approximate:
            c = tf.constant(math.sqrt(2 / math.pi), tf.float64)
            return 0.5 * x * (1 + tf.tanh(c * (x + tf.constant(0.044715, tf.float64) * x ** 3)))
        return 0.5 * x * tf.math.erfc(-x * tf.constant(1 / math.sqrt(2), tf.float64))

    return _replaced(tf.nn, "gelu", _float64_only(gelu))


def _leaky_relu_in_float64() -> contextlib.AbstractContextManager[None]:
    import tensorflow as tf

    def leaky_relu(x: Any, alpha: float = 0.2, name: Any = None) -> Any:
        return tf.where(x >= 0, x, x * tf.constant(alpha, tf.float64))

    return _replaced(tf.nn, "leaky_relu", _float64_only(leaky_relu))


def _mha_scale_in_float64() -> contextlib.AbstractContextManager[None]:
    """Keras MultiHeadAttention with its scale a float64 number, which neither path rounds through float32."""
    import keras

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def compute(self: Any, *args: Any, **kwargs: Any) -> Any:
            self._inverse_sqrt_key_dim = np.float64(1.0) / np.sqrt(np.float64(self._key_dim))
            return original(self, *args, **kwargs)
        return compute

    return _replaced(keras.layers.MultiHeadAttention, "_compute_attention", make)


def _einsum_bias_column(found: Evidence) -> bool:
    """An EinsumDense whose bias is a (k, 1) column with k > 1: what keras.ops.add sends through bias_add."""
    return any(type(m).__name__ == "EinsumDense" and getattr(m, "bias", None) is not None
               and len(m.bias.shape) == 2 and m.bias.shape[-1] == 1 and m.bias.shape[0] > 1 for m in found.modules)


def _nearest_exact(found: Evidence) -> bool:
    return any(getattr(m, "mode", None) == "nearest-exact" for m in found.modules)


def _avg_pool_ceil(found: Evidence) -> bool:
    return any(getattr(m, "ceil_mode", False) and getattr(m, "count_include_pad", False) for m in found.modules)


def _bilinear(found: Evidence) -> bool:
    return any(getattr(m, "interpolation", None) == "bilinear" for m in found.modules)


_ROUNDING = {"dtypes": ("float64",), "float32_sized": True}
# A converter's defect shows as an ordinary difference of the backbone it converted, which a signature could not tell
# from a user's own converter slip: recognised only where a pair declares it (and re-checked by its script).
_DECLARED_ONLY = Signature(())
_CONVERTER_FINDINGS = "examples/keras_hub_converter_findings.py"
DEFECTS: tuple[Defect, ...] = (
    Defect(
        "tf-gelu-exact-float64", "tensorflow", "tensorflow", ("tensorflow 2.21.0",),
        "tf.nn.gelu(approximate=False), which keras Activation('gelu') calls, computes the exact GELU to about "
        "float32 accuracy in float64: up to 3.6e-7 relative off (torch: 4.7e-12)",
        "conform run --pairs atlas_gelu --checks forward --dtype float64",
        "0.5 x (1 + erf(x / sqrt(2))) to float64 accuracy", "3.6e-7 relative error over N(0, 1) inputs",
        Signature(("forward", "gradient", "train_step"), graph=("Gelu/Erf",), patch=_gelu_in_float64, **_ROUNDING)),
    Defect(
        "tf-gelu-tanh-float32-constant", "tensorflow", "tensorflow", ("tensorflow 2.21.0",),
        "tf.nn.gelu(approximate=True) casts its 0.044715 coefficient through float32 in a float64 call "
        "(nn_ops.py: math_ops.cast(0.044715, dtype))",
        "conform run --pairs-from examples/hf_bert.py --pairs bert_backbone --dtype float64",
        "tanh GELU with 0.044715 in float64", "8.8e-10 off the float64 formula at x = 2 (9.0e-10 at most, x = 1.84)",
        Signature(("forward", "gradient", "train_step"), graph=("Gelu/Tanh",), float32_side="tf",
                  patch=_gelu_in_float64, **_ROUNDING)),
    Defect(
        "tf-image-resize-float64", "tensorflow", "tensorflow", ("tensorflow 2.21.0",),
        "tf.image.resize (bilinear, bicubic) computes in float32 for a float64 image and Keras casts the result "
        "back: Resizing and UpSampling2D(interpolation='bilinear') carry float32 rounding in a float64 run",
        "conform run --pairs atlas_upsample_bilinear --checks forward --dtype float64",
        "a float64 resize", "1.4e-7 off (5x5x2 N(0, 1) image upsampled x2)",
        Signature(("forward", "gradient", "train_step"), graph=("ResizeBilinear", "ResizeBicubic", "ResizeArea",
                                                                "ScaleAndTranslate"), **_ROUNDING)),
    Defect(
        "keras-mha-scale-float32", "keras", "keras", ("keras 3.15.1",),
        "Keras's TF backend rounds MultiHeadAttention's scale 1/sqrt(key_dim) through float32 (tf.cast of a "
        "Python float), so float64 attention is off by about 1e-8 (not where key_dim is a power of 4: the "
        "scale is then exact in float32)",
        "conform run --pairs atlas_multihead_attention --dtype float64",
        "1/sqrt(key_dim) in float64", "outputs and gradients 1.3e-7 off at most (8.9e-15 with the scale in float64)",
        Signature(("forward", "gradient", "train_step"), classes=("MultiHeadAttention",), float32_side="tf",
                  patch=_mha_scale_in_float64, **_ROUNDING)),
    Defect(
        "keras-sequential-dtype-reload", "keras", "keras", ("keras 3.15.1",),
        "Keras's Sequential.from_config (and .keras loading) drops the Sequential's own dtype policy: a float64 "
        "Sequential comes back float32 while its layers keep float64",
        "conform run --pairs atlas_batch_norm2d --checks serialization --dtype float64",
        "a reloaded Sequential keeps dtype float64", "its config says float32 (outputs and weights identical)",
        Signature(("serialization",), dtypes=("float64",), classes=("Sequential",),
                  message=r"dtype: .*float64.*-> .*float32")),
    Defect(
        "torch-inductor-conv3d-dynamic-backward", "torch", "torch", ("torch 2.13.0",),
        "torch's Inductor cannot compile Conv3d's backward once a second input shape makes the graph dynamic: "
        "LoweringException ValueRangeError 'Invalid ranges [0:-1]' in aten.convolution_backward",
        "conform run --pairs atlas_conv3d --checks gradient --modes graph",
        "a compiled backward at the second shape", "LoweringException",
        Signature(("gradient", "forward"), modes=("graph",), verdicts=("error",), classes=("Conv3d",),
                  message=r"LoweringException|Invalid ranges")),
    Defect(
        "torch-inductor-conv2d-dynamic-stride", "torch", "torch", ("torch 2.13.0",),
        "torch's Inductor compiles a Conv2d backward with dynamic sizes that asserts the saved input's stride of the "
        "first shape it compiled at (a constant where the symbolic height belongs): 'expected size 2==2, stride "
        "64==96' at the next height",
        "conform run --pairs-from tests/builtin_pairs.py --pairs builtin_conv2d_valid_stride2 --checks gradient "
        "--modes graph",
        "a compiled backward at every shape the dynamic graph admits", "AssertionError in assert_size_stride",
        Signature(("gradient", "train_step"), modes=("graph",), verdicts=("error",), classes=("Conv2d",),
                  message=r"assert_size_stride|expected size \d+==\d+, stride \d+==\d+")),
    Defect(
        "torch-inductor-avg-pool-ceil-backward", "torch", "torch", ("torch 2.13.0",),
        "torch's Inductor divides the gradient of an AvgPool window that ceil_mode hangs over the input's end by the "
        "full kernel, where eager (and the forward) divide by the cells it covers: AvgPool1d(2, ceil_mode=True) at "
        "length 3 gives [0.5, 0.5, 0.5] for eager's [0.5, 0.5, 1.0]",
        "conform run --pairs atlas_avg_pool1d_ceil --checks gradient --modes graph",
        "the eager gradient", "the overhanging window's cells' gradient divided by the kernel size",
        Signature(("gradient", "train_step"), modes=("graph",), classes=("AvgPool1d", "AvgPool2d", "AvgPool3d"),
                  sides=("torch.compile", "torch eager"), where=_avg_pool_ceil),
        upstream="pytorch/pytorch#198119 (open)"),
    Defect(
        "torch-inductor-max-pool2d-dynamic-backward", "torch", "torch", ("torch 2.13.0",),
        "torch's Inductor compiles a MaxPool2d backward with a dynamic height that indexes out of bounds: "
        "MaxPool2d(5, stride=1, padding=2) at (1, 1, 1, 1), then (1, 1, 2, 1), raises 'index out of bounds' in the "
        "backward (the forward matches eager)",
        "conform run --pairs atlas_max_pool2d_same --checks gradient --modes graph",
        "a compiled backward at every shape the dynamic graph admits", "RuntimeError: index out of bounds",
        Signature(("gradient", "train_step"), modes=("graph",), verdicts=("error",), classes=("MaxPool2d",),
                  message=r"index out of bounds|out of bounds for dimension")),
    Defect(
        "xla-sqrt-grad-zero", "tensorflow", "tensorflow", ("tensorflow 2.21.0",),
        "XLA's SqrtGrad (and RsqrtGrad) return NaN where TF's kernels return 0, at a zero upstream gradient: "
        "x_c / (sqrt(var) + eps) over a constant row has a finite gradient in eager TF and torch, NaN under "
        "tf.function(jit_compile=True)",
        "conform run --pairs layer_norm_002 --checks gradient --modes graph",
        "SqrtGrad(y=0, dy=0) = 0, as TF's kernel", "NaN",
        Signature(("gradient", "train_step"), modes=("graph",), sides=("tf.function", "tf eager"),
                  graph=("Sqrt", "Rsqrt"), message=r"non-finite output from finite inputs \(tf\.function"),
        upstream="closest: tensorflow/tensorflow#118674 (open: XLA's gradient of tf.where leaks sqrt'(0)); "
                 "SqrtGrad at dy = 0 not reported"),
    Defect(
        "torch-inductor-cache-cpu-capability", "torch", "torch", ("torch 2.13.0",),
        "torch's Inductor reuses CPU kernels compiled for another ATen CPU capability: its cache key misses "
        "ATEN_CPU_CAPABILITY, so a process at the default capability gets AVX-512 kernel source it cannot compile "
        "('at::vec' has not been declared)",
        "conform robust --configs default-1t (graph-mode records, after a run at the machine's own capability)",
        "each capability compiles its own kernels", "CppCompileError in the second process",
        Signature(("forward", "gradient", "state"), modes=("graph",), verdicts=("error",),
                  message=r"CppCompileError|'at::vec' has not been declared")),
    Defect(
        "keras-hub-image-input-float32", "keras-hub", "keras-hub", ("keras-hub 0.32.0",),
        "keras_hub's vision backbones (ResNet, VGG, DenseNet, ViT, DeiT, DINOv2, MiT) declare their image Input "
        "without a dtype, so a float64 model rounds every image to float32 on entry",
        "conform run --pairs-from examples/hf_resnet.py --dtype float64",
        "a float64 input under a float64 dtype policy", "inputs[0].dtype == 'float32'",
        Signature(("forward", "gradient"), classes=("ResNetBackbone", "VGGBackbone", "DenseNetBackbone", "ViTBackbone",
                                                    "DeiTBackbone", "DINOV2Backbone", "MiTBackbone"), **_ROUNDING)),
    Defect(
        "tf-leaky-relu-alpha-float32", "tensorflow", "tensorflow", ("tensorflow 2.21.0",),
        "TF's LeakyRelu op keeps its slope as a 32-bit float attribute, so a float64 LeakyReLU(0.01) multiplies "
        "by 0.009999999776482582",
        "conform run --pairs-from tests/precision_pairs.py --dtype float64",
        "x * 0.01 in float64", "x * 0.009999999776482582",
        Signature(("forward", "gradient", "train_step"), graph=("LeakyRelu",), float32_side="tf",
                  patch=_leaky_relu_in_float64, **_ROUNDING)),
    Defect(
        "xla-float64-bilinear-gradient", "tensorflow", "tensorflow", ("tensorflow 2.21.0",),
        "XLA's gradient of a float64 bilinear upsampling returns values unrelated to the eager gradient "
        "(uninitialised memory) under tf.function(jit_compile=True)",
        "conform run --pairs atlas_upsample_bilinear --checks gradient --modes graph --dtype float64",
        "the eager gradient", "different values from run to run",
        Signature(("gradient",), dtypes=("float64",), modes=("graph",), sides=("tf.function", "tf eager"),
                  classes=("UpSampling2D", "Resizing"), where=_bilinear)),
    Defect(
        "keras-ops-add-broadcast", "keras", "keras", ("keras 3.15.1",),
        "keras.ops.add on the TF backend sends a (k, 1) operand through tf.nn.bias_add when k is the other "
        "operand's axis 1 or -1, adding it along the wrong axis: an EinsumDense (heads, 1) bias lands on the "
        "sequence axis when seq == heads",
        "conform run --pairs-from examples/hf_bert.py --pairs bert_keras_add_bias",
        "NumPy broadcasting (the (k, 1) operand along the last two axes)", "the operand added along axis 1",
        Signature(("forward", "gradient", "train_step"), classes=("EinsumDense",), where=_einsum_bias_column)),
    *(Defect(f"keras-hub-{name.replace('_', '-')}", "keras-hub", "keras-hub", ("keras-hub 0.32.0",), summary,
             f"conform run --pairs-from examples/keras_hub_converters.py --pairs {pair}", expected, actual,
             _DECLARED_ONLY, script=_CONVERTER_FINDINGS, args=(name,))
      for name, pair, summary, expected, actual in (
          ("bert_gelu", "bert_gelu", "keras_hub's BERT converter ignores hidden_act and BertBackbone computes the "
           "tanh GELU: released BERTs' exact GELU becomes the tanh one", "the checkpoint's GELU", "tanh GELU"),
          ("roberta_token_type", "roberta_token_type", "keras_hub's RoBERTa converter drops "
           "roberta.embeddings.token_type_embeddings (zero in releases, learned in fine-tuned checkpoints)",
           "the token-type row added to every token", "dropped"),
          ("roberta_norm_eps", "roberta_norm_eps", "keras_hub's RobertaBackbone hard-codes layer norm epsilon 1e-5 "
           "and the converter ignores layer_norm_eps", "the checkpoint's epsilon", "1e-5"),
          ("llama3_norm_eps", "llama3_norm_eps", "keras_hub's Llama 3 converter does not carry rms_norm_eps over "
           "(1e-6 kept where Llama 3 uses 1e-5)", "the checkpoint's epsilon", "1e-6"),
          ("llama3_rope_scaling", "llama3_rope_scaling", "keras_hub's Llama 3 converter reads rope_scaling, which "
           "transformers 5 writes as rope_parameters: a Llama 3.1+ checkpoint loses its rope scaling",
           "the checkpoint's rope scaling", "none"),
          ("mistral_float16", "mistral_float16", "keras_hub's Mistral converter rounds every weight through float16 "
           "whatever the dtype", "the checkpoint's weights", "float16-rounded weights"),
          ("qwen3_qk_norm_eps", "qwen3_qk_norm_eps", "keras_hub's Qwen3 builds its query and key norms with epsilon "
           "1e-5 whatever the checkpoint's rms_norm_eps", "the checkpoint's epsilon", "1e-5"),
          ("gemma_config", "gemma_config", "keras_hub's Gemma converter drops rms_norm_eps and its attention "
           "hard-codes the rope wavelength 10000", "the checkpoint's epsilon and rope theta", "1e-6 and 10000"),
          ("vit_norm_eps", "vit_norm_eps", "keras_hub's ViT converter does not carry layer_norm_eps over (1e-6 kept "
           "where ViT uses 1e-12)", "the checkpoint's epsilon", "1e-6"),
          ("rms_norm_float32", "llama3", "transformers' and keras_hub's RMS norms (and keras_hub's rotary "
           "embeddings) compute in float32 inside a float64 model, at different places", "float64 throughout",
           "float32 rounding, 1e-8..1e-6"))),
    Defect(
        "torch-nearest-exact-cuda-backward", "torch", "torch", ("torch 2.11.0+cu130",),
        "torch's CUDA backward of interpolate(mode='nearest-exact') when downsampling sends the gradient to "
        "another cell than its forward reads (6 -> 1: CPU cell 3, CUDA cell 2; also 10 -> 1, 12 -> 1, 12 -> 2)",
        "conform run --device cuda --pairs atlas_upsample_size_nearest_exact --checks gradient",
        "the gradient on the cell the forward read", "on a neighbouring cell",
        Signature(("gradient", "train_step"), devices=("cuda",), classes=("Upsample",), where=_nearest_exact),
        upstream="closest: pytorch/pytorch#38985 and #51036 (mode='nearest', fixed), #97135 (open); nearest-exact "
                 "not reported"),
)

_BY_ID = {d.id: d for d in DEFECTS}


def entry(defect_id: str) -> Defect:
    try:
        return _BY_ID[defect_id]
    except KeyError:
        raise ValueError(f"no ledger entry {defect_id!r}; known: {sorted(_BY_ID)}") from None


def declared(defect_id: str, check: str, **scope: Any) -> KnownDivergence:
    """A pair's declaration of a ledger defect: its reason is the entry's sentence and reproducer."""
    return KnownDivergence(check, reason=entry(defect_id).reason, finding=defect_id, **scope)


def match(record: Record, found: Callable[[bool], Evidence]) -> list[Defect]:
    """The entries a record matches; ``found(needs_graph)`` builds the evidence once, only if the record admits one."""
    admitted = [d for d in DEFECTS if d.signature.admits(record)]
    if not admitted:
        return []
    seen = found(any(d.signature.graph for d in admitted))
    return [d for d in admitted if d.signature.holds(seen)]


def _version(package: str) -> str | None:
    names = ("tensorflow-cpu", "tensorflow") if package == "tensorflow" else (package,)
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def check(defects: Iterable[Defect] = DEFECTS, timeout: float = 300) -> list[dict[str, Any]]:
    """Run every reproducer here: present (exit 1), fixed (0), not runnable (77, or the framework missing)."""
    out = []
    for d in defects:
        version = _version(d.package)
        try:
            done = subprocess.run([sys.executable, str(ROOT / d.reproducer), *d.args], capture_output=True, text=True,
                                  timeout=timeout, cwd=ROOT, check=False)
            code, lines = done.returncode, done.stdout.splitlines()
            # the verdict line; a framework's own log lines (TF prints some to stderr whatever is asked) are not it
            last = next((x for x in reversed(lines) if x.startswith(_VERDICT_LINES)),
                        (done.stderr.strip().splitlines() or [""])[-1])
        except subprocess.TimeoutExpired:
            code, last = None, f"no answer in {timeout:g} s"
        status = {1: "present", 0: "fixed", NOT_RUNNABLE: "not runnable here"}.get(code, "reproducer broken")
        out.append({"id": d.id, "framework": d.framework, "version": version, "status": status, "exit": code,
                    "detail": last, "back": status == "present" and d.fixed_in is not None})
    return out


def report(defect_id: str, environment: Mapping[str, Any]) -> str:
    """An upstream bug report in the trackers' usual shape: title, versions, reproducer, expected, actual."""
    d = entry(defect_id)
    script = (ROOT / d.reproducer).read_text(encoding="utf-8")
    versions = "\n".join(f"- {k}: {v}" for k, v in environment.items())
    return (f"## {d.summary}\n\n### Versions\n{versions}\n- seen in: {', '.join(d.seen)}\n\n### Reproducer\n"
            f"Standalone (`{d.command}`; exits 1 while the bug is present):\n\n```python\n{script.rstrip()}\n```\n\n"
            f"### Expected\n{d.expected}\n\n### Actual\n{d.actual}\n\n### How it was found\nA cross-framework "
            f"conformance harness (torch against Keras on the same weights and inputs): `{d.found_by}`\n\n"
            f"### Related\n{d.upstream}\n")
